"""The salon's booking settings: one row per salon schema (id 1, created by migration)."""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

SLOT_STEPS = (5, 10, 15, 20, 30, 60)


def default_reminder_offsets() -> list[int]:
    return [24 * 60, 2 * 60]


class SchedulingSettings(models.Model):
    """How the salon takes bookings (SCH-4, SCH-5, SCH-8, SCH-9, SCH-11, SCH-14)."""

    id = models.BigIntegerField(primary_key=True, default=1, editable=False)
    slot_step_minutes = models.PositiveSmallIntegerField(
        _("slot grid (minutes)"),
        default=15,
        choices=[(s, s) for s in SLOT_STEPS],
        help_text=_("Bookable start times are this many minutes apart."),
    )
    online_min_notice_minutes = models.PositiveIntegerField(
        _("online bookings at least (minutes ahead)"),
        default=60,
        help_text=_("Clients booking online cannot take a slot that starts sooner than this."),
    )
    online_max_days_ahead = models.PositiveSmallIntegerField(_("online bookings at most (days ahead)"), default=60)
    cancellation_window_hours = models.PositiveSmallIntegerField(
        _("clients may cancel or move until (hours before)"),
        default=12,
        help_text=_("Later than this, clients must call the salon; a later cancellation counts as late."),
    )
    reminder_offsets_minutes = ArrayField(
        models.PositiveIntegerField(),
        verbose_name=_("reminders before the visit (minutes)"),
        default=default_reminder_offsets,
        size=5,
        blank=True,
    )
    remind_staff = models.BooleanField(_("remind the technician too"), default=True)
    risky_no_show_count = models.PositiveSmallIntegerField(
        _("deposit required after this many no-shows"),
        default=2,
        help_text=_("0: no-show history never requires a deposit."),
    )
    risky_deposit_amount = models.BigIntegerField(
        _("deposit for risky clients (fen)"),
        default=5000,
        help_text=_("Taken when a client's no-show history requires a deposit and the service asks for less."),
    )
    no_show_forfeits_deposit = models.BooleanField(_("a no-show forfeits the deposit"), default=True)
    late_cancel_forfeits_deposit = models.BooleanField(_("a late cancellation forfeits the deposit"), default=False)
    waitlist_offer_minutes = models.PositiveSmallIntegerField(_("waitlist offers stay open (minutes)"), default=30)
    rotation_requested_keeps_turn = models.BooleanField(
        _("a requested (点钟) service keeps the technician's turn"),
        default=True,
        help_text=_("Off: serving a client who asked for the technician also sends them to the back of the rotation."),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("booking settings")
        verbose_name_plural = _("booking settings")
        constraints = [
            models.CheckConstraint(condition=Q(id=1), name="scheduling_settings_single_row"),
            models.CheckConstraint(condition=Q(slot_step_minutes__in=SLOT_STEPS), name="scheduling_slot_step_valid"),
            models.CheckConstraint(
                condition=Q(risky_deposit_amount__gte=0), name="scheduling_risky_deposit_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(waitlist_offer_minutes__gte=1), name="scheduling_offer_minutes_positive"
            ),
        ]

    def __str__(self) -> str:
        return str(self._meta.verbose_name)
