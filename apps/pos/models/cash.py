"""Cash sessions (POS-5, 收银交班): the drawer of one location from opening with a float to the handover,
when the cashier counts it and the difference to what should be there is kept.

Only one session is open per location at a time (a partial unique index, so two tills opening at once
cannot both succeed). Money put in or taken out of the drawer for anything but a sale is a ``CashMovement``
(append-only: a mistake is corrected with another movement). At closing, what each tender should have
taken and what was counted is kept per tender in ``CashSessionTally``.
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.pos.models.tenders import TenderMethod


class CashSessionStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


class CashSession(models.Model):
    """A cashier's session at one location's drawer. Closed, it holds what cash was expected (the float,
    plus cash taken, less cash refunded, plus pay-ins, less pay-outs), what was counted, and the difference
    (counted − expected: negative is cash missing)."""

    id = models.BigAutoField(primary_key=True)
    location = models.ForeignKey(
        "core.Location", on_delete=models.PROTECT, related_name="cash_sessions", verbose_name=_("location")
    )
    status = models.CharField(
        _("status"), max_length=10, choices=CashSessionStatus.choices, default=CashSessionStatus.OPEN
    )
    opening_float = models.BigIntegerField(_("float"), help_text=_("Cash in the drawer at the start."))
    opened_by = models.ForeignKey("core.User", on_delete=models.PROTECT, related_name="+", verbose_name=_("cashier"))
    opened_at = models.DateTimeField(_("opened"), default=timezone.now)
    opening_note = models.CharField(_("note"), max_length=200, blank=True)
    closed_by = models.ForeignKey(
        "core.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("closed by")
    )
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    expected_cash = models.BigIntegerField(_("expected cash"), null=True, blank=True)
    counted_cash = models.BigIntegerField(_("counted cash"), null=True, blank=True)
    cash_difference = models.BigIntegerField(_("difference"), null=True, blank=True)
    closing_note = models.CharField(_("closing note"), max_length=200, blank=True)
    idempotency_key = models.CharField(max_length=120, null=True, blank=True, unique=True)

    # Not stored: set on a session the services return for a repeated request (nothing new was written).
    is_replay = False

    class Meta:
        verbose_name = _("cash session")
        verbose_name_plural = _("cash sessions")
        ordering = ["-opened_at", "-id"]
        constraints = [
            # One open drawer per location: the second till to open gets a clear refusal, not a second session.
            models.UniqueConstraint(
                fields=["location"], condition=Q(status="open"), name="cash_session_one_open_per_location"
            ),
            models.CheckConstraint(condition=Q(status__in=["open", "closed"]), name="cash_session_status_valid"),
            models.CheckConstraint(condition=Q(opening_float__gte=0), name="cash_session_float_not_negative"),
            models.CheckConstraint(
                condition=(
                    Q(
                        status="open",
                        closed_at__isnull=True,
                        closed_by__isnull=True,
                        expected_cash__isnull=True,
                        counted_cash__isnull=True,
                        cash_difference__isnull=True,
                    )
                    | Q(
                        status="closed",
                        closed_at__isnull=False,
                        expected_cash__isnull=False,
                        counted_cash__gte=0,
                        cash_difference=F("counted_cash") - F("expected_cash"),
                    )
                ),
                name="cash_session_closing_figures",
            ),
            models.CheckConstraint(
                condition=Q(closed_at__isnull=True) | Q(closed_at__gte=F("opened_at")),
                name="cash_session_closed_after_opened",
            ),
        ]
        indexes = [models.Index(fields=["location", "-opened_at"], name="cash_session_location_idx")]

    def __str__(self) -> str:
        return f"{self.location_id} {self.opened_at:%Y-%m-%d %H:%M}"


class CashMovementKind(models.TextChoices):
    PAY_IN = "pay_in", _("Pay-in")
    PAY_OUT = "pay_out", _("Pay-out")


class CashMovement(models.Model):
    """Cash put into the drawer (change from the bank) or taken out (buying supplies, banking the takings)
    during a session, with the reason. Append-only: PostgreSQL refuses to change or delete one."""

    id = models.BigAutoField(primary_key=True)
    session = models.ForeignKey(CashSession, on_delete=models.PROTECT, related_name="movements")
    kind = models.CharField(_("kind"), max_length=10, choices=CashMovementKind.choices)
    amount = models.BigIntegerField(_("amount"))
    reason = models.CharField(_("reason"), max_length=200)
    created_by = models.ForeignKey("core.User", on_delete=models.PROTECT, related_name="+", verbose_name=_("by"))
    created_at = models.DateTimeField(_("time"), default=timezone.now)
    idempotency_key = models.CharField(max_length=120, null=True, blank=True, unique=True)

    is_replay = False

    class Meta:
        verbose_name = _("cash movement")
        verbose_name_plural = _("cash movements")
        ordering = ["session", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=["pay_in", "pay_out"]), name="cash_movement_kind_valid"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="cash_movement_amount_positive"),
            models.CheckConstraint(condition=~Q(reason=""), name="cash_movement_has_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount}"

    @property
    def signed_amount(self) -> int:
        return self.amount if self.kind == CashMovementKind.PAY_IN else -self.amount


class CashSessionTally(models.Model):
    """At closing, one tender's figures for the session: what it took (``taken``, ``count`` payments), what
    was refunded to it, what is expected (for cash: with the float and the movements) and — if the cashier
    counted it (cash always; card-terminal slips or the WeChat/Alipay statement optionally) — the count and
    the difference."""

    id = models.BigAutoField(primary_key=True)
    session = models.ForeignKey(CashSession, on_delete=models.CASCADE, related_name="tallies")
    method = models.CharField(_("method"), max_length=20, choices=TenderMethod.choices)
    count = models.PositiveIntegerField(_("payments"), default=0)
    taken = models.BigIntegerField(_("taken"), default=0)
    refunded = models.BigIntegerField(_("refunded"), default=0)
    expected = models.BigIntegerField(_("expected"))
    counted = models.BigIntegerField(_("counted"), null=True, blank=True)
    difference = models.BigIntegerField(_("difference"), null=True, blank=True)

    class Meta:
        verbose_name = _("closing count")
        verbose_name_plural = _("closing counts")
        ordering = ["session", "id"]
        constraints = [
            models.UniqueConstraint(fields=["session", "method"], name="cash_tally_one_per_method"),
            models.CheckConstraint(condition=Q(taken__gte=0) & Q(refunded__gte=0), name="cash_tally_amounts"),
            models.CheckConstraint(
                condition=Q(counted__isnull=True, difference__isnull=True)
                | Q(counted__gte=0, difference=F("counted") - F("expected")),
                name="cash_tally_difference",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.session_id} {self.method}"
