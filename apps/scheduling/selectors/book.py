"""Reads of the appointment book (SCH-10): the day grid (technicians as columns, the slot step as rows),
the week, today's queue and the live board of technicians and rooms.

Each read runs a fixed number of queries whatever the number of technicians or appointments (the pages
poll every few seconds): the staff, the roster (two), time off, the lines with their visits and clients,
and for the board the resources and their holds. Times are UTC instants; pages show them in the salon's
zone (the request's active zone is the salon's).
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from apps.core.db import salon_timezone
from apps.core.models import Location, User
from apps.scheduling.models import (
    Appointment,
    AppointmentEvent,
    AppointmentLine,
    AppointmentResource,
    AppointmentStatus,
    Deposit,
    DepositStatus,
    Resource,
    SchedulingSettings,
)
from apps.scheduling.models.appointments import ACTIVE_STATUSES
from apps.scheduling.roster import Period, roster_periods, time_off_between

DEFAULT_OPENING = datetime.time(9, 0)
DEFAULT_CLOSING = datetime.time(21, 0)


def book_locations() -> list[Location]:
    return list(Location.objects.filter(is_active=True).order_by("id"))


def slot_step_minutes() -> int:
    row = SchedulingSettings.objects.filter(pk=1).values_list("slot_step_minutes", flat=True).first()
    return row or 15


def _day_bounds(day: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    tz = salon_timezone()
    start = datetime.datetime.combine(day, datetime.time.min, tzinfo=tz)
    end = datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz)
    return start.astimezone(datetime.UTC), end.astimezone(datetime.UTC)


def _staff(only_staff: User | None) -> list[User]:
    """Everyone who may have a column (the roster then says who works), or just one person."""
    if only_staff is not None:
        return [only_staff]
    return list(User.objects.filter(is_active=True).order_by("name", "id"))


def _lines(
    *, location: Location, start: datetime.datetime, end: datetime.datetime, staff_ids: Sequence[int] | None = None
) -> QuerySet[AppointmentLine]:
    """Lines of active visits at ``location`` that overlap [start, end), with visit, client and service
    loaded and a flag for a held deposit (one query)."""
    held_deposit = Deposit.objects.filter(appointment_id=OuterRef("appointment_id"), status=DepositStatus.HELD)
    lines = (
        AppointmentLine.objects.filter(
            appointment__location=location,
            appointment__status__in=ACTIVE_STATUSES,
            start__lt=end,
            busy_until__gt=start,
        )
        .select_related("appointment", "appointment__client", "service")
        .annotate(has_deposit=Exists(held_deposit))
        .order_by("start", "position", "id")
    )
    if staff_ids is not None:
        lines = lines.filter(staff_id__in=staff_ids)
    return lines


# --- the day grid -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class BookBlock:
    """One appointment line drawn in a technician's column, ``row`` rows from the top, ``span`` rows tall."""

    line: AppointmentLine
    row: int
    span: int

    @property
    def appointment(self) -> Appointment:
        return self.line.appointment

    @property
    def status(self) -> str:
        return self.line.appointment.status


@dataclass(frozen=True)
class BookCell:
    start: datetime.datetime
    row: int
    state: str  # "work", "off" (off shift) or "leave" (time off)


@dataclass
class BookColumn:
    staff: User
    periods: list[Period]
    cells: list[BookCell] = field(default_factory=list)
    blocks: list[BookBlock] = field(default_factory=list)

    @property
    def is_working(self) -> bool:
        return bool(self.periods)


@dataclass(frozen=True)
class DayBook:
    location: Location
    day: datetime.date
    step_minutes: int
    rows: list[datetime.datetime]
    columns: list[BookColumn]
    now_row: float | None  # rows from the top of the "now" line, None when now is not on the grid

    @property
    def row_count(self) -> int:
        return len(self.rows)

    @property
    def now_row_index(self) -> int | None:
        return None if self.now_row is None else int(self.now_row)

    @property
    def now_row_percent(self) -> int:
        return 0 if self.now_row is None else int((self.now_row - int(self.now_row)) * 100)


def _floor(at: datetime.datetime, origin: datetime.datetime, step: datetime.timedelta) -> datetime.datetime:
    return origin + ((at - origin) // step) * step


def _ceil(at: datetime.datetime, origin: datetime.datetime, step: datetime.timedelta) -> datetime.datetime:
    floored = _floor(at, origin, step)
    return floored if floored == at else floored + step


def day_book(
    *, location: Location, day: datetime.date, only_staff: User | None = None, now: datetime.datetime | None = None
) -> DayBook:
    """The day grid of a location: one column per technician rostered there that day (and anyone with a
    line there that day), rows at the salon's slot step from the earliest shift start to the latest end
    (stretched to show every line), each line as a block; with ``only_staff`` just that person's column.
    Six queries."""
    now = now or timezone.now()
    tz = salon_timezone()
    step_minutes = slot_step_minutes()
    step = datetime.timedelta(minutes=step_minutes)
    day_start, day_end = _day_bounds(day)
    staff = _staff(only_staff)
    staff_ids = [s.pk for s in staff]
    periods = roster_periods(staff_ids=staff_ids, date_from=day, date_to=day, tz=tz, location_id=location.pk)
    lines = list(_lines(location=location, start=day_start, end=day_end, staff_ids=staff_ids))
    staff_with_lines = {line.staff_id for line in lines}
    shown = [s for s in staff if s.pk in periods or s.pk in staff_with_lines or s is only_staff]
    time_off = time_off_between(staff_ids=[s.pk for s in shown], start=day_start, end=day_end)

    # The grid spans the working day: earliest shift start to latest end, stretched to every line.
    starts = [p.start for found in periods.values() for p in found] + [line.start for line in lines]
    ends = [p.end for found in periods.values() for p in found] + [line.busy_until for line in lines]
    opening = datetime.datetime.combine(day, DEFAULT_OPENING, tzinfo=tz).astimezone(datetime.UTC)
    closing = datetime.datetime.combine(day, DEFAULT_CLOSING, tzinfo=tz).astimezone(datetime.UTC)
    grid_start = max(day_start, _floor(min(starts), day_start, step)) if starts else opening
    grid_end = min(day_end, _ceil(max(ends), day_start, step)) if ends else closing
    rows: list[datetime.datetime] = []
    at = grid_start
    while at < grid_end:
        rows.append(at)
        at += step

    columns: list[BookColumn] = []
    by_staff: dict[int, list[AppointmentLine]] = defaultdict(list)
    for line in lines:
        by_staff[line.staff_id].append(line)
    for member in shown:
        working = periods.get(member.pk, [])
        off = time_off.get(member.pk, [])
        column = BookColumn(staff=member, periods=working)
        for index, row_start in enumerate(rows):
            row_end = row_start + step
            if any(o_start < row_end and o_end > row_start for o_start, o_end in off):
                state = "leave"
            elif any(p.start <= row_start and p.end >= row_end for p in working):
                state = "work"
            else:
                state = "off"
            column.cells.append(BookCell(start=row_start, row=index, state=state))
        for line in by_staff.get(member.pk, []):
            top = max(0, int((line.start - grid_start) / step))
            bottom = min(len(rows), max(top + 1, int(-(-(line.end - grid_start) // step))))
            column.blocks.append(BookBlock(line=line, row=top, span=max(1, bottom - top)))
        columns.append(column)

    now_row = (now - grid_start) / step if grid_start <= now < grid_end else None
    return DayBook(location=location, day=day, step_minutes=step_minutes, rows=rows, columns=columns, now_row=now_row)


# --- the week ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WeekCell:
    day: datetime.date
    count: int
    is_working: bool
    lines: list[AppointmentLine]


@dataclass(frozen=True)
class WeekRow:
    staff: User
    cells: list[WeekCell]


@dataclass(frozen=True)
class WeekBook:
    location: Location
    days: list[datetime.date]
    rows: list[WeekRow]


def week_book(*, location: Location, monday: datetime.date, only_staff: User | None = None) -> WeekBook:
    """Seven days from ``monday``: per technician rostered there that week (or one technician), per day,
    whether they work and their booked lines (four queries)."""
    tz = salon_timezone()
    days = [monday + datetime.timedelta(days=n) for n in range(7)]
    start, _ = _day_bounds(days[0])
    _, end = _day_bounds(days[-1])
    staff = _staff(only_staff)
    staff_ids = [s.pk for s in staff]
    periods = roster_periods(staff_ids=staff_ids, date_from=days[0], date_to=days[-1], tz=tz, location_id=location.pk)
    lines = list(_lines(location=location, start=start, end=end, staff_ids=staff_ids))
    per_day: dict[tuple[int, datetime.date], list[AppointmentLine]] = defaultdict(list)
    for line in lines:
        per_day[(line.staff_id, line.start.astimezone(tz).date())].append(line)
    working_days = {(staff_id, p.start.astimezone(tz).date()) for staff_id, found in periods.items() for p in found}
    with_lines = {line.staff_id for line in lines}
    rows = [
        WeekRow(
            staff=member,
            cells=[
                WeekCell(
                    day=day,
                    count=len(per_day[(member.pk, day)]),
                    is_working=(member.pk, day) in working_days,
                    lines=per_day[(member.pk, day)],
                )
                for day in days
            ],
        )
        for member in staff
        if member.pk in periods or member.pk in with_lines or member is only_staff
    ]
    return WeekBook(location=location, days=days, rows=rows)


# --- today's queue ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TodayQueue:
    upcoming: list[Appointment]
    waiting: list[Appointment]
    in_service: list[Appointment]
    done: list[Appointment]


def today_queue(*, location: Location, day: datetime.date, only_staff: User | None = None) -> TodayQueue:
    """Today's visits at a location in time order, grouped by where they are: to arrive, arrived and
    waiting, in service, done (two queries: visits with clients, their lines)."""
    start, end = _day_bounds(day)
    visits = (
        Appointment.objects.filter(location=location, start__lt=end, end__gt=start, status__in=ACTIVE_STATUSES)
        .select_related("client")
        .prefetch_related("lines__service", "lines__staff")
        .order_by("start", "id")
    )
    if only_staff is not None:
        visits = visits.filter(lines__staff=only_staff).distinct()
    groups: dict[str, list[Appointment]] = defaultdict(list)
    for visit in visits:
        groups[visit.status].append(visit)
    return TodayQueue(
        upcoming=groups[AppointmentStatus.BOOKED] + groups[AppointmentStatus.CONFIRMED],
        waiting=groups[AppointmentStatus.ARRIVED],
        in_service=groups[AppointmentStatus.IN_SERVICE],
        done=groups[AppointmentStatus.DONE],
    )


# --- the live board ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TechnicianState:
    staff: User
    state: str  # "off", "free", "busy"
    busy_line: AppointmentLine | None
    next_line: AppointmentLine | None
    is_working: bool

    @property
    def is_overrunning(self) -> bool:
        return self.busy_line is not None and self.busy_line.busy_until <= timezone.now()


@dataclass(frozen=True)
class ResourceState:
    resource: Resource
    holds: list[AppointmentResource]


@dataclass(frozen=True)
class Board:
    location: Location
    technicians: list[TechnicianState]
    resources: list[ResourceState]
    now: datetime.datetime


def live_board(*, location: Location, now: datetime.datetime | None = None) -> Board:
    """Technicians rostered at the location today (or with a booking there today): off, free, or busy
    until the end of the line they are serving, with the next booking; and the location's rooms and
    resources with their live status and the visits in them now (seven queries).

    A technician is busy while a visit they have a line in is in service and their line has begun (or
    is the visit's first, started early); the visit's finish (下钟) frees them, even before the booked end."""
    now = now or timezone.now()
    tz = salon_timezone()
    day = now.astimezone(tz).date()
    day_start, day_end = _day_bounds(day)
    staff = _staff(None)
    staff_ids = [s.pk for s in staff]
    periods = roster_periods(staff_ids=staff_ids, date_from=day, date_to=day, tz=tz, location_id=location.pk)
    off = time_off_between(staff_ids=list(periods), start=now, end=now + datetime.timedelta(seconds=1))
    lines = list(_lines(location=location, start=day_start, end=day_end, staff_ids=staff_ids))
    busy: dict[int, AppointmentLine] = {}
    upcoming: dict[int, AppointmentLine] = {}
    for line in lines:
        status = line.appointment.status
        if status == AppointmentStatus.IN_SERVICE and (line.start <= now or line.position == 0):
            busy.setdefault(line.staff_id, line)
        elif status in (AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED, AppointmentStatus.ARRIVED) and (
            line.busy_until > now
        ):
            upcoming.setdefault(line.staff_id, line)
    technicians: list[TechnicianState] = []
    for member in staff:
        working = periods.get(member.pk, [])
        if not working and member.pk not in busy and member.pk not in upcoming:
            continue
        is_working = any(p.start <= now < p.end for p in working) and member.pk not in off
        busy_line = busy.get(member.pk)
        state = "busy" if busy_line is not None else ("free" if is_working else "off")
        technicians.append(
            TechnicianState(
                staff=member,
                state=state,
                busy_line=busy_line,
                next_line=upcoming.get(member.pk),
                is_working=is_working,
            )
        )
    resources = list(Resource.objects.filter(location=location, is_active=True).select_related("resource_type"))
    holds: dict[int, list[AppointmentResource]] = defaultdict(list)
    for hold in (
        AppointmentResource.objects.filter(
            resource__in=[r.pk for r in resources],
            is_active=True,
            start__lte=now,
            end__gt=now,
            line__appointment__status__in=(AppointmentStatus.ARRIVED, AppointmentStatus.IN_SERVICE),
        )
        .select_related("line__appointment__client", "line__service")
        .order_by("start", "id")
    ):
        holds[hold.resource_id].append(hold)
    return Board(
        location=location,
        technicians=technicians,
        resources=[ResourceState(resource=r, holds=holds.get(r.pk, [])) for r in resources],
        now=now,
    )


# --- one appointment --------------------------------------------------------------------------------


def appointment_detail(*, pk: int) -> Appointment | None:
    """A visit with its client, lines (service, technician), deposit and event log (three queries)."""
    return (
        Appointment.objects.select_related("client", "location", "deposit")
        .prefetch_related(
            "lines__service",
            "lines__staff",
            Prefetch("events", queryset=AppointmentEvent.objects.select_related("actor").order_by("id")),
        )
        .filter(pk=pk)
        .first()
    )


def appointment_has_line_of(appointment: Appointment, user: User) -> bool:
    return any(line.staff_id == user.pk for line in appointment.lines.all())


def staff_choices(*, location: Location) -> list[User]:
    """Active staff who have a roster at the location (the technicians a booking can name)."""
    from apps.scheduling.models import ShiftException, ShiftPattern

    rostered = Q(Exists(ShiftPattern.objects.filter(staff=OuterRef("pk"), location=location))) | Q(
        Exists(ShiftException.objects.filter(staff=OuterRef("pk"), location=location))
    )
    return list(User.objects.filter(rostered, is_active=True).order_by("name", "id"))
