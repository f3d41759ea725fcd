"""Booking, moving and the lifecycle of appointments (SCH-5, SCH-6, SCH-7) and deposits (SCH-14).

``appointment_book`` checks one proposed visit itself (the technician's skill, working period, time off
and bookings; the resources each service needs; the salon's online rules; the client's block list) and
writes it; PostgreSQL's exclusion constraints are the final word when two bookings race, and a collision
either way is a ``409`` that names the booking collided with. Every status change locks the appointment,
is logged as an ``AppointmentEvent`` and announced with ``appointment_changed`` after commit.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, OperationalError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.catalog.models import Service
from apps.catalog.selectors import price_pick, service_price
from apps.core.db import salon_timezone
from apps.core.errors import CoreError, core_error
from apps.core.models import Location, StaffLevel, User
from apps.core.roles import perm
from apps.core.services import audit_record
from apps.crm.models import Client
from apps.scheduling.errors import SchedulingError, scheduling_error
from apps.scheduling.models import (
    Appointment,
    AppointmentChannel,
    AppointmentEvent,
    AppointmentLine,
    AppointmentResource,
    AppointmentStatus,
    ClientBookingProfile,
    Deposit,
    DepositMethod,
    DepositStatus,
    Resource,
    ServiceBookingRule,
)
from apps.scheduling.roster import expand_roster, roster_periods, time_off_between
from apps.scheduling.selectors.booking_facts import booking_facts
from apps.scheduling.selectors.settings import scheduling_settings
from apps.scheduling.signals import appointment_changed

MAX_LINES = 5
# A booking that lost a race to a concurrent one is planned again (the winner is committed by then, so the
# second plan sees it and either picks another place or technician or names the collision).
_ATTEMPTS = 3

_LINE_CONSTRAINT = "line_staff_no_overlap"
_HOLD_CONSTRAINT = "hold_place_no_overlap"


@dataclass(frozen=True)
class LineRequest:
    service: Service
    staff: User | None = None
    is_requested: bool = False


@dataclass
class _Planned:
    service: Service
    staff: User
    is_requested: bool
    start: datetime.datetime
    end: datetime.datetime
    busy_until: datetime.datetime
    price: int = 0
    holds: list[tuple[Resource, int]] = field(default_factory=list)


class _Lost(Exception):
    """A concurrent booking won the race at the database (exclusion or unique constraint)."""

    def __init__(self, constraint: str) -> None:
        super().__init__(constraint)
        self.constraint = constraint


# --- small helpers --------------------------------------------------------------------------------------


def _actor_label(acting_user: User | None, channel: str = "") -> str:
    if acting_user is not None:
        return (acting_user.name or acting_user.get_username())[:150]
    return "client" if channel == AppointmentChannel.ONLINE else "system"


def _local(moment: datetime.datetime) -> str:
    return timezone.localtime(moment, salon_timezone()).strftime("%Y-%m-%d %H:%M")


def _aware(moment: datetime.datetime, *, name: str = "start") -> datetime.datetime:
    if not isinstance(moment, datetime.datetime):
        raise scheduling_error(SchedulingError.INVALID, field=name)
    if not 2000 <= moment.year <= 2200:  # keeps the arithmetic on lines and buffers inside datetime's range
        raise scheduling_error(SchedulingError.INVALID, field=name)
    if timezone.is_naive(moment):
        # A wall-clock time without a zone means the salon's own clock.
        moment = timezone.make_aware(moment, salon_timezone())
    return moment


def _constraint_of(exc: IntegrityError) -> str:
    diag = getattr(exc.__cause__, "diag", None)
    return (getattr(diag, "constraint_name", None) or str(exc)) if diag is not None else str(exc)


def _lost_race(exc: IntegrityError | OperationalError) -> _Lost | None:
    """The race a concurrent booking won, or None when the error is something else.

    Two transactions inserting colliding rows under an exclusion constraint can also deadlock: each
    inserts its index entry, then waits for the other's uncommitted row, and PostgreSQL aborts one with
    40P01. That is a lost race as much as a violation is, and is re-planned the same way."""
    if isinstance(exc, OperationalError):
        if getattr(exc.__cause__, "sqlstate", None) != "40P01":
            return None
        return _Lost(_HOLD_CONSTRAINT if AppointmentResource._meta.db_table in str(exc) else _LINE_CONSTRAINT)
    constraint = _constraint_of(exc)
    if _LINE_CONSTRAINT in constraint or _HOLD_CONSTRAINT in constraint:
        return _Lost(_LINE_CONSTRAINT if _LINE_CONSTRAINT in constraint else _HOLD_CONSTRAINT)
    if "idempotency" in constraint:
        return _Lost("idempotency")
    return None


def _event(
    appointment: Appointment,
    *,
    kind: str,
    acting_user: User | None,
    from_status: str = "",
    to_status: str = "",
    data: dict[str, Any] | None = None,
) -> AppointmentEvent:
    return AppointmentEvent.objects.create(
        appointment=appointment,
        kind=kind,
        from_status=from_status,
        to_status=to_status,
        actor=acting_user if acting_user is not None and acting_user.pk else None,
        actor_label=_actor_label(acting_user, appointment.channel),
        data=data or {},
    )


def _announce(appointment: Appointment, kind: str, data: dict[str, Any] | None = None) -> None:
    transaction.on_commit(
        lambda: appointment_changed.send(sender=Appointment, appointment=appointment, kind=kind, data=data or {})
    )


def _profile_bump(client_id: int, counter: str) -> None:
    """Add one to a client's no-show or late-cancellation count (F(): concurrent marks all count)."""
    if ClientBookingProfile.objects.filter(client_id=client_id).update(**{counter: F(counter) + 1}):
        return
    try:
        with transaction.atomic():
            ClientBookingProfile.objects.create(client_id=client_id, **{counter: 1})
    except IntegrityError:  # created by a concurrent call between the update and the insert
        ClientBookingProfile.objects.filter(client_id=client_id).update(**{counter: F(counter) + 1})


# --- conflicts ------------------------------------------------------------------------------------------


def _staff_conflict(line: AppointmentLine) -> Exception:
    staff_name = line.staff.name if line.staff_id else ""
    message = _("%(staff)s is already booked from %(start)s to %(end)s.") % {
        "staff": staff_name,
        "start": _local(line.start),
        "end": _local(line.busy_until),
    }
    return scheduling_error(
        SchedulingError.STAFF_BUSY,
        message=message,
        extra={
            "conflict": {
                "appointment": line.appointment_id,
                "staff": line.staff_id,
                "resource": None,
                "start": line.start.isoformat(),
                "end": line.busy_until.isoformat(),
            }
        },
    )


def _resource_conflict(resource: Resource, hold: AppointmentResource | None) -> Exception:
    if hold is None:
        return scheduling_error(
            SchedulingError.RESOURCE_FULL,
            message=_("%(resource)s is not available at this location.") % {"resource": resource.resource_type.name},
            extra={"conflict": {"appointment": None, "staff": None, "resource": None, "start": None, "end": None}},
        )
    message = _("%(resource)s is fully booked from %(start)s to %(end)s.") % {
        "resource": resource.name,
        "start": _local(hold.start),
        "end": _local(hold.end),
    }
    return scheduling_error(
        SchedulingError.RESOURCE_FULL,
        message=message,
        extra={
            "conflict": {
                "appointment": hold.line.appointment_id,
                "staff": None,
                "resource": resource.pk,
                "start": hold.start.isoformat(),
                "end": hold.end.isoformat(),
            }
        },
    )


# --- planning one visit -----------------------------------------------------------------------------------


@dataclass
class _Plan:
    lines: list[_Planned]
    deposit: int


def _skilled(service: Service) -> Q:
    return Q(is_active=True, staff_profile__skills=service)


def _check_channel(
    *, channel: str, start: datetime.datetime, services: Sequence[Service], now: datetime.datetime, rules: Any
) -> None:
    if channel != AppointmentChannel.ONLINE:
        return
    settings_row = scheduling_settings()
    if start < now + datetime.timedelta(minutes=settings_row.online_min_notice_minutes):
        raise scheduling_error(SchedulingError.TOO_SOON, field="start")
    tz = salon_timezone()
    if (start.astimezone(tz).date() - now.astimezone(tz).date()).days > settings_row.online_max_days_ahead:
        raise scheduling_error(SchedulingError.TOO_FAR_AHEAD, field="start")
    for service in services:
        rule = rules.get(service.pk)
        if rule is not None and not rule.is_online_bookable:
            raise scheduling_error(SchedulingError.SERVICE_NOT_BOOKABLE_ONLINE, field="service")


def _timed(start: datetime.datetime, lines: Sequence[LineRequest]) -> list[_Planned]:
    """The visit's lines one after another from ``start``, each starting when the one before is cleaned
    up (its end plus the service's buffer)."""
    planned: list[_Planned] = []
    at = start
    for request in lines:
        end = at + datetime.timedelta(minutes=request.service.duration_minutes)
        busy = end + datetime.timedelta(minutes=request.service.buffer_minutes)
        planned.append(_Planned(request.service, request.staff, request.is_requested, at, end, busy))  # type: ignore[arg-type]
        at = busy
    return planned


def _plan(
    *,
    client: Client,
    location: Location,
    start: datetime.datetime,
    lines: Sequence[LineRequest],
    channel: str,
    now: datetime.datetime,
    exclude_appointment_id: int | None = None,
) -> _Plan:
    """Check a proposed visit against every rule and choose its technicians and resource places; raises
    the first problem found. Reads only."""
    if channel not in AppointmentChannel.values:
        raise scheduling_error(SchedulingError.INVALID, field="channel")
    if not lines:
        raise scheduling_error(SchedulingError.UNKNOWN_SERVICE, field="service")
    if len(lines) > MAX_LINES:
        raise scheduling_error(SchedulingError.TOO_MANY_SERVICES, field="lines")
    if not location.is_active:
        raise scheduling_error(SchedulingError.INACTIVE_LOCATION, field="location")
    if not client.is_active:
        raise scheduling_error(SchedulingError.INVALID, field="client", message=_("This client was merged or removed."))
    if start < now:
        raise scheduling_error(SchedulingError.SLOT_IN_PAST, field="start")
    for request in lines:
        if not request.service.is_active:
            raise scheduling_error(SchedulingError.INACTIVE_SERVICE, field="service")
        if request.staff is not None and not request.staff.is_active:
            raise scheduling_error(SchedulingError.UNKNOWN_STAFF)
    fast = _plan_fast(
        client=client,
        location=location,
        start=start,
        lines=lines,
        channel=channel,
        now=now,
        exclude_appointment_id=exclude_appointment_id,
    )
    if fast is not None:
        return fast
    # The visit does not fit as asked: the reads below, one by one, find which rule refuses and name the
    # booking or place in the way.
    services = [r.service for r in lines]
    rules = {
        rule.service_id: rule
        for rule in ServiceBookingRule.objects.filter(service__in=services).prefetch_related("resource_types")
    }
    _check_channel(channel=channel, start=start, services=services, now=now, rules=rules)
    profile = ClientBookingProfile.objects.filter(client=client).first()
    if profile is not None and profile.is_blocked:
        raise scheduling_error(SchedulingError.CLIENT_BLOCKED)

    planned = _timed(start, lines)
    visit_end = planned[-1].busy_until

    # Candidates: the named technician, or everyone with the skill (one query for all lines).
    named_ids = {r.staff.pk for r in lines if r.staff is not None}
    skill_rows = list(
        User.objects.filter(Q(pk__in=named_ids) | Q(is_active=True, staff_profile__skills__in=[s.pk for s in services]))
        .values_list("pk", "staff_profile__skills", "staff_profile__level")
        .distinct()
    )
    skills: dict[int, set[int]] = defaultdict(set)
    levels: dict[int, int | None] = {}
    for user_id, service_id, level_id in skill_rows:
        skills[user_id].add(service_id)
        levels[user_id] = level_id
    for item in planned:
        if item.staff is not None and item.service.pk not in skills.get(item.staff.pk, set()):
            raise scheduling_error(SchedulingError.STAFF_LACKS_SKILL)
    candidate_ids = sorted(skills)
    tz = salon_timezone()
    day_from = start.astimezone(tz).date() - datetime.timedelta(days=1)
    day_to = visit_end.astimezone(tz).date()
    periods = roster_periods(
        staff_ids=candidate_ids, date_from=day_from, date_to=day_to, tz=tz, location_id=location.pk
    )
    time_off = time_off_between(staff_ids=candidate_ids, start=start, end=visit_end)
    busy_lines = (
        AppointmentLine.objects.filter(
            is_active=True, staff_id__in=candidate_ids, start__lt=visit_end, busy_until__gt=start
        )
        .select_related("staff")
        .order_by("start", "id")
    )
    if exclude_appointment_id is not None:
        busy_lines = busy_lines.exclude(appointment_id=exclude_appointment_id)
    taken = list(busy_lines)

    def working(staff_id: int, item: _Planned) -> bool:
        return any(p.start <= item.start and item.busy_until <= p.end for p in periods.get(staff_id, ()))

    def off(staff_id: int, item: _Planned) -> bool:
        return any(s < item.busy_until and e > item.start for s, e in time_off.get(staff_id, ()))

    def collision(staff_id: int, item: _Planned) -> AppointmentLine | None:
        for line in taken:
            if line.staff_id == staff_id and line.start < item.busy_until and line.busy_until > item.start:
                return line
        return None

    load: dict[int, float] | None = None
    for item in planned:
        if item.staff is not None:
            staff_id = item.staff.pk
            if not working(staff_id, item):
                raise scheduling_error(SchedulingError.OUTSIDE_SHIFT, field="start")
            if off(staff_id, item):
                raise scheduling_error(SchedulingError.STAFF_ON_TIME_OFF, field="start")
            line = collision(staff_id, item)
            if line is not None:
                raise _staff_conflict(line)
            continue
        free = [
            staff_id
            for staff_id in candidate_ids
            if item.service.pk in skills[staff_id]
            and working(staff_id, item)
            and not off(staff_id, item)
            and collision(staff_id, item) is None
            and not any(
                p.staff is not None and p.staff.pk == staff_id and p is not item and _overlaps(p, item) for p in planned
            )
        ]
        if not free:
            raise scheduling_error(SchedulingError.NO_STAFF_AVAILABLE, field="staff")
        if load is None:
            load = _booked_minutes(candidate_ids, start, tz, exclude_appointment_id)
        chosen = min(free, key=lambda staff_id: (load.get(staff_id, 0.0), staff_id))  # type: ignore[union-attr]
        item.staff = User.objects.get(pk=chosen)
        load[chosen] = load.get(chosen, 0.0) + (item.end - item.start).total_seconds() / 60

    _choose_places(planned, rules=rules, location=location, exclude_appointment_id=exclude_appointment_id)

    tier = client.tier if client.tier_id else None
    level_ids = [lvl for p in planned if (lvl := levels.get(p.staff.pk)) is not None]
    level_rows = {lvl.pk: lvl for lvl in StaffLevel.objects.filter(pk__in=level_ids)} if level_ids else {}
    for item in planned:
        staff_level = level_rows.get(levels.get(item.staff.pk) or 0)
        item.price = service_price(service=item.service, tier=tier, staff_level=staff_level)

    deposit = sum(rules[p.service.pk].deposit_amount for p in planned if p.service.pk in rules)
    settings_row = scheduling_settings()
    risky = profile is not None and (
        profile.requires_deposit
        or (settings_row.risky_no_show_count > 0 and profile.no_show_count >= settings_row.risky_no_show_count)
    )
    if risky:
        deposit = max(deposit, settings_row.risky_deposit_amount)
    return _Plan(planned, deposit)


def _plan_fast(
    *,
    client: Client,
    location: Location,
    start: datetime.datetime,
    lines: Sequence[LineRequest],
    channel: str,
    now: datetime.datetime,
    exclude_appointment_id: int | None,
) -> _Plan | None:
    """The plan of a visit that fits, from one statement's facts (``selectors.booking_facts``), or None
    when any rule would refuse it. Chooses as the detailed planner does: a named technician or the
    skilled free one least booked that day (ties: lowest id), and the lowest free place of the lowest
    resource (order, id). None sends the caller to the detailed planner, which reads row by row and
    raises the precise error (the booking or place in the way), so a refusal costs more than a booking."""
    tz = salon_timezone()
    planned = _timed(start, lines)
    visit_end = planned[-1].busy_until
    local_day = start.astimezone(tz).date()
    day_start = datetime.datetime.combine(local_day, datetime.time(), tzinfo=tz)
    facts = booking_facts(
        services=[r.service for r in lines],
        named_staff_ids=[r.staff.pk for r in lines if r.staff is not None],
        client_id=client.pk,
        tier_id=client.tier_id,
        location_id=location.pk,
        start=start,
        visit_end=visit_end,
        day_start=day_start,
        day_end=day_start + datetime.timedelta(days=1),
        roster_from=local_day - datetime.timedelta(days=1),
        roster_to=visit_end.astimezone(tz).date(),
        any_staff=any(r.staff is None for r in lines),
        exclude_appointment_id=exclude_appointment_id,
    )
    if facts.settings is None or (facts.profile is not None and facts.profile[0]):
        return None
    notice, max_days, risky_count, risky_amount = facts.settings
    if channel == AppointmentChannel.ONLINE and (
        start < now + datetime.timedelta(minutes=notice)
        or (start.astimezone(tz).date() - now.astimezone(tz).date()).days > max_days
        or not all(facts.online_bookable.get(r.service.pk, True) for r in lines)
    ):
        return None
    periods = {
        staff_id: [(int(p.start.timestamp()), int(p.end.timestamp())) for p in found if p.location_id == location.pk]
        for staff_id, found in expand_roster(
            patterns=facts.patterns,
            exceptions=facts.exceptions,
            date_from=local_day - datetime.timedelta(days=1),
            date_to=visit_end.astimezone(tz).date(),
            tz=tz,
        ).items()
    }
    spans = [(int(p.start.timestamp()), int(p.busy_until.timestamp())) for p in planned]
    chosen_staff: list[int] = []

    def fits(staff_id: int, index: int) -> bool:
        s, b = spans[index]
        return (
            any(p_start <= s and b <= p_end for p_start, p_end in periods.get(staff_id, ()))
            and not any(x < b and y > s for x, y in facts.busy.get(staff_id, ()))
            and not any(
                chosen_staff[k] == staff_id and spans[k][0] < b and s < spans[k][1] for k in range(len(chosen_staff))
            )
        )

    load = dict(facts.booked_minutes)
    for index, item in enumerate(planned):
        service_id = item.service.pk
        if item.staff is not None:
            if service_id not in facts.skills.get(item.staff.pk, ()) or not fits(item.staff.pk, index):
                return None
            chosen_staff.append(item.staff.pk)
            continue
        free = [sid for sid in sorted(facts.skills) if service_id in facts.skills[sid] and fits(sid, index)]
        if not free:
            return None
        pick = min(free, key=lambda sid: (load.get(sid, 0.0), sid))
        load[pick] = load.get(pick, 0.0) + (item.end - item.start).total_seconds() / 60
        chosen_staff.append(pick)
    holds: list[list[tuple[int, int]]] = []
    for index, item in enumerate(planned):
        s, b = spans[index]
        taken_here: list[tuple[int, int]] = []
        for type_id in facts.resource_types.get(item.service.pk, []):
            place = next(
                (
                    (resource_id, number)
                    for resource_id, number, held in facts.places.get(type_id, [])
                    if not any(x < b and y > s for x, y in held)
                    and not any(
                        (resource_id, number) in holds[k] and spans[k][0] < b and s < spans[k][1] for k in range(index)
                    )
                    and (resource_id, number) not in taken_here
                ),
                None,
            )
            if place is None:
                return None
            taken_here.append(place)
        holds.append(taken_here)
    # The objects the new lines point at: technicians chosen for "anyone" and the resources held.
    unnamed = {chosen_staff[i] for i, item in enumerate(planned) if item.staff is None}
    users = User.objects.in_bulk(unnamed) if unnamed else {}
    resource_ids = {resource_id for taken in holds for resource_id, _number in taken}
    resources = Resource.objects.in_bulk(resource_ids) if resource_ids else {}
    rules_by_service: dict[int, dict[tuple[int | None, int | None], int]] = defaultdict(dict)
    for (service_id, tier_id, level_id), price in facts.prices.items():
        rules_by_service[service_id][(tier_id, level_id)] = price
    for index, item in enumerate(planned):
        if item.staff is None:
            item.staff = users[chosen_staff[index]]
        item.holds = [(resources[resource_id], number) for resource_id, number in holds[index]]
        item.price = price_pick(
            base=item.service.price,
            rules=rules_by_service.get(item.service.pk, {}),
            tier_id=client.tier_id,
            level_id=facts.levels.get(chosen_staff[index]),
        )
    deposit = sum(facts.deposits.get(item.service.pk, 0) for item in planned)
    profile = facts.profile
    if profile is not None and (profile[1] or (risky_count > 0 and profile[2] >= risky_count)):
        deposit = max(deposit, risky_amount)
    return _Plan(planned, deposit)


def _overlaps(a: _Planned, b: _Planned) -> bool:
    return a.start < b.busy_until and b.start < a.busy_until


def _booked_minutes(
    staff_ids: Sequence[int], start: datetime.datetime, tz: Any, exclude_appointment_id: int | None
) -> dict[int, float]:
    """Minutes each technician is booked on the local day of ``start`` (for spreading "any staff" work)."""
    day = start.astimezone(tz).date()
    day_start = datetime.datetime.combine(day, datetime.time(), tzinfo=tz)
    day_end = day_start + datetime.timedelta(days=1)
    lines = AppointmentLine.objects.filter(
        is_active=True, staff_id__in=staff_ids, start__gte=day_start, start__lt=day_end
    )
    if exclude_appointment_id is not None:
        lines = lines.exclude(appointment_id=exclude_appointment_id)
    load: dict[int, float] = defaultdict(float)
    for staff_id, line_start, line_end in lines.values_list("staff_id", "start", "end"):
        load[staff_id] += (line_end - line_start).total_seconds() / 60
    return load


def _choose_places(
    planned: list[_Planned],
    *,
    rules: dict[int, ServiceBookingRule],
    location: Location,
    exclude_appointment_id: int | None,
) -> None:
    """A free place in an active resource of each type each line needs: the lowest resource (order, id),
    then the lowest place."""
    # A deactivated resource type is no longer needed, as in the availability engine.
    needed_types = {
        rt.pk
        for p in planned
        if p.service.pk in rules
        for rt in rules[p.service.pk].resource_types.all()
        if rt.is_active
    }
    if not needed_types:
        return
    resources = list(
        Resource.objects.filter(location=location, resource_type_id__in=needed_types, is_active=True)
        .select_related("resource_type")
        .order_by("sort_order", "id")
    )
    visit_start, visit_end = planned[0].start, planned[-1].busy_until
    holds_qs = AppointmentResource.objects.filter(
        is_active=True, resource__in=resources, start__lt=visit_end, end__gt=visit_start
    ).select_related("line")
    if exclude_appointment_id is not None:
        holds_qs = holds_qs.exclude(line__appointment_id=exclude_appointment_id)
    holds = list(holds_qs.order_by("start", "id"))
    for item in planned:
        rule = rules.get(item.service.pk)
        if rule is None:
            continue
        for resource_type in rule.resource_types.all():
            if not resource_type.is_active:
                continue
            of_type = [r for r in resources if r.resource_type_id == resource_type.pk]
            chosen: tuple[Resource, int] | None = None
            first_clash: tuple[Resource, AppointmentResource] | None = None
            for resource in of_type:
                clashing = [
                    h
                    for h in holds
                    if h.resource_id == resource.pk and h.start < item.busy_until and h.end > item.start
                ]
                # places this visit itself already holds at this time (two lines that overlap cannot happen,
                # the lines follow each other; kept for safety)
                own = {
                    place
                    for p in planned
                    if p is not item and _overlaps(p, item)
                    for r, place in p.holds
                    if r == resource
                }
                used = {h.place for h in clashing} | own
                free = [n for n in range(1, resource.capacity + 1) if n not in used]
                if free:
                    chosen = (resource, free[0])
                    break
                if first_clash is None and clashing:
                    first_clash = (resource, clashing[0])
            if chosen is None:
                if first_clash is not None:
                    raise _resource_conflict(*first_clash)
                raise _resource_conflict(Resource(resource_type=resource_type, name=resource_type.name), None)
            item.holds.append(chosen)


# --- booking --------------------------------------------------------------------------------------------


def _deposit_method(value: str | None) -> str | None:
    if value in (None, ""):
        return None
    if value not in DepositMethod.values:
        raise scheduling_error(SchedulingError.INVALID, field="deposit_method")
    return value


def _write_lines(appointment: Appointment, plan: _Plan) -> None:
    """Insert the planned lines and holds, and leave them on ``appointment`` as if prefetched, so the caller
    can show the new visit without reading it back."""
    written: list[AppointmentLine] = []
    for position, item in enumerate(plan.lines):
        line = AppointmentLine.objects.create(
            appointment=appointment,
            position=position,
            service=item.service,
            staff=item.staff,
            is_requested=item.is_requested,
            start=item.start,
            end=item.end,
            busy_until=item.busy_until,
            price=item.price,
        )
        holds = [
            AppointmentResource.objects.create(
                line=line, resource=resource, place=place, start=item.start, end=item.busy_until
            )
            for resource, place in item.holds
        ]
        _attach(line, "resource_holds", holds)
        written.append(line)
    _attach(appointment, "lines", written)


def _attach(instance: Any, related: str, rows: list[Any]) -> None:
    """Leave ``rows`` on ``instance`` as its prefetched ``related`` rows (what prefetch_related does), so
    ``instance.<related>.all()`` answers without a query; other calls (``order_by``…) still query."""
    queryset = getattr(instance, related).all()
    queryset._result_cache = rows
    queryset._prefetch_done = True
    cache = instance.__dict__.setdefault("_prefetched_objects_cache", {})
    cache[related] = queryset


def _lines_data(plan_or_lines: Sequence[Any]) -> list[dict[str, Any]]:
    return [
        {
            "service": item.service.pk if hasattr(item, "service") else None,
            "staff": item.staff.pk if getattr(item, "staff", None) is not None else None,
            "start": item.start.isoformat(),
            "end": item.end.isoformat(),
        }
        for item in plan_or_lines
    ]


def _deposit_take(
    appointment: Appointment, *, client: Client, amount: int, method: str, acting_user: User | None
) -> Deposit:
    reference = ""
    if method == DepositMethod.STORED_VALUE:
        from apps.loyalty.models import WalletEntryKind
        from apps.loyalty.services.wallets import wallet_debit

        reference = f"deposit:{appointment.pk}"
        wallet_debit(
            client=client,
            amount=amount,
            idempotency_key=reference,
            reference=f"appointment:{appointment.pk}",
            acting_user=acting_user,
            kind=WalletEntryKind.DEPOSIT,
        )
    deposit = Deposit.objects.create(
        appointment=appointment,
        amount=amount,
        method=method,
        wallet_reference=reference,
        recorded_by=acting_user if acting_user is not None and acting_user.pk else None,
    )
    _event(appointment, kind="deposit_taken", acting_user=acting_user, data={"amount": amount, "method": method})
    return deposit


def appointment_book(
    *,
    client: Client,
    location: Location,
    start: datetime.datetime,
    lines: Sequence[LineRequest],
    channel: str,
    acting_user: User | None,
    notes: str = "",
    idempotency_key: str | None = None,
    deposit_method: str | None = None,
    now: datetime.datetime | None = None,
) -> Appointment:
    """Book a visit: its lines one after another from ``start``, each with a technician who performs the
    service, works then at this location, is not off and not booked, and a free place of each resource the
    service needs. Nothing is written when any rule refuses; a collision with another booking is a 409
    naming it. The same ``idempotency_key`` returns the visit booked first."""
    now = now or timezone.now()
    start = _aware(start)
    key = (idempotency_key or "").strip() or None
    if key is not None and (len(key) > 80 or "\x00" in key):
        raise scheduling_error(SchedulingError.TEXT_TOO_LONG, field="idempotency_key")
    notes = (notes or "").strip()
    if len(notes) > 2000 or "\x00" in notes:
        raise scheduling_error(SchedulingError.TEXT_TOO_LONG, field="notes")
    method = _deposit_method(deposit_method)
    for attempt in range(_ATTEMPTS):
        if key is not None:
            replay = Appointment.objects.filter(idempotency_key=key).first()
            if replay is not None:
                return replay
        try:
            return _book_once(
                client=client,
                location=location,
                start=start,
                lines=lines,
                channel=channel,
                acting_user=acting_user,
                notes=notes,
                key=key,
                method=method,
                now=now,
            )
        except _Lost as lost:
            if key is not None and "idempotency" in lost.constraint:
                continue  # the concurrent request with this key committed: return its visit
            if attempt == _ATTEMPTS - 1:
                raise scheduling_error(
                    SchedulingError.STAFF_BUSY if lost.constraint == _LINE_CONSTRAINT else SchedulingError.RESOURCE_FULL
                ) from lost
        except Exception:
            # A refusal that a concurrent request with the same key caused (it booked the time first)
            # is that request's success.
            if key is not None:
                replay = Appointment.objects.filter(idempotency_key=key).first()
                if replay is not None:
                    return replay
            raise
    replay = Appointment.objects.filter(idempotency_key=key).first() if key else None
    if replay is None:  # pragma: no cover - the key's owner rolled back three times in a row
        raise scheduling_error(SchedulingError.STAFF_BUSY)
    return replay


def _book_once(
    *,
    client: Client,
    location: Location,
    start: datetime.datetime,
    lines: Sequence[LineRequest],
    channel: str,
    acting_user: User | None,
    notes: str,
    key: str | None,
    method: str | None,
    now: datetime.datetime,
) -> Appointment:
    plan = _plan(client=client, location=location, start=start, lines=lines, channel=channel, now=now)
    if plan.deposit > 0 and method is None:
        raise scheduling_error(
            SchedulingError.DEPOSIT_REQUIRED,
            message=_("This booking needs a deposit of ¥%(amount)s.") % {"amount": _yuan(plan.deposit)},
            extra={"deposit": plan.deposit},
        )
    try:
        with transaction.atomic():
            appointment = Appointment.objects.create(
                client=client,
                location=location,
                channel=channel,
                start=plan.lines[0].start,
                end=plan.lines[-1].end,
                notes=notes,
                idempotency_key=key,
                created_by=acting_user if acting_user is not None and acting_user.pk else None,
            )
            _write_lines(appointment, plan)
            _event(
                appointment,
                kind="booked",
                acting_user=acting_user,
                to_status=AppointmentStatus.BOOKED,
                data={"channel": channel, "lines": _lines_data(plan.lines)},
            )
            deposit = None
            if plan.deposit > 0 and method is not None:
                deposit = _deposit_take(
                    appointment, client=client, amount=plan.deposit, method=method, acting_user=acting_user
                )
            appointment._state.fields_cache["deposit"] = deposit  # known: spare the caller a query
    except (IntegrityError, OperationalError) as exc:
        lost = _lost_race(exc)
        if lost is not None:
            raise lost from exc
        raise
    _announce(appointment, "booked")
    return appointment


def _yuan(fen: int) -> str:
    from apps.core.money import fen_to_yuan

    return str(fen_to_yuan(fen))


# --- moving -----------------------------------------------------------------------------------------------


def _locked(appointment: Appointment) -> Appointment:
    return Appointment.objects.select_for_update().select_related("client", "location").get(pk=appointment.pk)


def _window_open(appointment: Appointment, now: datetime.datetime) -> bool:
    hours = scheduling_settings().cancellation_window_hours
    return now <= appointment.start - datetime.timedelta(hours=hours)


def appointment_reschedule(
    *,
    appointment: Appointment,
    start: datetime.datetime,
    lines: Sequence[LineRequest] | None = None,
    acting_user: User | None,
    by_client: bool = False,
    now: datetime.datetime | None = None,
) -> Appointment:
    """Move a booked or confirmed visit to ``start`` (optionally with other lines or technicians), with
    the same checks as a new booking, its own current time excluded. A refusal leaves the old time; a
    client may move it only until the salon's cancellation window."""
    now = now or timezone.now()
    start = _aware(start)
    for attempt in range(_ATTEMPTS):
        try:
            return _reschedule_once(
                appointment=appointment, start=start, lines=lines, acting_user=acting_user, by_client=by_client, now=now
            )
        except _Lost as lost:
            if attempt == _ATTEMPTS - 1:
                raise scheduling_error(
                    SchedulingError.STAFF_BUSY if lost.constraint == _LINE_CONSTRAINT else SchedulingError.RESOURCE_FULL
                ) from lost
    raise AssertionError("unreachable")  # pragma: no cover


def _reschedule_once(
    *,
    appointment: Appointment,
    start: datetime.datetime,
    lines: Sequence[LineRequest] | None,
    acting_user: User | None,
    by_client: bool,
    now: datetime.datetime,
) -> Appointment:
    with transaction.atomic():
        locked = _locked(appointment)
        if locked.status not in (AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED):
            raise scheduling_error(SchedulingError.INVALID_TRANSITION)
        if by_client and not _window_open(locked, now):
            raise scheduling_error(SchedulingError.CANCELLATION_WINDOW_CLOSED)
        old_lines = list(locked.lines.filter(is_active=True).select_related("service", "staff").order_by("position"))
        if lines is None:
            lines = [LineRequest(line.service, line.staff, line.is_requested) for line in old_lines]
        channel = AppointmentChannel.ONLINE if by_client else locked.channel
        if channel == AppointmentChannel.ONLINE and not by_client:
            channel = AppointmentChannel.STAFF  # staff may move an online booking past the online limits
        plan = _plan(
            client=locked.client,
            location=locked.location,
            start=start,
            lines=lines,
            channel=channel,
            now=now,
            exclude_appointment_id=locked.pk,
        )
        before = {
            "start": locked.start.isoformat(),
            "end": locked.end.isoformat(),
            "lines": _lines_data(old_lines),
        }
        try:
            with transaction.atomic():
                # The old lines go (their holds with them) and the new ones take their place in the same
                # transaction: a refusal or a lost race rolls back to the old times.
                AppointmentLine.objects.filter(appointment=locked).delete()
                _write_lines(locked, plan)
        except (IntegrityError, OperationalError) as exc:
            lost = _lost_race(exc)
            if lost is not None and lost.constraint != "idempotency":
                raise lost from exc
            raise
        locked.start = plan.lines[0].start
        locked.end = plan.lines[-1].end
        locked.reschedule_count = F("reschedule_count") + 1  # type: ignore[assignment]
        locked.save(update_fields=["start", "end", "reschedule_count", "updated_at"])
        locked.refresh_from_db(fields=["reschedule_count"])
        after = {"start": locked.start.isoformat(), "end": locked.end.isoformat(), "lines": _lines_data(plan.lines)}
        _event(
            locked,
            kind="rescheduled",
            acting_user=acting_user,
            from_status=locked.status,
            to_status=locked.status,
            data={"before": before, "after": after, "by_client": by_client},
        )
        _announce(locked, "rescheduled", before)
    return locked


# --- lifecycle ----------------------------------------------------------------------------------------------

_FROM: dict[str, tuple[str, ...]] = {
    AppointmentStatus.CONFIRMED: (AppointmentStatus.BOOKED,),
    AppointmentStatus.ARRIVED: (AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED),
    AppointmentStatus.IN_SERVICE: (AppointmentStatus.ARRIVED,),
    AppointmentStatus.DONE: (AppointmentStatus.IN_SERVICE,),
    AppointmentStatus.CANCELLED: (AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED, AppointmentStatus.ARRIVED),
    AppointmentStatus.NO_SHOW: (AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED),
}
_STAMP: dict[str, str] = {
    AppointmentStatus.CONFIRMED: "confirmed_at",
    AppointmentStatus.ARRIVED: "arrived_at",
    AppointmentStatus.IN_SERVICE: "started_at",
    AppointmentStatus.DONE: "finished_at",
    AppointmentStatus.CANCELLED: "cancelled_at",
    AppointmentStatus.NO_SHOW: "cancelled_at",
}
_KIND: dict[str, str] = {
    AppointmentStatus.CONFIRMED: "confirmed",
    AppointmentStatus.ARRIVED: "arrived",
    AppointmentStatus.IN_SERVICE: "started",
    AppointmentStatus.DONE: "finished",
    AppointmentStatus.CANCELLED: "cancelled",
    AppointmentStatus.NO_SHOW: "no_show",
}


def _check_clocking(appointment: Appointment, acting_user: User | None) -> None:
    """Starting and finishing (上钟/下钟): staff who book any appointment, or the technician of one of its
    lines (``view_own_schedule``)."""
    if acting_user is None or acting_user.has_perm(perm("book_appointments")):
        return
    if acting_user.has_perm(perm("view_own_schedule")) and appointment.lines.filter(staff=acting_user).exists():
        return
    raise core_error(CoreError.PERMISSION_DENIED)


def _move(
    appointment: Appointment,
    to: str,
    *,
    acting_user: User | None,
    data: dict[str, Any] | None = None,
    extra_fields: dict[str, Any] | None = None,
    locked: Appointment | None = None,
) -> Appointment:
    locked = locked or _locked(appointment)
    if locked.status not in _FROM[to]:
        raise scheduling_error(SchedulingError.INVALID_TRANSITION)
    before = locked.status
    locked.status = to
    setattr(locked, _STAMP[to], timezone.now())
    for name, value in (extra_fields or {}).items():
        setattr(locked, name, value)
    locked.save(update_fields=["status", _STAMP[to], "updated_at", *(extra_fields or {})])
    if to in (AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW):
        # Inactive lines and holds free the time (the exclusion constraints only see active rows).
        AppointmentResource.objects.filter(line__appointment=locked).update(is_active=False)
        AppointmentLine.objects.filter(appointment=locked).update(is_active=False)
    _event(locked, kind=_KIND[to], acting_user=acting_user, from_status=before, to_status=to, data=data)
    _announce(locked, _KIND[to], data)
    appointment.__dict__.update({k: v for k, v in locked.__dict__.items() if not k.startswith("_")})
    return locked


@transaction.atomic
def appointment_confirm(*, appointment: Appointment, acting_user: User | None) -> Appointment:
    """Booked → confirmed (the client said they are coming)."""
    return _move(appointment, AppointmentStatus.CONFIRMED, acting_user=acting_user)


@transaction.atomic
def appointment_arrive(*, appointment: Appointment, acting_user: User | None) -> Appointment:
    """Booked or confirmed → arrived (checked in at the desk)."""
    return _move(appointment, AppointmentStatus.ARRIVED, acting_user=acting_user)


@transaction.atomic
def appointment_start(*, appointment: Appointment, acting_user: User | None) -> Appointment:
    """Arrived → in service (上钟); the visit's technicians may do it themselves."""
    locked = _locked(appointment)
    _check_clocking(locked, acting_user)
    return _move(appointment, AppointmentStatus.IN_SERVICE, acting_user=acting_user, locked=locked)


@transaction.atomic
def appointment_finish(*, appointment: Appointment, acting_user: User | None) -> Appointment:
    """In service → done (下钟); the visit's technicians may do it themselves."""
    locked = _locked(appointment)
    _check_clocking(locked, acting_user)
    return _move(appointment, AppointmentStatus.DONE, acting_user=acting_user, locked=locked)


@transaction.atomic
def appointment_cancel(
    *,
    appointment: Appointment,
    acting_user: User | None,
    reason: str = "",
    by_client: bool = False,
    now: datetime.datetime | None = None,
) -> Appointment:
    """Cancel a visit that has not started, freeing its time. A client may cancel only until the salon's
    cancellation window; staff may cancel later, which counts as a late cancellation of the client. A
    deposit goes back when cancelled in time, and is kept after a late cancellation if the salon says so."""
    now = now or timezone.now()
    reason = (reason or "").strip()
    if len(reason) > 200 or "\x00" in reason:
        raise scheduling_error(SchedulingError.TEXT_TOO_LONG, field="reason")
    locked = _locked(appointment)
    if locked.status not in _FROM[AppointmentStatus.CANCELLED]:
        raise scheduling_error(SchedulingError.INVALID_TRANSITION)
    in_time = _window_open(locked, now)
    if by_client and not in_time:
        raise scheduling_error(SchedulingError.CANCELLATION_WINDOW_CLOSED)
    late = not in_time and locked.status != AppointmentStatus.ARRIVED
    moved = _move(
        appointment,
        AppointmentStatus.CANCELLED,
        acting_user=acting_user,
        data={"reason": reason, "by_client": by_client, "late": late},
        extra_fields={"cancel_reason": reason, "is_late_cancellation": late},
        locked=locked,
    )
    if late:
        _profile_bump(locked.client_id, "late_cancel_count")
    forfeit = late and scheduling_settings().late_cancel_forfeits_deposit
    _deposit_settle(moved, forfeit=forfeit, acting_user=acting_user)
    return moved


@transaction.atomic
def appointment_no_show(*, appointment: Appointment, acting_user: User | None) -> Appointment:
    """The client did not come: the time is freed, the client's no-show count goes up, and the deposit is
    kept when the salon says a no-show forfeits it (else given back)."""
    moved = _move(appointment, AppointmentStatus.NO_SHOW, acting_user=acting_user)
    _profile_bump(moved.client_id, "no_show_count")
    _deposit_settle(moved, forfeit=scheduling_settings().no_show_forfeits_deposit, acting_user=acting_user)
    return moved


# --- deposits ---------------------------------------------------------------------------------------------


def _deposit_settle(appointment: Appointment, *, forfeit: bool, acting_user: User | None) -> None:
    deposit = Deposit.objects.select_for_update().filter(appointment=appointment, status=DepositStatus.HELD).first()
    if deposit is None:
        return
    if forfeit:
        deposit.status = DepositStatus.FORFEITED
    else:
        if deposit.method == DepositMethod.STORED_VALUE:
            from apps.loyalty.models import WalletEntry
            from apps.loyalty.services.wallets import wallet_debit_reverse

            payment = WalletEntry.objects.get(idempotency_key=deposit.wallet_reference)
            wallet_debit_reverse(
                payment=payment,
                amount=deposit.amount,
                idempotency_key=f"deposit-return:{appointment.pk}",
                reference=f"appointment:{appointment.pk}",
                acting_user=acting_user,
            )
        deposit.status = DepositStatus.RETURNED
    deposit.settled_at = timezone.now()
    deposit.save(update_fields=["status", "settled_at"])
    _event(
        appointment,
        kind="deposit_forfeited" if forfeit else "deposit_returned",
        acting_user=acting_user,
        data={"amount": deposit.amount, "method": deposit.method},
    )


@dataclass(frozen=True)
class DepositApplied:
    """A deposit applied to its visit's bill: ``returned`` is what was more than the bill needed and went
    back to the client (to stored value for a stored-value deposit; in cash by the caller for one paid at
    the desk)."""

    deposit: Deposit
    applied: int
    returned: int


def deposit_apply(*, appointment_id: int, amount: int, reference: str, acting_user: User | None) -> DepositApplied:
    """Apply the appointment's held deposit to its bill (the till calls this while it takes a payment):
    ``amount`` of it pays the bill, the rest goes back to the client. Refused with DEPOSIT_NOT_HELD when
    there is none (never taken, already returned, forfeited or applied) and DEPOSIT_TOO_LARGE above what
    is held; nothing is written then. The deposit's row lock makes two tills applying it queue: the second
    is refused."""
    deposit = (
        Deposit.objects.select_for_update()
        .filter(appointment_id=appointment_id, status=DepositStatus.HELD)
        .select_related("appointment")
        .first()
    )
    if deposit is None:
        raise scheduling_error(SchedulingError.DEPOSIT_NOT_HELD)
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise scheduling_error(SchedulingError.INVALID, field="amount")
    if amount > deposit.amount:
        raise scheduling_error(
            SchedulingError.DEPOSIT_TOO_LARGE,
            message=_("The deposit held for this visit is ¥%(amount)s.") % {"amount": _yuan(deposit.amount)},
            extra={"deposit": deposit.amount},
        )
    returned = deposit.amount - amount
    if returned and deposit.method == DepositMethod.STORED_VALUE:
        from apps.loyalty.models import WalletEntry
        from apps.loyalty.services.wallets import wallet_debit_reverse

        wallet_debit_reverse(
            payment=WalletEntry.objects.get(idempotency_key=deposit.wallet_reference),
            amount=returned,
            idempotency_key=f"deposit-rest:{appointment_id}",
            reference=reference,
            acting_user=acting_user,
        )
    deposit.status = DepositStatus.APPLIED
    deposit.applied_amount = amount
    deposit.applied_reference = reference[:40]
    deposit.settled_at = timezone.now()
    deposit.save(update_fields=["status", "applied_amount", "applied_reference", "settled_at"])
    _event(
        deposit.appointment,
        kind="deposit_applied",
        acting_user=acting_user,
        data={"amount": deposit.amount, "applied": amount, "returned": returned, "reference": reference},
    )
    return DepositApplied(deposit, amount, returned)


_UNSET: Any = object()


@transaction.atomic
def client_booking_profile_update(
    *,
    client: Client,
    acting_user: User | None,
    is_blocked: bool = _UNSET,
    blocked_reason: str = _UNSET,
    requires_deposit: bool = _UNSET,
) -> ClientBookingProfile:
    """Put a client on or off the block list (no bookings accepted) or make every booking of theirs take a
    deposit; audited."""
    if acting_user is not None and not acting_user.has_perm(perm("manage_clients")):
        raise core_error(CoreError.PERMISSION_DENIED)
    ClientBookingProfile.objects.bulk_create([ClientBookingProfile(client=client)], ignore_conflicts=True)
    profile = ClientBookingProfile.objects.select_for_update().get(client=client)
    changes: dict[str, Any] = {}
    if blocked_reason is not _UNSET:
        reason = (blocked_reason or "").strip()
        if len(reason) > 200 or "\x00" in reason:
            raise scheduling_error(SchedulingError.TEXT_TOO_LONG, field="blocked_reason")
        if reason != profile.blocked_reason:
            changes["blocked_reason"] = [profile.blocked_reason, reason]
            profile.blocked_reason = reason
    if is_blocked is not _UNSET and bool(is_blocked) != profile.is_blocked:
        changes["is_blocked"] = [profile.is_blocked, bool(is_blocked)]
        profile.is_blocked = bool(is_blocked)
        profile.blocked_at = timezone.now() if profile.is_blocked else None
        if not profile.is_blocked and blocked_reason is _UNSET:
            profile.blocked_reason = ""
    if requires_deposit is not _UNSET and bool(requires_deposit) != profile.requires_deposit:
        changes["requires_deposit"] = [profile.requires_deposit, bool(requires_deposit)]
        profile.requires_deposit = bool(requires_deposit)
    if changes:
        profile.save()
        audit_record(
            action="scheduling.booking_profile.updated", actor=acting_user, target=client, data={"changes": changes}
        )
    return profile
