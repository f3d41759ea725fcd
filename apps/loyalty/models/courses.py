"""Course cards a client holds (LOY-5): sold from catalogue templates, sessions left per service. A
package card is the same card made from a package's services (CAT-3) when the package is paid at the till."""

from __future__ import annotations

import datetime

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from apps.core.db import salon_today


class CourseCardStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    USED_UP = "used_up", _("Used up")
    VOIDED = "voided", _("Voided")


class CourseCard(models.Model):
    id = models.BigAutoField(primary_key=True)
    client = models.ForeignKey("crm.Client", on_delete=models.PROTECT, related_name="course_cards")
    # Made from a course-card template, or from the services of a package sold at the till: one of the two.
    template = models.ForeignKey(
        "catalog.CourseCardTemplate", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    package = models.ForeignKey("catalog.Package", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("name"), max_length=100)
    price = models.BigIntegerField(_("price paid (fen)"))
    sold_at = models.DateTimeField(_("sold"), auto_now_add=True)
    # Empty: never expires (a package without a validity).
    expires_on = models.DateField(_("valid until"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=CourseCardStatus.choices, default=CourseCardStatus.ACTIVE
    )
    reference = models.CharField(_("reference"), max_length=100, blank=True, help_text="The sale, e.g. bill:123")
    idempotency_key = models.CharField(max_length=100)
    sold_by = models.ForeignKey("core.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("course card")
        verbose_name_plural = _("course cards")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint("idempotency_key", name="course_card_idempotency_unique"),
            models.CheckConstraint(condition=Q(price__gte=0), name="course_card_price_not_negative"),
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in CourseCardStatus]), name="course_card_status_valid"
            ),
            models.CheckConstraint(
                condition=(Q(template__isnull=False) & Q(package__isnull=True))
                | (Q(template__isnull=True) & Q(package__isnull=False)),
                name="course_card_template_xor_package",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def is_expired_on(self, day: datetime.date) -> bool:
        """Past its last valid day on ``day``; a card without an expiry never is."""
        return self.expires_on is not None and self.expires_on < day

    @property
    def is_expired(self) -> bool:
        return self.is_expired_on(salon_today())


class CourseCardBalance(models.Model):
    id = models.BigAutoField(primary_key=True)
    card = models.ForeignKey(CourseCard, on_delete=models.CASCADE, related_name="balances")
    service = models.ForeignKey("catalog.Service", on_delete=models.PROTECT, related_name="+")
    sessions_total = models.PositiveIntegerField(_("sessions bought"))
    sessions_left = models.PositiveIntegerField(_("sessions left"))

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint("card", "service", name="course_balance_unique"),
            models.CheckConstraint(
                condition=Q(sessions_left__gte=0) & Q(sessions_left__lte=F("sessions_total")),
                name="course_balance_left_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service_id}: {self.sessions_left}/{self.sessions_total}"


class CourseRedemption(models.Model):
    """One session used (``sessions`` 1) or given back (−1). Append-only; replays of the same key are no-ops."""

    id = models.BigAutoField(primary_key=True)
    card = models.ForeignKey(CourseCard, on_delete=models.PROTECT, related_name="redemptions")
    balance = models.ForeignKey(CourseCardBalance, on_delete=models.PROTECT, related_name="redemptions")
    sessions = models.IntegerField(_("sessions"))
    sessions_left_after = models.PositiveIntegerField(_("sessions left after"))
    staff = models.ForeignKey(
        "core.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("staff")
    )
    location = models.ForeignKey("core.Location", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    idempotency_key = models.CharField(max_length=100)
    reverses = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversal")
    actor = models.ForeignKey("core.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("course session")
        verbose_name_plural = _("course sessions")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint("idempotency_key", name="course_redemption_idempotency_unique"),
            models.CheckConstraint(condition=Q(sessions__in=[1, -1]), name="course_redemption_one_session"),
        ]

    def __str__(self) -> str:
        return f"{self.card_id} {self.sessions}"
