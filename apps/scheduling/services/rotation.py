"""The technician rotation (轮牌, SCH-11): one card per technician working at a location on a date, in
order. The next walk-in goes to the first available card whose technician performs the services, is on
shift now and is free for the whole visit; taking a turn or being skipped sends the card to the back.

Every write locks the location's row and then its rotation cards ordered by id, the same order in
every service here and in ``walk_ins``: two front desks acting at once queue up behind each other
instead of deadlocking, and neither can hand the same card out twice or lose one. The booking's
exclusion constraint stays the backstop against a technician taking two clients at once.

Positions are unique per location and day (``rotation_position_unique``, checked row by row, not
deferred): a card goes to the back at max + 1, which no card holds, and a reorder first moves the
cards to negative positions and then to 1…n, so no statement ever sees two cards on one position.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone

from apps.catalog.models import Service
from apps.core.db import salon_timezone
from apps.core.models import Location, User
from apps.core.services import audit_record
from apps.scheduling.errors import SchedulingError, scheduling_error
from apps.scheduling.models import (
    AppointmentLine,
    RotationEntry,
    RotationStatus,
    ShiftException,
    ShiftPattern,
    StaffProfile,
)
from apps.scheduling.roster import roster_periods, time_off_between
from apps.scheduling.services.queue_common import busy_minutes


def _local_date(now: datetime.datetime) -> datetime.date:
    return now.astimezone(salon_timezone()).date()


def rotation_lock(*, location: Location, date: datetime.date) -> list[RotationEntry]:
    """Lock the location, then its cards of ``date`` by id (call inside a transaction). The location row
    is locked too because a day without cards has no row to lock and two desks must not build it twice.
    FOR NO KEY UPDATE: bookings at the location (foreign-key checks) are not held up by it."""
    Location.objects.select_for_update(no_key=True).filter(pk=location.pk).first()
    # order_by("id") is intentional: a consistent lock order prevents deadlocks between desks.
    return list(RotationEntry.objects.select_for_update().filter(location=location, date=date).order_by("id"))


def _working_staff(*, location: Location, date: datetime.date) -> list[int]:
    """Ids of active staff on the roster at ``location`` on ``date``, by the start of their first
    period that day, then name."""
    candidates = set(
        ShiftPattern.objects.filter(location=location, weekday=date.weekday()).values_list("staff_id", flat=True)
    ) | set(ShiftException.objects.filter(location=location, date=date).values_list("staff_id", flat=True))
    active = dict(User.objects.filter(pk__in=candidates, is_active=True).values_list("pk", "name"))
    periods = roster_periods(
        staff_ids=sorted(active), date_from=date, date_to=date, tz=salon_timezone(), location_id=location.pk
    )
    return sorted(periods, key=lambda staff_id: (periods[staff_id][0].start, active[staff_id], staff_id))


@transaction.atomic
def rotation_build(
    *,
    location: Location,
    date: datetime.date,
    staff_order: Sequence[User] | None = None,
    acting_user: User | None = None,
) -> list[RotationEntry]:
    """The rotation of a location for a day, made on first use from the technicians on the roster (by
    the start of their shift, or in ``staff_order`` when given); technicians added to that day's roster
    later join at the back. Safe to call again: existing cards keep their place."""
    cards = rotation_lock(location=location, date=date)
    have = {c.staff_id for c in cards}
    working = _working_staff(location=location, date=date)
    if staff_order is not None:
        chosen = [u.pk for u in staff_order]
        if any(pk not in working for pk in chosen):
            raise scheduling_error(SchedulingError.UNKNOWN_STAFF)
        working = chosen + [pk for pk in working if pk not in chosen]
    new = [pk for pk in working if pk not in have]
    if new:
        top = max((c.position for c in cards), default=0)
        RotationEntry.objects.bulk_create(
            [
                RotationEntry(location=location, date=date, staff_id=pk, position=top + i)
                for i, pk in enumerate(new, start=1)
            ]
        )
        audit_record(
            action="scheduling.rotation.built",
            actor=acting_user,
            target=location,
            data={"date": date.isoformat(), "added": new},
        )
    return list(
        RotationEntry.objects.filter(location=location, date=date).select_related("staff").order_by("position", "id")
    )


def rotation_cards(*, location: Location, date: datetime.date) -> list[RotationEntry]:
    """The cards of a day in rotation order (read only)."""
    return list(
        RotationEntry.objects.filter(location=location, date=date).select_related("staff").order_by("position", "id")
    )


def _free_now(
    *, location: Location, staff_ids: Sequence[int], services: Sequence[Service], now: datetime.datetime
) -> set[int]:
    """Who among ``staff_ids`` performs all ``services``, is on shift at ``location`` and not off from now
    until the visit and its buffers are over, and has no active line in [now, now + busy time)."""
    if not staff_ids:
        return set()
    service_ids = {s.pk for s in services}
    skilled: dict[int, set[int]] = {}
    for user_id, service_id in StaffProfile.skills.through.objects.filter(
        staffprofile__user_id__in=staff_ids, service_id__in=service_ids
    ).values_list("staffprofile__user_id", "service_id"):
        skilled.setdefault(user_id, set()).add(service_id)
    able = [pk for pk in staff_ids if skilled.get(pk, set()) >= service_ids]
    if not able:
        return set()
    # The booking holds a technician until the last service's buffer is over and wants the shift, free of
    # time off, to cover that whole span; the same span is asked for here.
    until = now + busy_minutes(services)
    day = _local_date(now)
    periods = roster_periods(staff_ids=able, date_from=day, date_to=day, tz=salon_timezone(), location_id=location.pk)
    on_shift = {pk for pk in able if any(p.start <= now and until <= p.end for p in periods.get(pk, ()))}
    off = time_off_between(staff_ids=sorted(on_shift), start=now, end=until)
    busy = set(
        AppointmentLine.objects.filter(
            is_active=True, staff_id__in=on_shift, start__lt=until, busy_until__gt=now
        ).values_list("staff_id", flat=True)
    )
    return {pk for pk in on_shift if pk not in off and pk not in busy}


def rotation_next(
    *, location: Location, services: Sequence[Service], now: datetime.datetime | None = None
) -> RotationEntry | None:
    """The card whose turn it is for a walk-in wanting ``services`` now: the available card with the
    lowest position whose technician performs them all, is on shift and is free for the whole visit."""
    now = now or timezone.now()
    cards = [
        c for c in rotation_cards(location=location, date=_local_date(now)) if c.status == RotationStatus.AVAILABLE
    ]
    free = _free_now(location=location, staff_ids=[c.staff_id for c in cards], services=services, now=now)
    return next((c for c in cards if c.staff_id in free), None)


def rotation_send_back(card: RotationEntry, cards: Sequence[RotationEntry]) -> None:
    """Put ``card`` behind every other card of its day (the caller holds the locks of ``cards``)."""
    top = max((c.position for c in cards), default=0)
    if card.position != top or sum(1 for c in cards if c.position == top) > 1:
        card.position = top + 1


def _locked_card(card: RotationEntry) -> tuple[RotationEntry, list[RotationEntry]]:
    cards = rotation_lock(location=card.location, date=card.date)
    locked = next((c for c in cards if c.pk == card.pk), None)
    if locked is None:
        raise scheduling_error(SchedulingError.UNKNOWN_STAFF)
    return locked, cards


@transaction.atomic
def rotation_skip(*, card: RotationEntry, reason: str = "", acting_user: User | None) -> RotationEntry:
    """Pass over a technician's turn: the card goes to the back and counts a skip; the reason is kept in
    the audit log."""
    card, cards = _locked_card(card)
    before = card.position
    rotation_send_back(card, cards)
    card.skips += 1
    card.save(update_fields=["position", "skips", "updated_at"])
    audit_record(
        action="scheduling.rotation.skipped",
        actor=acting_user,
        target=card,
        data={
            "staff": card.staff_id,
            "date": card.date.isoformat(),
            "from": before,
            "to": card.position,
            "reason": (reason or "").strip()[:200],
        },
    )
    return card


def _set_status(card: RotationEntry, status: str, acting_user: User | None) -> RotationEntry:
    card, _cards = _locked_card(card)
    if card.status != status:
        card.status = status
        card.save(update_fields=["status", "updated_at"])
        audit_record(
            action=f"scheduling.rotation.{status}",
            actor=acting_user,
            target=card,
            data={"staff": card.staff_id, "date": card.date.isoformat()},
        )
    return card


@transaction.atomic
def rotation_away(*, card: RotationEntry, acting_user: User | None) -> RotationEntry:
    """The technician stepped away (break, errand): passed over by the rotation, keeping their place."""
    return _set_status(card, RotationStatus.AWAY, acting_user)


@transaction.atomic
def rotation_back(*, card: RotationEntry, acting_user: User | None) -> RotationEntry:
    """The technician is back and takes turns again from the place they kept."""
    return _set_status(card, RotationStatus.AVAILABLE, acting_user)


@transaction.atomic
def rotation_reorder(
    *, location: Location, date: datetime.date, staff_order: Sequence[User | int], acting_user: User | None
) -> list[RotationEntry]:
    """Put the cards in the order given (technicians, first to last); cards not named keep their order
    behind them."""
    cards = rotation_lock(location=location, date=date)
    by_staff = {c.staff_id: c for c in cards}
    wanted = [s.pk if isinstance(s, User) else int(s) for s in staff_order]
    if len(set(wanted)) != len(wanted) or any(pk not in by_staff for pk in wanted):
        raise scheduling_error(SchedulingError.UNKNOWN_STAFF)
    rest = [c for c in sorted(cards, key=lambda c: (c.position, c.pk)) if c.staff_id not in wanted]
    ordered = [by_staff[pk] for pk in wanted] + rest
    before = [c.staff_id for c in sorted(cards, key=lambda c: (c.position, c.pk))]
    # Two passes (see the module's docstring): negative positions are free, then 1…n are.
    for i, card in enumerate(ordered, start=1):
        RotationEntry.objects.filter(pk=card.pk).update(position=-i)
    for i, card in enumerate(ordered, start=1):
        RotationEntry.objects.filter(pk=card.pk).update(position=i, updated_at=timezone.now())
    audit_record(
        action="scheduling.rotation.reordered",
        actor=acting_user,
        target=location,
        data={"date": date.isoformat(), "from": before, "to": [c.staff_id for c in ordered]},
    )
    return rotation_cards(location=location, date=date)
