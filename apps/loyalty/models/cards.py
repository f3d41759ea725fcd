"""Member cards (LOY-4): the card that identifies a member and opens the wallet, in every location."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class CardType(models.TextChoices):
    PHYSICAL = "physical", _("Physical card")
    VIRTUAL = "virtual", _("Electronic card")


class CardStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    FROZEN = "frozen", _("Frozen")
    LOST = "lost", _("Reported lost")
    REPLACED = "replaced", _("Replaced")
    CANCELLED = "cancelled", _("Cancelled")


# A client holds at most one card that is still theirs to use or recover.
CURRENT = [CardStatus.ACTIVE, CardStatus.FROZEN, CardStatus.LOST]


class MemberCard(models.Model):
    id = models.BigAutoField(primary_key=True)
    client = models.ForeignKey("crm.Client", on_delete=models.PROTECT, related_name="member_cards")
    number = models.CharField(_("card number"), max_length=32)
    card_type = models.CharField(_("card type"), max_length=10, choices=CardType.choices, default=CardType.PHYSICAL)
    status = models.CharField(_("status"), max_length=10, choices=CardStatus.choices, default=CardStatus.ACTIVE)
    issued_at = models.DateTimeField(_("issued"), auto_now_add=True)
    expires_on = models.DateField(_("expires on"), null=True, blank=True)
    status_changed_at = models.DateTimeField(_("status changed"), null=True, blank=True)
    status_reason = models.CharField(_("reason"), max_length=200, blank=True)
    replaced_by = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="replaces", verbose_name=_("replaced by")
    )
    issued_by = models.ForeignKey("core.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("member card")
        verbose_name_plural = _("member cards")
        ordering = ["-id"]
        constraints = [
            # Numbers are stored upper-case without spaces (the services normalise them) and never reused.
            models.UniqueConstraint("number", name="member_card_number_unique"),
            # Spelled as ORs, not IN: PostgreSQL prints an IN list over a varchar column in a form that reads
            # back differently, and new salon schemas are replayed from pg_dump (tenants' template script).
            models.UniqueConstraint(
                "client",
                condition=Q(status=CardStatus.ACTIVE) | Q(status=CardStatus.FROZEN) | Q(status=CardStatus.LOST),
                name="member_card_one_current",
            ),
            models.CheckConstraint(condition=Q(status__in=[s.value for s in CardStatus]), name="member_card_status"),
            models.CheckConstraint(condition=Q(number__regex=r"^[0-9A-Z-]{4,32}$"), name="member_card_number_format"),
            models.CheckConstraint(
                condition=Q(replaced_by__isnull=True) | Q(status=CardStatus.REPLACED), name="member_card_replaced"
            ),
        ]

    def __str__(self) -> str:
        return self.number
