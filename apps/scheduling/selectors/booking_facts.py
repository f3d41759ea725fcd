"""What the booking check reads, in one SQL statement (SCH-5, SCH-6).

Booking a visit must know, for the services asked for and the technicians named (for "anyone": every
active technician who performs them), their skills and levels, rosters and dated exceptions, time off and
active lines around the visit, and the minutes booked that day (for "anyone"); the services' booking
rules and the active resource types they need, with the location's places and holds; the client's
booking record, the salon's settings and the price rules. Read one by one through the ORM that was
9–12 statements; here it is one round trip of JSON arrays, the way the availability engine reads a
search (``availability._search_sql``). Lines and holds are found by the range expression of their
exclusion constraints, so the constraints' GiST indexes serve them.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from django.db import connection

from apps.catalog.models import PriceRule, Service
from apps.core.models import User
from apps.scheduling.models import (
    AppointmentLine,
    AppointmentResource,
    ClientBookingProfile,
    Resource,
    ResourceType,
    SchedulingSettings,
    ServiceBookingRule,
    ShiftException,
    ShiftPattern,
    StaffProfile,
    TimeOff,
)
from apps.scheduling.roster import ExceptionRow, PatternRow


@dataclass
class BookingFacts:
    """Plain data for one booking check; instants are integer seconds since the epoch."""

    deposits: dict[int, int]  # service id -> deposit
    online_bookable: dict[int, bool]
    resource_types: dict[int, list[int]]  # service id -> active resource types needed
    profile: tuple[bool, bool, int] | None  # is_blocked, requires_deposit, no_show_count
    settings: tuple[int, int, int, int] | None  # online notice min, online max days, risky count, risky deposit
    skills: dict[int, set[int]]
    levels: dict[int, int | None]
    patterns: list[PatternRow]
    exceptions: list[ExceptionRow]
    busy: dict[int, list[tuple[int, int]]]  # staff -> lines (start, busy_until) and time off
    booked_minutes: dict[int, float]  # staff -> minutes booked on the visit's local day
    places: dict[int, list[tuple[int, int, list[tuple[int, int]]]]] = field(default_factory=dict)
    prices: dict[tuple[int, int | None, int | None], int] = field(default_factory=dict)


def _table(model: Any) -> str:
    return str(connection.ops.quote_name(model._meta.db_table))


def _column(model: Any, name: str) -> str:
    return str(connection.ops.quote_name(model._meta.get_field(name).column))


def _epoch(column: str) -> str:
    return f"EXTRACT(EPOCH FROM {column})::bigint"


@cache
def _sql() -> str:
    skills = StaffProfile.skills.through
    needs = ServiceBookingRule.resource_types.through
    line, hold, e = _table(AppointmentLine), _table(AppointmentResource), _epoch
    k_service, k_profile = _column(skills, "service"), _column(skills, "staffprofile")
    return f"""
        WITH cand AS (
            SELECT DISTINCT u.id AS user_id, k.{k_service} AS service_id, p.level_id
              FROM {_table(User)} u
              LEFT JOIN {_table(StaffProfile)} p ON p.user_id = u.id
              LEFT JOIN {_table(skills)} k ON k.{k_profile} = p.id AND k.{k_service} = ANY(%(services)s)
             WHERE u.id = ANY(%(named)s) OR (%(any_staff)s AND u.is_active AND k.{k_service} IS NOT NULL)
        ), who AS (
            SELECT DISTINCT user_id FROM cand
        ), visit AS (
            SELECT TSTZRANGE(%(start)s, %(visit_end)s, '[)') AS r, TSTZRANGE(%(day_start)s, %(day_end)s, '[)') AS d
        ), rule AS (
            SELECT r.id, r.service_id, r.deposit_amount, r.is_online_bookable
              FROM {_table(ServiceBookingRule)} r WHERE r.service_id = ANY(%(services)s)
        ), kind AS (
            SELECT rule.service_id, t.id AS type_id
              FROM rule
              JOIN {_table(needs)} n ON n.{_column(needs, "servicebookingrule")} = rule.id
              JOIN {_table(ResourceType)} t ON t.id = n.{_column(needs, "resourcetype")} AND t.is_active
        )
        SELECT
          (SELECT json_agg(json_build_array(service_id, deposit_amount, is_online_bookable)) FROM rule),
          (SELECT json_agg(json_build_array(service_id, type_id) ORDER BY service_id, type_id) FROM kind),
          (SELECT json_build_array(is_blocked, requires_deposit, no_show_count)
             FROM {_table(ClientBookingProfile)} WHERE client_id = %(client)s),
          (SELECT json_build_array(online_min_notice_minutes, online_max_days_ahead, risky_no_show_count,
                                   risky_deposit_amount)
             FROM {_table(SchedulingSettings)} WHERE id = 1),
          (SELECT json_agg(json_build_array(user_id, service_id, level_id)) FROM cand),
          (SELECT json_agg(json_build_array(staff_id, location_id, weekday, start_time, end_time, valid_from,
                                            valid_until))
             FROM {_table(ShiftPattern)}
            WHERE staff_id IN (SELECT user_id FROM who) AND valid_from <= %(roster_to)s
              AND (valid_until IS NULL OR valid_until >= %(roster_from)s)),
          (SELECT json_agg(json_build_array(staff_id, date, is_working, location_id, start_time, end_time))
             FROM {_table(ShiftException)}
            WHERE staff_id IN (SELECT user_id FROM who) AND date >= %(roster_from)s AND date <= %(roster_to)s),
          (SELECT json_agg(json_build_array(staff_id, {e("start")}, {e('"end"')}))
             FROM {_table(TimeOff)}
            WHERE staff_id IN (SELECT user_id FROM who) AND TSTZRANGE(start, "end", '[)') && (SELECT r FROM visit)),
          (SELECT json_agg(json_build_array(staff_id, {e("start")}, {e("busy_until")}))
             FROM {line}
            WHERE is_active AND staff_id IN (SELECT user_id FROM who) AND appointment_id <> %(exclude)s
              AND TSTZRANGE(start, busy_until, '[)') && (SELECT r FROM visit)),
          (SELECT json_agg(json_build_array(staff_id, minutes)) FROM (
              SELECT staff_id, SUM(EXTRACT(EPOCH FROM "end" - start) / 60.0) AS minutes
                FROM {line}
               WHERE %(any_staff)s AND is_active AND staff_id IN (SELECT user_id FROM who)
                 AND appointment_id <> %(exclude)s
                 AND TSTZRANGE(start, busy_until, '[)') && (SELECT d FROM visit)
                 AND start >= %(day_start)s AND start < %(day_end)s
               GROUP BY staff_id) AS booked),
          (SELECT json_agg(json_build_array(x.id, x.resource_type_id, x.capacity, h.place, {e("h.start")},
                                            {e('h."end"')}) ORDER BY x.sort_order, x.id)
             FROM {_table(Resource)} x
             LEFT JOIN {hold} h
               ON h.resource_id = x.id AND h.is_active AND TSTZRANGE(h.start, h."end", '[)') && (SELECT r FROM visit)
              AND NOT EXISTS (SELECT 1 FROM {line} l WHERE l.id = h.line_id AND l.appointment_id = %(exclude)s)
            WHERE x.location_id = %(location)s AND x.is_active AND x.resource_type_id IN (SELECT type_id FROM kind)),
          (SELECT json_agg(json_build_array(service_id, tier_id, staff_level_id, price))
             FROM {_table(PriceRule)}
            WHERE service_id = ANY(%(services)s) AND (tier_id IS NULL OR tier_id = %(tier)s))
    """


def _time(text: str | None) -> datetime.time | None:
    return datetime.time.fromisoformat(text) if text is not None else None


def _date(text: str | None) -> datetime.date | None:
    return datetime.date.fromisoformat(text) if text is not None else None


def booking_facts(
    *,
    services: Sequence[Service],
    named_staff_ids: Sequence[int],
    client_id: int,
    tier_id: int | None,
    location_id: int,
    start: datetime.datetime,
    visit_end: datetime.datetime,
    day_start: datetime.datetime,
    day_end: datetime.datetime,
    roster_from: datetime.date,
    roster_to: datetime.date,
    any_staff: bool,
    exclude_appointment_id: int | None,
) -> BookingFacts:
    """Everything a booking check needs, read with one statement (see the module's docstring)."""
    with connection.cursor() as cursor:
        cursor.execute(
            _sql(),
            {
                "services": sorted({s.pk for s in services}),
                "named": sorted(set(named_staff_ids)),
                "client": client_id,
                "tier": tier_id,
                "location": location_id,
                "start": start,
                "visit_end": visit_end,
                "day_start": day_start,
                "day_end": day_end,
                "roster_from": roster_from,
                "roster_to": roster_to,
                "any_staff": any_staff,
                "exclude": exclude_appointment_id if exclude_appointment_id is not None else 0,
            },
        )
        (rules, kinds, profile, settings, cand, patterns, exceptions, time_off, lines, booked, resources, prices) = (
            cursor.fetchone()
        )
    skills: dict[int, set[int]] = defaultdict(set)
    levels: dict[int, int | None] = {}
    for user_id, service_id, level_id in cand or []:
        levels[user_id] = level_id
        if service_id is not None:
            skills[user_id].add(service_id)
        else:
            skills.setdefault(user_id, set())
    busy: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for staff_id, busy_start, busy_end in (lines or []) + (time_off or []):
        busy[staff_id].append((busy_start, busy_end))
    resource_types: dict[int, list[int]] = defaultdict(list)
    for service_id, type_id in kinds or []:
        resource_types[service_id].append(type_id)
    places: dict[int, list[tuple[int, int, list[tuple[int, int]]]]] = defaultdict(list)
    holds: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for resource_id, type_id, capacity, place, hold_start, hold_end in resources or []:
        if (resource_id, 1) not in holds:
            for number in range(1, capacity + 1):
                holds[(resource_id, number)] = []
                places[type_id].append((resource_id, number, holds[(resource_id, number)]))
        if place is not None and hold_start is not None and (resource_id, place) in holds:
            holds[(resource_id, place)].append((hold_start, hold_end))
    return BookingFacts(
        deposits={service_id: deposit for service_id, deposit, _online in rules or []},
        online_bookable={service_id: online for service_id, _deposit, online in rules or []},
        resource_types=dict(resource_types),
        profile=(profile[0], profile[1], profile[2]) if profile else None,
        settings=(settings[0], settings[1], settings[2], settings[3]) if settings else None,
        skills=dict(skills),
        levels=levels,
        patterns=[
            PatternRow(staff_id, loc, weekday, _time(a), _time(b), _date(vf), _date(vu))  # type: ignore[arg-type]
            for staff_id, loc, weekday, a, b, vf, vu in patterns or []
        ],
        exceptions=[
            ExceptionRow(staff_id, _date(day), working, loc, _time(a), _time(b))  # type: ignore[arg-type]
            for staff_id, day, working, loc, a, b in exceptions or []
        ],
        busy=dict(busy),
        booked_minutes={staff_id: float(minutes) for staff_id, minutes in booked or []},
        places=dict(places),
        prices={(service_id, tier, level): price for service_id, tier, level, price in prices or []},
    )
