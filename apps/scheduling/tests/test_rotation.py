"""The technician rotation (轮牌, SCH-11): built from the roster, who is next by position, skill, shift
and free time, skip, away and back, reorder; two salons."""

from __future__ import annotations

import datetime
import zoneinfo

import pytest
from django_tenants.utils import schema_context

from apps.core.errors import ServiceError
from apps.core.models import AuditEntry
from apps.core.services import location_create
from apps.scheduling.errors import SchedulingError
from apps.scheduling.models import RotationEntry, RotationStatus, TimeOff
from apps.scheduling.services import rotation
from apps.scheduling.tests.support import (
    appointment_insert,
    client_make,
    default_location,
    service_make,
    technician_make,
)

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
DAY = datetime.date(2026, 12, 2)
NOON = datetime.datetime(2026, 12, 2, 12, 0, tzinfo=SHANGHAI)


def _order(cards):
    return [c.staff.name for c in cards]


@pytest.fixture
def salon(in_alpha):
    cut = service_make("Cut", minutes=60)
    colour = service_make("Colour", minutes=90, buffer=15)
    an = technician_make("An", services=[cut], hours=("11:00", "19:00"))
    bai = technician_make("Bai", services=[cut, colour])
    chen = technician_make("Chen", services=[cut])
    return {"cut": cut, "colour": colour, "an": an, "bai": bai, "chen": chen, "location": default_location()}


def test_rotation_is_built_from_the_roster_by_shift_start_then_name(salon):
    # given three technicians; An starts an hour after the others
    # when
    cards = rotation.rotation_build(location=salon["location"], date=DAY, acting_user=None)
    # then
    assert _order(cards) == ["Bai", "Chen", "An"]
    assert [c.position for c in cards] == [1, 2, 3]
    assert {(c.status, c.turns, c.skips, c.requested_turns) for c in cards} == {(RotationStatus.AVAILABLE, 0, 0, 0)}


def test_building_again_keeps_places_and_adds_newcomers_at_the_back(salon):
    # given a rotation where Bai already went to the back
    cards = rotation.rotation_build(location=salon["location"], date=DAY, acting_user=None)
    rotation.rotation_skip(card=cards[0], reason="late", acting_user=None)
    dong = technician_make("Dong", services=[salon["cut"]], hours=("09:00", "19:00"))
    # when
    again = rotation.rotation_build(location=salon["location"], date=DAY, acting_user=None)
    # then Dong starts earliest but joins behind everyone
    assert _order(again) == ["Chen", "An", "Bai", "Dong"]
    assert again[-1].staff == dong


def test_a_manual_order_comes_first_and_the_rest_follow_by_roster(salon):
    # when
    cards = rotation.rotation_build(location=salon["location"], date=DAY, staff_order=[salon["an"]], acting_user=None)
    # then
    assert _order(cards) == ["An", "Bai", "Chen"]


def test_only_people_on_the_roster_that_day_get_a_card(salon):
    # given Eve works only on Mondays (DAY is a Wednesday) and Fang has no shifts
    technician_make("Eve", services=[salon["cut"]], weekdays=[0])
    technician_make("Fang", services=[salon["cut"]], hours=None)
    # when
    cards = rotation.rotation_build(location=salon["location"], date=DAY, acting_user=None)
    # then
    assert _order(cards) == ["Bai", "Chen", "An"]


def test_next_is_the_first_card_that_can_do_the_services(salon):
    # given
    rotation.rotation_build(location=salon["location"], date=DAY, acting_user=None)
    # when / then: anyone for a cut, only Bai colours
    assert rotation.rotation_next(location=salon["location"], services=[salon["cut"]], now=NOON).staff.name == "Bai"
    chen_first = rotation.rotation_reorder(
        location=salon["location"], date=DAY, staff_order=[salon["chen"]], acting_user=None
    )
    assert _order(chen_first) == ["Chen", "Bai", "An"]
    assert rotation.rotation_next(location=salon["location"], services=[salon["colour"]], now=NOON).staff.name == "Bai"
    assert (
        rotation.rotation_next(
            location=salon["location"], services=[salon["cut"], salon["colour"]], now=NOON
        ).staff.name
        == "Bai"
    )


def test_next_passes_over_the_busy_the_away_the_off_and_those_whose_shift_ends_too_soon(salon):
    # given Bai has a client until 12:30, Chen is away
    rotation.rotation_build(location=salon["location"], date=DAY, acting_user=None)
    appointment_insert(
        client=client_make(), start=NOON - datetime.timedelta(minutes=30), lines=[(salon["cut"], salon["bai"])]
    )
    chen_card = RotationEntry.objects.get(staff=salon["chen"], date=DAY)
    rotation.rotation_away(card=chen_card, acting_user=None)
    # when / then An is next
    assert rotation.rotation_next(location=salon["location"], services=[salon["cut"]], now=NOON).staff.name == "An"
    # An on leave from 12:30: a one-hour cut from noon does not fit
    TimeOff.objects.create(
        staff=salon["an"], start=NOON + datetime.timedelta(minutes=30), end=NOON + datetime.timedelta(hours=2)
    )
    assert rotation.rotation_next(location=salon["location"], services=[salon["cut"]], now=NOON) is None
    # Chen back: Chen is next again, with the place kept
    rotation.rotation_back(card=chen_card, acting_user=None)
    assert rotation.rotation_next(location=salon["location"], services=[salon["cut"]], now=NOON).staff.name == "Chen"
    # at 18:30 nobody's shift (until 19:00) holds a one-hour cut
    late = datetime.datetime(2026, 12, 2, 18, 30, tzinfo=SHANGHAI)
    assert rotation.rotation_next(location=salon["location"], services=[salon["cut"]], now=late) is None
    # at 10:00 Bai is free for an hour; An (from 11:00) is not on shift yet
    early = datetime.datetime(2026, 12, 2, 10, 0, tzinfo=SHANGHAI)
    assert rotation.rotation_next(location=salon["location"], services=[salon["cut"]], now=early).staff.name == "Bai"
    rotation.rotation_away(card=RotationEntry.objects.get(staff=salon["bai"], date=DAY), acting_user=None)
    rotation.rotation_away(card=chen_card, acting_user=None)
    assert rotation.rotation_next(location=salon["location"], services=[salon["cut"]], now=early) is None


def test_a_buffer_counts_as_busy_time(salon):
    # given Bai's colour ended at 11:45 but its 15-minute clean-up runs to noon
    rotation.rotation_build(location=salon["location"], date=DAY, acting_user=None)
    appointment_insert(
        client=client_make(),
        start=NOON - datetime.timedelta(minutes=105),
        lines=[(salon["colour"], salon["bai"])],
    )
    # when / then Bai is free exactly at noon, not a minute before
    assert rotation.rotation_next(location=salon["location"], services=[salon["cut"]], now=NOON).staff.name == "Bai"
    before = NOON - datetime.timedelta(minutes=1)
    assert rotation.rotation_next(location=salon["location"], services=[salon["cut"]], now=before).staff.name == "Chen"


def test_skip_sends_the_card_to_the_back_with_the_reason_in_the_audit(salon):
    # given
    cards = rotation.rotation_build(location=salon["location"], date=DAY, acting_user=None)
    # when
    skipped = rotation.rotation_skip(card=cards[0], reason="On a phone call", acting_user=None)
    # then
    assert (skipped.position, skipped.skips, skipped.turns) == (4, 1, 0)
    assert _order(rotation.rotation_cards(location=salon["location"], date=DAY)) == ["Chen", "An", "Bai"]
    entry = AuditEntry.objects.filter(action="scheduling.rotation.skipped").get()
    assert entry.data == {
        "staff": salon["bai"].pk,
        "date": "2026-12-02",
        "from": 1,
        "to": 4,
        "reason": "On a phone call",
    }
    # skipping the last card again leaves it last without a gap
    again = rotation.rotation_skip(card=skipped, reason="", acting_user=None)
    assert (again.position, again.skips) == (4, 2)


def test_reorder_rewrites_positions_without_breaking_uniqueness(salon):
    # given
    rotation.rotation_build(location=salon["location"], date=DAY, acting_user=None)
    # when a full reversal
    cards = rotation.rotation_reorder(
        location=salon["location"],
        date=DAY,
        staff_order=[salon["an"], salon["chen"], salon["bai"]],
        acting_user=None,
    )
    # then
    assert [(c.staff.name, c.position) for c in cards] == [("An", 1), ("Chen", 2), ("Bai", 3)]


def test_reorder_refuses_someone_without_a_card_and_changes_nothing(salon):
    # given
    rotation.rotation_build(location=salon["location"], date=DAY, acting_user=None)
    stranger = technician_make("Gao", services=[salon["cut"]], hours=None)
    # when
    with pytest.raises(ServiceError) as refused:
        rotation.rotation_reorder(
            location=salon["location"], date=DAY, staff_order=[stranger, salon["an"]], acting_user=None
        )
    # then
    assert refused.value.code == SchedulingError.UNKNOWN_STAFF
    assert _order(rotation.rotation_cards(location=salon["location"], date=DAY)) == ["Bai", "Chen", "An"]
    with pytest.raises(ServiceError):
        rotation.rotation_reorder(
            location=salon["location"], date=DAY, staff_order=[salon["an"], salon["an"]], acting_user=None
        )


def test_each_location_has_its_own_rotation(salon):
    # given a second shop where only Hu works
    north = location_create(name="North")
    technician_make("Hu", services=[salon["cut"]], location=north)
    # when
    main_cards = rotation.rotation_build(location=salon["location"], date=DAY, acting_user=None)
    north_cards = rotation.rotation_build(location=north, date=DAY, acting_user=None)
    # then
    assert (_order(main_cards), _order(north_cards)) == (["Bai", "Chen", "An"], ["Hu"])
    assert rotation.rotation_next(location=north, services=[salon["cut"]], now=NOON).staff.name == "Hu"


def test_another_salon_sees_none_of_it(salon, beta):
    # given alpha's rotation
    rotation.rotation_build(location=salon["location"], date=DAY, acting_user=None)
    # when / then beta has no cards and nobody next
    with schema_context(beta.schema):
        cut = service_make("Cut")
        assert rotation.rotation_build(location=default_location(), date=DAY, acting_user=None) == []
        assert rotation.rotation_next(location=default_location(), services=[cut], now=NOON) is None


def test_next_reads_in_a_fixed_number_of_queries(salon, django_assert_max_num_queries):
    # given a rotation of ten
    for i in range(7):
        technician_make(f"Extra{i}", services=[salon["cut"]])
    rotation.rotation_build(location=salon["location"], date=DAY, acting_user=None)
    # when / then six reads (cards, skills, patterns, exceptions, time off, lines), each behind the
    # SET search_path that schema_context issues in tests
    with django_assert_max_num_queries(12):
        assert rotation.rotation_next(location=salon["location"], services=[salon["cut"]], now=NOON) is not None
