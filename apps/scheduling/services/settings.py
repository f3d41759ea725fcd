"""The salon's booking settings (SCH-4, SCH-5, SCH-8, SCH-9, SCH-11, SCH-14): changed only here."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from apps.core.models import User
from apps.core.money import MAX_AMOUNT
from apps.core.services import audit_record
from apps.scheduling.errors import SchedulingError, scheduling_error
from apps.scheduling.models import SchedulingSettings
from apps.scheduling.models.settings import SLOT_STEPS
from apps.scheduling.selectors.settings import scheduling_settings

__all__ = ["REMINDERS_MAX", "REMINDER_MINUTES_MAX", "scheduling_settings", "scheduling_settings_update"]

REMINDERS_MAX = 5
REMINDER_MINUTES_MAX = 7 * 24 * 60

# field -> (lowest, highest) for whole numbers
_WHOLE: dict[str, tuple[int, int]] = {
    "online_min_notice_minutes": (0, 30 * 24 * 60),
    "online_max_days_ahead": (1, 365),
    "cancellation_window_hours": (0, 30 * 24),
    "risky_no_show_count": (0, 100),
    "risky_deposit_amount": (0, MAX_AMOUNT),
    "waitlist_offer_minutes": (1, 24 * 60),
}
_FLAGS = {
    "remind_staff",
    "no_show_forfeits_deposit",
    "late_cancel_forfeits_deposit",
    "rotation_requested_keeps_turn",
}


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _reminders(value: Any) -> list[int]:
    field = "reminder_offsets_minutes"
    if not isinstance(value, list | tuple) or any(not _whole(v) for v in value):
        raise scheduling_error(SchedulingError.INVALID, field=field)
    if len(value) > REMINDERS_MAX:
        raise scheduling_error(SchedulingError.INVALID, field=field, message=_("Set at most five reminders."))
    if any(not 1 <= v <= REMINDER_MINUTES_MAX for v in value):
        raise scheduling_error(
            SchedulingError.INVALID,
            field=field,
            message=_("A reminder goes from 1 minute to 7 days (10080 minutes) before the visit."),
        )
    if len(set(value)) != len(value):
        raise scheduling_error(SchedulingError.INVALID, field=field, message=_("Enter each reminder time only once."))
    return sorted(value, reverse=True)


@transaction.atomic
def scheduling_settings_update(*, acting_user: User | None, **fields: Any) -> SchedulingSettings:
    """Change the salon's booking settings; only the fields given change. Audited with old → new values.
    The slot grid is one of SLOT_STEPS; reminders are at most five distinct offsets of 1 minute to 7 days,
    kept from the earliest to the latest."""
    scheduling_settings()  # the row exists from here on, so the lock below always takes it
    row = SchedulingSettings.objects.select_for_update().get(id=1)
    changes: dict[str, list[Any]] = {}
    for field, value in fields.items():
        if field == "slot_step_minutes":
            if not _whole(value) or value not in SLOT_STEPS:
                raise scheduling_error(
                    SchedulingError.INVALID,
                    field=field,
                    message=_("Choose one of %(steps)s minutes.") % {"steps": ", ".join(map(str, SLOT_STEPS))},
                )
        elif field in _WHOLE:
            low, high = _WHOLE[field]
            if not _whole(value) or not low <= value <= high:
                raise scheduling_error(
                    SchedulingError.INVALID,
                    field=field,
                    message=_("Enter a whole number from %(low)s to %(high)s.") % {"low": low, "high": high},
                )
        elif field == "reminder_offsets_minutes":
            value = _reminders(value)
        elif field in _FLAGS:
            if not isinstance(value, bool):
                raise scheduling_error(SchedulingError.INVALID, field=field)
        else:
            raise TypeError(f"unknown booking setting {field!r}")
        old = getattr(row, field)
        if old != value:
            changes[field] = [old, value]
            setattr(row, field, value)
    if changes:
        row.save()
        audit_record(action="scheduling.settings.updated", actor=acting_user, target=row, data=changes)
    return row
