"""The walk-in queue (SCH-11): adding and its refusals, leaving, assigning by rotation, the requested
technician (点钟) with both settings, a refused booking changes nothing, two desks assigning at once
(real threads); two salons."""

from __future__ import annotations

import datetime
import zoneinfo
from collections.abc import Iterator
from typing import Any

import pytest
from django_tenants.utils import schema_context

from apps.core.errors import ServiceError
from apps.core.models import AuditEntry
from apps.crm.models import Client
from apps.scheduling.errors import SchedulingError
from apps.scheduling.models import (
    AppointmentLine,
    RotationEntry,
    SchedulingSettings,
    WalkIn,
    WalkInStatus,
)
from apps.scheduling.services import rotation, walkins
from apps.scheduling.tests.support import (
    appointment_insert,
    client_make,
    default_location,
    service_make,
    technician_make,
)
from tests.races import race, salon_for_races

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
DAY = datetime.date(2026, 12, 2)
NOON = datetime.datetime(2026, 12, 2, 12, 0, tzinfo=SHANGHAI)


@pytest.fixture
def salon(in_alpha):
    cut = service_make("Cut", minutes=60)
    colour = service_make("Colour", minutes=90)
    bai = technician_make("Bai", services=[cut, colour])
    chen = technician_make("Chen", services=[cut])
    return {"cut": cut, "colour": colour, "bai": bai, "chen": chen, "location": default_location()}


def _add(salon, **overrides: Any) -> WalkIn:
    fields: dict[str, Any] = {"location": salon["location"], "services": [salon["cut"]], "acting_user": None}
    if "client" not in overrides and "name" not in overrides:
        fields["name"] = "Ms Zhou"
    fields.update(overrides)
    return walkins.walk_in_add(**fields)


def _cards(salon):
    return [
        (c.staff.name, c.position, c.turns, c.requested_turns)
        for c in rotation.rotation_cards(location=salon["location"], date=DAY)
    ]


# --- the queue ------------------------------------------------------------------------------------


def test_a_walk_in_joins_with_a_client_or_a_name(salon):
    # given
    client = client_make("李娜")
    # when
    known = _add(salon, client=client, services=[salon["colour"], salon["cut"]], requested_staff=salon["bai"])
    anonymous = _add(salon, name="  Ms Zhou ")
    # then
    assert (known.client, known.name, known.service_ids, known.requested_staff, known.status) == (
        client,
        "李娜",
        [salon["colour"].pk, salon["cut"].pk],
        salon["bai"],
        WalkInStatus.WAITING,
    )
    assert (anonymous.client, anonymous.name, anonymous.requested_staff) == (None, "Ms Zhou", None)
    assert list(WalkIn.objects.order_by("id")) == [known, anonymous]


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"name": "  "}, SchedulingError.NAME_REQUIRED),
        ({"services": []}, SchedulingError.SERVICES_REQUIRED),
        ({"name": "x" * 101}, SchedulingError.TEXT_TOO_LONG),
    ],
)
def test_adding_is_refused_and_nothing_is_written(salon, overrides, code):
    with pytest.raises(ServiceError) as refused:
        _add(salon, **overrides)
    assert refused.value.code == code
    assert WalkIn.objects.count() == 0


def test_the_requested_technician_must_perform_the_services(salon):
    with pytest.raises(ServiceError) as refused:
        _add(salon, services=[salon["colour"]], requested_staff=salon["chen"])
    assert refused.value.code == SchedulingError.STAFF_LACKS_SKILL
    assert WalkIn.objects.count() == 0


def test_leaving_takes_the_walk_in_out_once(salon):
    # given
    walk_in = _add(salon)
    # when
    left = walkins.walk_in_leave(walk_in=walk_in, acting_user=None)
    # then
    assert left.status == WalkInStatus.LEFT
    with pytest.raises(ServiceError) as again:
        walkins.walk_in_leave(walk_in=walk_in, acting_user=None)
    assert again.value.code == SchedulingError.NOT_WAITING
    with pytest.raises(ServiceError) as assign:
        walkins.walk_in_assign(walk_in=walk_in, acting_user=None, now=NOON)
    assert assign.value.code == SchedulingError.NOT_WAITING


def test_nobody_free_is_refused_and_changes_nothing(salon):
    # given both technicians are with clients at noon
    for tech in (salon["bai"], salon["chen"]):
        appointment_insert(
            client=client_make(), start=NOON - datetime.timedelta(minutes=15), lines=[(salon["cut"], tech)]
        )
    walk_in = _add(salon)
    # when
    with pytest.raises(ServiceError) as refused:
        walkins.walk_in_assign(walk_in=walk_in, acting_user=None, now=NOON)
    # then
    assert refused.value.code == SchedulingError.NO_TECHNICIAN_FREE
    walk_in.refresh_from_db()
    assert (walk_in.status, walk_in.assigned_staff, walk_in.appointment) == (WalkInStatus.WAITING, None, None)
    assert _cards(salon) == []  # the rotation was built in the refused transaction and rolled back with it


def test_a_served_walk_in_follows_its_visit(salon):
    # given a walk-in being served
    walk_in = _add(salon)
    visit = appointment_insert(client=client_make(), start=NOON, lines=[(salon["cut"], salon["bai"])])
    WalkIn.objects.filter(pk=walk_in.pk).update(status=WalkInStatus.SERVING, appointment=visit)
    # when / then
    assert walkins.walk_ins_follow_appointment(appointment_id=visit.pk, kind="started") == 0
    assert walkins.walk_ins_follow_appointment(appointment_id=visit.pk, kind="finished") == 1
    walk_in.refresh_from_db()
    assert walk_in.status == WalkInStatus.DONE


def test_another_salon_sees_none_of_it(salon, beta):
    _add(salon)
    with schema_context(beta.schema):
        assert WalkIn.objects.count() == 0


# --- assigning (the real booking) -----------------------------------------------------------------


def test_assigning_by_rotation_books_from_now_and_sends_the_card_back(salon):
    # given
    walk_in = _add(salon)
    # when
    assigned = walkins.walk_in_assign(walk_in=walk_in, acting_user=None, now=NOON + datetime.timedelta(seconds=42))
    # then Bai (first by roster order) serves a name-only walk-in, who now has a client record
    assert (assigned.status, assigned.assigned_staff, assigned.assigned_at) == (
        WalkInStatus.SERVING,
        salon["bai"],
        NOON,
    )
    visit = assigned.appointment
    assert (visit.channel, visit.start, visit.client.name, visit.client.source) == (
        "walk_in",
        NOON,
        "Ms Zhou",
        "walk_in",
    )
    assert list(visit.lines.values_list("staff_id", "is_requested")) == [(salon["bai"].pk, False)]
    assert _cards(salon) == [("Chen", 2, 0, 0), ("Bai", 3, 1, 0)]
    # the next walk-in goes to Chen
    second = walkins.walk_in_assign(walk_in=_add(salon, name="Mr Wu"), acting_user=None, now=NOON)
    assert second.assigned_staff == salon["chen"]
    assert _cards(salon) == [("Bai", 3, 1, 0), ("Chen", 4, 1, 0)]


@pytest.mark.parametrize(
    ("keeps_turn", "expected"),
    [(True, [("Bai", 1, 0, 1), ("Chen", 2, 0, 0)]), (False, [("Chen", 2, 0, 0), ("Bai", 3, 0, 1)])],
)
def test_a_requested_technician_keeps_or_loses_the_turn_by_the_setting(salon, keeps_turn, expected):
    # given the client asked for Bai, first in the rotation
    SchedulingSettings.objects.filter(pk=1).update(rotation_requested_keeps_turn=keeps_turn)
    walk_in = _add(salon, client=client_make(), requested_staff=salon["bai"])
    # when
    assigned = walkins.walk_in_assign(walk_in=walk_in, staff=salon["bai"], acting_user=None, now=NOON)
    # then
    assert assigned.assigned_staff == salon["bai"]
    assert list(assigned.appointment.lines.values_list("staff_id", "is_requested")) == [(salon["bai"].pk, True)]
    assert _cards(salon) == expected


def test_a_technician_picked_by_hand_takes_the_turn(salon):
    # when the desk gives Chen (second) a walk-in who asked for nobody
    assigned = walkins.walk_in_assign(walk_in=_add(salon), staff=salon["chen"], acting_user=None, now=NOON)
    # then
    assert assigned.assigned_staff == salon["chen"]
    assert list(assigned.appointment.lines.values_list("is_requested", flat=True)) == [False]
    assert _cards(salon) == [("Bai", 1, 0, 0), ("Chen", 2, 1, 0)]  # already last, Chen stays there


def test_a_busy_requested_technician_is_refused_and_nothing_changes(salon):
    # given Chen is with a client
    appointment_insert(
        client=client_make(), start=NOON - datetime.timedelta(minutes=15), lines=[(salon["cut"], salon["chen"])]
    )
    walk_in = _add(salon, requested_staff=salon["chen"])
    # when
    with pytest.raises(ServiceError) as refused:
        walkins.walk_in_assign(walk_in=walk_in, staff=salon["chen"], acting_user=None, now=NOON)
    # then
    assert (refused.value.code, refused.value.status) == (SchedulingError.STAFF_BUSY, 409)
    walk_in.refresh_from_db()
    assert (walk_in.status, walk_in.client) == (WalkInStatus.WAITING, None)
    assert Client.objects.filter(name="Ms Zhou").count() == 0
    assert AuditEntry.objects.filter(action="scheduling.walk_in.assigned").count() == 0


# --- two desks at once (real threads, committed data) ---------------------------------------------


@pytest.fixture(scope="module")
def race_salon(two_salons: Any, django_db_blocker: Any) -> Iterator[str]:
    with django_db_blocker.unblock(), salon_for_races("walk-in-race") as schema:
        yield schema


def test_three_desks_assigning_at_once_never_give_one_technician_two_walk_ins(race_salon, django_db_blocker):
    # given two technicians and three walk-ins
    with django_db_blocker.unblock(), schema_context(race_salon):
        cut = service_make("Race cut", minutes=60)
        techs = [technician_make(f"Racer{i}", services=[cut]) for i in range(2)]
        location = default_location()
        queue = [
            walkins.walk_in_add(location=location, services=[cut], name=f"Walk-in {i}", acting_user=None)
            for i in range(3)
        ]
    # when three desks assign at the same moment
    with django_db_blocker.unblock():
        outcomes = race(race_salon, 3, lambda i: walkins.walk_in_assign(walk_in=queue[i], acting_user=None, now=NOON))
    # then two are served by different technicians, the third is told nobody is free, no card is lost
    with django_db_blocker.unblock(), schema_context(race_salon):
        served = [o for o in outcomes if isinstance(o, WalkIn)]
        refused = [o for o in outcomes if isinstance(o, ServiceError)]
        assert (len(served), len(refused)) == (2, 1), outcomes
        assert refused[0].code == SchedulingError.NO_TECHNICIAN_FREE
        assert sorted(w.assigned_staff_id for w in served) == sorted(t.pk for t in techs)
        for tech in techs:
            assert AppointmentLine.objects.filter(staff=tech, is_active=True).count() == 1
        cards = list(RotationEntry.objects.filter(date=DAY).order_by("position"))
        assert [c.turns for c in cards] == [1, 1]
        assert len({c.position for c in cards}) == 2
        assert sorted(WalkIn.objects.values_list("status", flat=True)) == ["serving", "serving", "waiting"]
