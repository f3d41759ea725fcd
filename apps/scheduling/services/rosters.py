"""Writes of rosters (SCH-2): weekly patterns, dated exceptions (a day off, other hours) and time off.

Every write locks the staff member's user row first, so two roster edits of one person run one after
the other and the overlap checks below see each other's rows (no check-then-insert race)."""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Mapping, Sequence
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from apps.core.db import salon_timezone, salon_today
from apps.core.models import Location, User
from apps.core.services import audit_record
from apps.scheduling.errors import SchedulingError, scheduling_error
from apps.scheduling.models import ShiftException, ShiftPattern, TimeOff, TimeOffKind
from apps.scheduling.roster import roster_periods

NOTE_MAX = 200
Hours = Sequence[tuple[datetime.time, datetime.time]]


# --- checks shared by the writes ---------------------------------------------------------------


def _staff_locked(staff: User) -> User:
    """The staff member's row, locked (serialises roster writes per person); refused when inactive."""
    row = User.objects.select_for_update().filter(pk=staff.pk).first()
    if row is None or not row.is_active:
        raise scheduling_error(SchedulingError.UNKNOWN_STAFF)
    return row


def _open_location(location: Location | None, *, field: str = "location") -> Location:
    if location is None or not Location.objects.filter(pk=location.pk, is_active=True).exists():
        raise scheduling_error(SchedulingError.INACTIVE_LOCATION, field=field)
    return location


def _periods(hours: Any, *, field: str) -> list[tuple[datetime.time, datetime.time]]:
    """Working periods of one day, sorted; each ends after it starts and none overlaps another."""
    try:
        periods = sorted((start, end) for start, end in hours)
    except (TypeError, ValueError) as exc:
        raise scheduling_error(SchedulingError.INVALID, field=field) from exc
    for start, end in periods:
        if not isinstance(start, datetime.time) or not isinstance(end, datetime.time):
            raise scheduling_error(SchedulingError.INVALID, field=field)
        if start.tzinfo is not None or end.tzinfo is not None:
            raise scheduling_error(SchedulingError.INVALID, field=field)
        if end <= start:
            raise scheduling_error(SchedulingError.END_BEFORE_START, field=field)
    for (_start, end), (next_start, _end) in itertools.pairwise(periods):
        if next_start < end:
            raise scheduling_error(SchedulingError.SHIFT_OVERLAP, field=field)
    return periods


def _note(note: Any) -> str:
    text = "" if note is None else str(note).strip()
    if len(text) > NOTE_MAX or "\x00" in text:
        raise scheduling_error(SchedulingError.TEXT_TOO_LONG, field="note")
    return text


def _pattern_clash(
    *,
    staff: User,
    weekday: int,
    start: datetime.time,
    end: datetime.time,
    valid_from: datetime.date,
    valid_until: datetime.date | None,
    exclude: Q | None = None,
) -> ShiftPattern | None:
    """A pattern row of this person on this weekday, at any location, that overlaps these hours on some
    date both are valid."""
    rows = ShiftPattern.objects.filter(staff=staff, weekday=weekday, start_time__lt=end, end_time__gt=start).filter(
        Q(valid_until__isnull=True) | Q(valid_until__gte=valid_from)
    )
    if valid_until is not None:
        rows = rows.filter(valid_from__lte=valid_until)
    if exclude is not None:
        rows = rows.exclude(exclude)
    return rows.order_by("pk").first()


def _weekday_field(weekday: int) -> str:
    return f"day_{weekday}"


# --- weekly patterns ---------------------------------------------------------------------------


@transaction.atomic
def roster_week_set(
    *,
    staff: User,
    location: Location,
    days: Mapping[int, Hours],
    valid_from: datetime.date,
    acting_user: User | None,
) -> list[ShiftPattern]:
    """Set a staff member's week at a location from ``valid_from`` on: the pattern rows in force then end
    the day before (history is kept), rows that would only start later are dropped, and ``days``
    (weekday 0 = Monday → periods) become the new rows. A weekday left out or empty is a day not worked
    there. No period may overlap another of the same person on the same weekday, at any location.

    Errors on one weekday name the field ``day_<weekday>``."""
    staff = _staff_locked(staff)
    _open_location(location)
    if not isinstance(valid_from, datetime.date) or isinstance(valid_from, datetime.datetime):
        raise scheduling_error(SchedulingError.INVALID, field="valid_from")
    week: dict[int, list[tuple[datetime.time, datetime.time]]] = {}
    for weekday, hours in days.items():
        if isinstance(weekday, bool) or not isinstance(weekday, int) or not 0 <= weekday <= 6:
            raise scheduling_error(SchedulingError.INVALID, field="days")
        week[weekday] = _periods(hours, field=_weekday_field(weekday))
    # This location's rows are being replaced from valid_from, so only other locations can clash.
    for weekday, periods in sorted(week.items()):
        for start, end in periods:
            if _pattern_clash(
                staff=staff,
                weekday=weekday,
                start=start,
                end=end,
                valid_from=valid_from,
                valid_until=None,
                exclude=Q(location=location),
            ):
                raise scheduling_error(
                    SchedulingError.SHIFT_OVERLAP,
                    field=_weekday_field(weekday),
                    message=_("This overlaps a shift of the same person at another location."),
                )
    mine = ShiftPattern.objects.filter(staff=staff, location=location)
    dropped = mine.filter(valid_from__gte=valid_from).delete()[0]
    ended = (
        mine.filter(valid_from__lt=valid_from)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=valid_from))
        .update(valid_until=valid_from - datetime.timedelta(days=1))
    )
    created = ShiftPattern.objects.bulk_create(
        [
            ShiftPattern(
                staff=staff,
                location=location,
                weekday=weekday,
                start_time=start,
                end_time=end,
                valid_from=valid_from,
            )
            for weekday, periods in sorted(week.items())
            for start, end in periods
        ]
    )
    audit_record(
        action="scheduling.roster.week_set",
        actor=acting_user,
        target=staff,
        data={
            "location": location.pk,
            "valid_from": valid_from.isoformat(),
            "days": {
                str(weekday): [f"{s:%H:%M}-{e:%H:%M}" for s, e in periods] for weekday, periods in sorted(week.items())
            },
            "ended": ended,
            "dropped": dropped,
        },
    )
    return created


def roster_week_clear(*, staff: User, location: Location, valid_from: datetime.date, acting_user: User | None) -> None:
    """Stop a staff member's weekly pattern at a location from ``valid_from`` on (history is kept)."""
    roster_week_set(staff=staff, location=location, days={}, valid_from=valid_from, acting_user=acting_user)


@transaction.atomic
def shift_pattern_add(
    *,
    staff: User,
    location: Location,
    weekday: int,
    start_time: datetime.time,
    end_time: datetime.time,
    valid_from: datetime.date,
    valid_until: datetime.date | None = None,
    acting_user: User | None,
) -> ShiftPattern:
    """Add one weekly working period (a split shift adds two). It may not overlap another period of the
    same person on that weekday, at any location, on a date both are valid."""
    staff = _staff_locked(staff)
    _open_location(location)
    if isinstance(weekday, bool) or not isinstance(weekday, int) or not 0 <= weekday <= 6:
        raise scheduling_error(SchedulingError.INVALID, field="weekday")
    [(start_time, end_time)] = _periods([(start_time, end_time)], field="end_time")
    if valid_until is not None and valid_until < valid_from:
        raise scheduling_error(SchedulingError.END_BEFORE_START, field="valid_until")
    if _pattern_clash(
        staff=staff, weekday=weekday, start=start_time, end=end_time, valid_from=valid_from, valid_until=valid_until
    ):
        raise scheduling_error(SchedulingError.SHIFT_OVERLAP, field="start_time")
    pattern = ShiftPattern.objects.create(
        staff=staff,
        location=location,
        weekday=weekday,
        start_time=start_time,
        end_time=end_time,
        valid_from=valid_from,
        valid_until=valid_until,
    )
    audit_record(
        action="scheduling.shift_pattern.added",
        actor=acting_user,
        target=pattern,
        data={
            "staff": staff.pk,
            "location": location.pk,
            "weekday": weekday,
            "hours": f"{start_time:%H:%M}-{end_time:%H:%M}",
        },
    )
    return pattern


@transaction.atomic
def shift_pattern_remove(
    *, pattern: ShiftPattern, acting_user: User | None, from_date: datetime.date | None = None
) -> None:
    """Stop a weekly period from ``from_date`` (the salon's today by default). A row that has not started
    by then is deleted; one already in force ends the day before, so past rosters stay as they were."""
    from_date = from_date or salon_today()
    User.objects.select_for_update().filter(pk=pattern.staff_id).first()
    row = ShiftPattern.objects.select_for_update().filter(pk=pattern.pk).first()
    if row is None:
        return
    if row.valid_from >= from_date:
        row.delete()
        outcome = "deleted"
    elif row.valid_until is None or row.valid_until >= from_date:
        row.valid_until = from_date - datetime.timedelta(days=1)
        row.save(update_fields=["valid_until"])
        outcome = "ended"
    else:
        return
    audit_record(
        action="scheduling.shift_pattern.removed",
        actor=acting_user,
        target=pattern,
        data={"staff": pattern.staff_id, "outcome": outcome, "from": from_date.isoformat()},
    )


# --- dated exceptions --------------------------------------------------------------------------


@transaction.atomic
def shift_exception_set(
    *,
    staff: User,
    date: datetime.date,
    is_working: bool,
    acting_user: User | None,
    location: Location | None = None,
    hours: Hours = (),
    note: str = "",
) -> list[ShiftException]:
    """Say what a staff member works on one date: a day off (``is_working`` false), or other hours at a
    location. It replaces that date's weekly pattern and any exception set for the date before."""
    staff = _staff_locked(staff)
    if not isinstance(date, datetime.date) or isinstance(date, datetime.datetime):
        raise scheduling_error(SchedulingError.INVALID, field="date")
    note = _note(note)
    periods: list[tuple[datetime.time, datetime.time]] = []
    if is_working:
        _open_location(location)
        periods = _periods(hours, field="hours")
        if not periods:
            raise scheduling_error(SchedulingError.INVALID, field="hours", message=_("Enter the working hours."))
    ShiftException.objects.filter(staff=staff, date=date).delete()
    if is_working:
        rows = ShiftException.objects.bulk_create(
            [
                ShiftException(
                    staff=staff,
                    date=date,
                    is_working=True,
                    location=location,
                    start_time=start,
                    end_time=end,
                    note=note,
                    created_by=acting_user if acting_user is not None and acting_user.pk else None,
                )
                for start, end in periods
            ]
        )
    else:
        rows = [
            ShiftException.objects.create(
                staff=staff,
                date=date,
                is_working=False,
                note=note,
                created_by=acting_user if acting_user is not None and acting_user.pk else None,
            )
        ]
    audit_record(
        action="scheduling.shift_exception.set",
        actor=acting_user,
        target=staff,
        data={
            "date": date.isoformat(),
            "working": is_working,
            "location": location.pk if is_working and location is not None else None,
            "hours": [f"{s:%H:%M}-{e:%H:%M}" for s, e in periods],
        },
    )
    return rows


@transaction.atomic
def shift_exception_delete(*, exception: ShiftException, acting_user: User | None) -> None:
    """Remove one exception; when it was the date's last, the weekly pattern applies again that date."""
    User.objects.select_for_update().filter(pk=exception.staff_id).first()
    deleted = ShiftException.objects.filter(pk=exception.pk).delete()[0]
    if deleted:
        audit_record(
            action="scheduling.shift_exception.deleted",
            actor=acting_user,
            target=exception,
            data={"staff": exception.staff_id, "date": exception.date.isoformat()},
        )


@transaction.atomic
def shift_add(
    *,
    staff: User,
    location: Location,
    start: datetime.datetime,
    end: datetime.datetime,
    acting_user: User | None,
) -> ShiftException:
    """Add a one-off working period on top of what the person already works that day (an extra shift).
    It must lie within one local day and not overlap the day's other periods. The date's roster becomes
    exceptions: the weekly periods of that date are copied first, so they stay; a day off is lifted."""
    staff = _staff_locked(staff)
    _open_location(location)
    for field, value in (("start", start), ("end", end)):
        if not isinstance(value, datetime.datetime) or value.tzinfo is None:
            raise scheduling_error(SchedulingError.INVALID, field=field)
    if end <= start:
        raise scheduling_error(SchedulingError.END_BEFORE_START)
    tz = salon_timezone()
    local_start, local_end = start.astimezone(tz), end.astimezone(tz)
    if local_start.date() != local_end.date():
        raise scheduling_error(
            SchedulingError.INVALID, field="end", message=_("A shift must start and end on the same day.")
        )
    day = local_start.date()
    start_time, end_time = local_start.time().replace(tzinfo=None), local_end.time().replace(tzinfo=None)
    existing = list(ShiftException.objects.filter(staff=staff, date=day))
    created_by = acting_user if acting_user is not None and acting_user.pk else None
    if not existing:
        # The weekly periods of the day become that date's exceptions, so the new one adds to them.
        worked = roster_periods(staff_ids=[staff.pk], date_from=day, date_to=day, tz=tz).get(staff.pk, [])
        ShiftException.objects.bulk_create(
            [
                ShiftException(
                    staff=staff,
                    date=day,
                    is_working=True,
                    location_id=period.location_id,
                    start_time=period.start.astimezone(tz).time().replace(tzinfo=None),
                    end_time=period.end.astimezone(tz).time().replace(tzinfo=None),
                    created_by=created_by,
                )
                for period in worked
            ]
        )
    else:
        ShiftException.objects.filter(staff=staff, date=day, is_working=False).delete()
    if ShiftException.objects.filter(
        staff=staff, date=day, is_working=True, start_time__lt=end_time, end_time__gt=start_time
    ).exists():
        raise scheduling_error(SchedulingError.SHIFT_OVERLAP, field="start")
    row = ShiftException.objects.create(
        staff=staff,
        date=day,
        is_working=True,
        location=location,
        start_time=start_time,
        end_time=end_time,
        created_by=created_by,
    )
    audit_record(
        action="scheduling.shift.added",
        actor=acting_user,
        target=staff,
        data={"date": day.isoformat(), "location": location.pk, "hours": f"{start_time:%H:%M}-{end_time:%H:%M}"},
    )
    return row


# --- time off ----------------------------------------------------------------------------------


@transaction.atomic
def time_off_add(
    *,
    staff: User,
    start: datetime.datetime,
    end: datetime.datetime,
    acting_user: User | None,
    kind: str = TimeOffKind.LEAVE,
    note: str = "",
) -> TimeOff:
    """Record a period a staff member cannot be booked (leave, sick leave, training …)."""
    staff = _staff_locked(staff)
    for field, value in (("start", start), ("end", end)):
        if not isinstance(value, datetime.datetime) or value.tzinfo is None:
            raise scheduling_error(SchedulingError.INVALID, field=field)
    if end <= start:
        raise scheduling_error(SchedulingError.END_BEFORE_START)
    if kind not in TimeOffKind.values:
        raise scheduling_error(SchedulingError.INVALID, field="kind")
    row = TimeOff.objects.create(
        staff=staff,
        start=start,
        end=end,
        kind=kind,
        note=_note(note),
        created_by=acting_user if acting_user is not None and acting_user.pk else None,
    )
    audit_record(
        action="scheduling.time_off.added",
        actor=acting_user,
        target=row,
        data={"staff": staff.pk, "start": start.isoformat(), "end": end.isoformat(), "kind": kind},
    )
    return row


@transaction.atomic
def time_off_delete(*, time_off: TimeOff, acting_user: User | None) -> None:
    deleted = TimeOff.objects.filter(pk=time_off.pk).delete()[0]
    if deleted:
        audit_record(
            action="scheduling.time_off.deleted",
            actor=acting_user,
            target=time_off,
            data={"staff": time_off.staff_id, "start": time_off.start.isoformat(), "end": time_off.end.isoformat()},
        )
