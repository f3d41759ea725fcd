"""Booking reports (SCH-12): when visits start (by local hour and weekday), how busy technicians and
rooms are (utilisation), and how often clients cancel or do not come (per booking channel).

Every figure is read in a fixed number of queries (ten at most), whatever the number of staff,
resources or appointments: the counts are grouped in SQL, hours and weekdays are bucketed in SQL in the
salon's time zone (``AT TIME ZONE``), and rosters are expanded in Python from two queries.

Definitions (docs/scheduling.md repeats them for people):

- **Period**: local dates ``date_from`` … ``date_to`` (inclusive, at most 366 days), i.e. from local
  midnight of the first day to local midnight after the last one.
- **Bookings by hour / weekday**: visits (appointments) starting in the period, bucketed by their local
  start; cancelled visits are left out (the time was given back), no-shows count (the slot was taken).
- **Technician utilisation**: booked minutes (``end - start`` of the technician's active lines starting
  in the period) ÷ available minutes (rostered minutes, less the part of them covered by time off).
- **Resource utilisation**: held minutes (``end - start`` of active holds starting in the period, the
  cleaning buffer included) ÷ (open minutes × capacity). A location's **open minutes** are the minutes
  in which at least one staff member is rostered there and not on time off (the union of the available
  periods of everybody rostered there).
- **Rates**: over the visits *due* in the period — starting in it and before now. Cancellation rate =
  cancelled ÷ due; late-cancellation rate = cancelled late (``is_late_cancellation``) ÷ due; no-show
  rate = no-shows ÷ (due − cancelled), i.e. of the visits still expected when their time came.
"""

from __future__ import annotations

import datetime
import io
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, Sum
from django.db.models.functions import ExtractHour, ExtractIsoWeekDay
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.db import salon_timezone
from apps.core.models import Location, User
from apps.scheduling.errors import SchedulingError, scheduling_error
from apps.scheduling.models import (
    Appointment,
    AppointmentChannel,
    AppointmentLine,
    AppointmentResource,
    AppointmentStatus,
    Resource,
)
from apps.scheduling.roster import Period, local_instant, roster_periods, time_off_between

MAX_REPORT_DAYS = 366

Interval = tuple[datetime.datetime, datetime.datetime]


@dataclass(frozen=True)
class StaffUtilisation:
    staff_id: int
    name: str
    booked_minutes: int
    rostered_minutes: int
    time_off_minutes: int
    available_minutes: int
    utilisation: float | None  # booked ÷ available; None without available time


@dataclass(frozen=True)
class ResourceUtilisation:
    resource_id: int
    name: str
    location_id: int
    capacity: int
    held_minutes: int
    open_minutes: int
    utilisation: float | None  # held ÷ (open × capacity); None when the location was never open


@dataclass(frozen=True)
class Rates:
    due: int
    cancelled: int
    late_cancelled: int
    no_show: int
    cancellation_rate: float | None
    late_cancellation_rate: float | None
    no_show_rate: float | None


@dataclass(frozen=True)
class ChannelRates(Rates):
    channel: str = ""
    label: str = ""


@dataclass(frozen=True)
class BookingReport:
    date_from: datetime.date
    date_to: datetime.date
    location_id: int | None
    timezone: str
    by_hour: list[int]  # 24 counts, index = local hour
    by_weekday: list[int]  # 7 counts, index 0 = Monday
    by_weekday_hour: list[list[int]]  # [weekday][hour]
    staff: list[StaffUtilisation]
    resources: list[ResourceUtilisation]
    rates: Rates
    rates_by_channel: list[ChannelRates] = field(default_factory=list)

    @property
    def total_bookings(self) -> int:
        return sum(self.by_hour)

    def as_dict(self) -> dict[str, Any]:
        """The figures as JSON-ready values (the API returns this)."""
        data = asdict(self)
        data["date_from"] = self.date_from.isoformat()
        data["date_to"] = self.date_to.isoformat()
        data["total_bookings"] = self.total_bookings
        data["by_hour"] = [{"hour": hour, "count": count} for hour, count in enumerate(self.by_hour)]
        data["by_weekday"] = [{"weekday": day + 1, "count": count} for day, count in enumerate(self.by_weekday)]
        return data


def report_period_check(*, date_from: datetime.date, date_to: datetime.date) -> None:
    """Refuse a period that ends before it starts or is longer than 366 days."""
    if date_to < date_from:
        raise scheduling_error(SchedulingError.END_BEFORE_START, field="date_to")
    if (date_to - date_from).days + 1 > MAX_REPORT_DAYS:
        raise scheduling_error(
            SchedulingError.RANGE_TOO_LONG,
            field="date_to",
            message=_("Report at most %(days)d days at a time.") % {"days": MAX_REPORT_DAYS},
        )


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _minutes(delta: datetime.timedelta | None) -> int:
    return round(delta.total_seconds() / 60) if delta else 0


def _merge(intervals: Iterable[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def _subtract(periods: Iterable[Interval], holes: list[Interval]) -> list[Interval]:
    """``periods`` less the parts covered by ``holes`` (both sorted, ``holes`` merged)."""
    kept: list[Interval] = []
    for start, end in periods:
        at = start
        for hole_start, hole_end in holes:
            if hole_end <= at or hole_start >= end:
                continue
            if hole_start > at:
                kept.append((at, hole_start))
            at = max(at, hole_end)
        if at < end:
            kept.append((at, end))
    return kept


def _length(intervals: Iterable[Interval]) -> int:
    return _minutes(sum((end - start for start, end in intervals), datetime.timedelta()))


def _rates(due: int, cancelled: int, late: int, no_show: int) -> dict[str, Any]:
    return {
        "due": due,
        "cancelled": cancelled,
        "late_cancelled": late,
        "no_show": no_show,
        "cancellation_rate": _ratio(cancelled, due),
        "late_cancellation_rate": _ratio(late, due),
        "no_show_rate": _ratio(no_show, due - cancelled),
    }


def booking_report(
    *,
    date_from: datetime.date,
    date_to: datetime.date,
    location: Location | None = None,
    now: datetime.datetime | None = None,
    tz: zoneinfo.ZoneInfo | None = None,
) -> BookingReport:
    """The booking figures of a period at one location or all of them (definitions in the module's
    docstring). Ten queries at most."""
    report_period_check(date_from=date_from, date_to=date_to)
    tz = tz or salon_timezone()
    now = now or timezone.now()
    window_start = local_instant(date_from, datetime.time(0), tz)
    window_end = local_instant(date_to + datetime.timedelta(days=1), datetime.time(0), tz)
    location_id = location.pk if location is not None else None

    visits = Appointment.objects.filter(start__gte=window_start, start__lt=window_end)
    if location_id is not None:
        visits = visits.filter(location_id=location_id)

    # 1. Peaks: bucketed in SQL by the local hour and ISO weekday of the start.
    by_hour = [0] * 24
    by_weekday = [0] * 7
    matrix = [[0] * 24 for _day in range(7)]
    buckets = (
        visits.exclude(status=AppointmentStatus.CANCELLED)
        .annotate(local_hour=ExtractHour("start", tzinfo=tz), local_weekday=ExtractIsoWeekDay("start", tzinfo=tz))
        .values("local_hour", "local_weekday")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in buckets:
        hour, day, count = row["local_hour"], row["local_weekday"] - 1, row["n"]
        by_hour[hour] += count
        by_weekday[day] += count
        matrix[day][hour] += count

    # 2. Rates per channel, over the visits due in the period.
    per_channel = (
        visits.filter(start__lt=now)
        .values("channel")
        .annotate(
            due=Count("id"),
            cancelled=Count("id", filter=Q(status=AppointmentStatus.CANCELLED)),
            late=Count("id", filter=Q(status=AppointmentStatus.CANCELLED, is_late_cancellation=True)),
            no_show=Count("id", filter=Q(status=AppointmentStatus.NO_SHOW)),
        )
        .order_by("channel")
    )
    labels = dict(AppointmentChannel.choices)
    channel_rates: list[ChannelRates] = []
    totals = [0, 0, 0, 0]
    for channel_row in per_channel:
        figures = (channel_row["due"], channel_row["cancelled"], channel_row["late"], channel_row["no_show"])
        totals = [a + b for a, b in zip(totals, figures, strict=True)]
        channel_rates.append(
            ChannelRates(
                **_rates(*figures), channel=channel_row["channel"], label=str(labels.get(channel_row["channel"], ""))
            )
        )
    rates = Rates(**_rates(*totals))

    # 3. Booked minutes per technician (active lines of visits at the location).
    lines = AppointmentLine.objects.filter(is_active=True, start__gte=window_start, start__lt=window_end)
    if location_id is not None:
        lines = lines.filter(appointment__location_id=location_id)
    duration = ExpressionWrapper(F("end") - F("start"), output_field=DurationField())
    booked = {
        row["staff_id"]: _minutes(row["booked"])
        for row in lines.values("staff_id").annotate(booked=Sum(duration)).order_by()
    }

    # 4. Who: active staff, and anyone (also a former member) with booked time in the period.
    people = list(
        User.objects.filter(Q(is_active=True) | Q(pk__in=list(booked))).order_by("name", "id").values_list("id", "name")
    )
    staff_ids = [pk for pk, _name in people]
    # 5, 6. Rosters at every location (open hours of each location come from them too), 7. time off.
    periods = roster_periods(staff_ids=staff_ids, date_from=date_from, date_to=date_to, tz=tz)
    time_off = time_off_between(staff_ids=staff_ids, start=window_start, end=window_end)

    available_by_location: dict[int, list[Interval]] = defaultdict(list)
    staff_rows: list[StaffUtilisation] = []
    for staff_id, name in people:
        worked: list[Period] = [
            p for p in periods.get(staff_id, ()) if location_id is None or p.location_id == location_id
        ]
        holes = _merge(time_off.get(staff_id, ()))
        for period in periods.get(staff_id, ()):
            available_by_location[period.location_id].extend(_subtract([(period.start, period.end)], holes))
        rostered_intervals = [(p.start, p.end) for p in worked]
        available_intervals = _subtract(rostered_intervals, holes)
        rostered = _length(rostered_intervals)
        available = _length(available_intervals)
        minutes = booked.get(staff_id, 0)
        if not rostered and not minutes:
            continue
        staff_rows.append(
            StaffUtilisation(
                staff_id=staff_id,
                name=name,
                booked_minutes=minutes,
                rostered_minutes=rostered,
                time_off_minutes=rostered - available,
                available_minutes=available,
                utilisation=_ratio(minutes, available),
            )
        )
    open_minutes = {loc: _length(_merge(found)) for loc, found in available_by_location.items()}

    # 8. Resources, 9. held minutes per resource.
    resources = Resource.objects.filter(is_active=True)
    holds = AppointmentResource.objects.filter(is_active=True, start__gte=window_start, start__lt=window_end)
    if location_id is not None:
        resources = resources.filter(location_id=location_id)
        holds = holds.filter(resource__location_id=location_id)
    held = {
        row["resource_id"]: _minutes(row["held"])
        for row in holds.values("resource_id").annotate(held=Sum(duration)).order_by()
    }
    resource_rows = []
    for resource in resources.order_by("location_id", "sort_order", "name", "id"):
        opened = open_minutes.get(resource.location_id, 0)
        minutes = held.get(resource.pk, 0)
        resource_rows.append(
            ResourceUtilisation(
                resource_id=resource.pk,
                name=resource.name,
                location_id=resource.location_id,
                capacity=resource.capacity,
                held_minutes=minutes,
                open_minutes=opened,
                utilisation=_ratio(minutes, opened * resource.capacity),
            )
        )

    return BookingReport(
        date_from=date_from,
        date_to=date_to,
        location_id=location_id,
        timezone=str(tz.key),
        by_hour=by_hour,
        by_weekday=by_weekday,
        by_weekday_hour=matrix,
        staff=staff_rows,
        resources=resource_rows,
        rates=rates,
        rates_by_channel=channel_rates,
    )


def booking_report_workbook(report: BookingReport, *, location_names: dict[int, str]) -> bytes:
    """The report's tables as an XLSX workbook, one sheet per table (rates as fractions formatted as
    percentages, so a spreadsheet can compute with them)."""
    from django.utils.dates import WEEKDAYS
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = _("By hour")[:31]
    sheet.append([_("Hour"), _("Bookings")])
    for hour, count in enumerate(report.by_hour):
        sheet.append([f"{hour:02d}:00", count])

    sheet = book.create_sheet(_("By weekday")[:31])
    sheet.append([_("Weekday"), _("Bookings")])
    for day, count in enumerate(report.by_weekday):
        sheet.append([str(WEEKDAYS[day]), count])

    sheet = book.create_sheet(_("Technicians")[:31])
    sheet.append(
        [
            _("Technician"),
            _("Booked minutes"),
            _("Rostered minutes"),
            _("Time off (minutes)"),
            _("Available minutes"),
            _("Utilisation"),
        ]
    )
    for row in report.staff:
        sheet.append(
            [
                row.name,
                row.booked_minutes,
                row.rostered_minutes,
                row.time_off_minutes,
                row.available_minutes,
                row.utilisation,
            ]
        )
        sheet.cell(row=sheet.max_row, column=6).number_format = "0.0%"

    sheet = book.create_sheet(_("Resources")[:31])
    sheet.append([_("Resource"), _("Location"), _("Capacity"), _("Held minutes"), _("Open minutes"), _("Utilisation")])
    for item in report.resources:
        sheet.append(
            [
                item.name,
                location_names.get(item.location_id, ""),
                item.capacity,
                item.held_minutes,
                item.open_minutes,
                item.utilisation,
            ]
        )
        sheet.cell(row=sheet.max_row, column=6).number_format = "0.0%"

    sheet = book.create_sheet(_("Cancellations and no-shows")[:31])
    sheet.append(
        [
            _("Booked through"),
            _("Due"),
            _("Cancelled"),
            _("Cancelled late"),
            _("No-shows"),
            _("Cancellation rate"),
            _("Late-cancellation rate"),
            _("No-show rate"),
        ]
    )
    rows: list[tuple[str, Rates]] = [(item.label, item) for item in report.rates_by_channel]
    rows.append((_("All channels"), report.rates))
    for label, rates in rows:
        sheet.append(
            [
                label,
                rates.due,
                rates.cancelled,
                rates.late_cancelled,
                rates.no_show,
                rates.cancellation_rate,
                rates.late_cancellation_rate,
                rates.no_show_rate,
            ]
        )
        for column in (6, 7, 8):
            sheet.cell(row=sheet.max_row, column=column).number_format = "0.0%"

    output = io.BytesIO()
    book.save(output)
    return output.getvalue()
