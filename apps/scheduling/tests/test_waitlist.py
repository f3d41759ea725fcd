"""The waitlist (SCH-9): joining and its refusals, cancelling, offers made in join order when a booking
frees a slot, the first to accept wins (real threads), expiry, decline; two salons."""

from __future__ import annotations

import datetime
import zoneinfo
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django_tenants.utils import schema_context

from apps.core.errors import ServiceError
from apps.messaging import sms
from apps.scheduling.errors import SchedulingError
from apps.scheduling.models import (
    Appointment,
    AppointmentLine,
    WaitlistEntry,
    WaitlistOffer,
    WaitlistOfferStatus,
    WaitlistStatus,
)
from apps.scheduling.services import waitlist
from apps.scheduling.tests.support import client_make, default_location, service_make, technician_make
from tests.races import race, salon_for_races

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
DAY = datetime.date(2026, 12, 2)
BEFORE = datetime.datetime(2026, 12, 1, 9, 0, tzinfo=SHANGHAI)  # the day before, when clients join
T = datetime.time


@pytest.fixture(autouse=True)
def _days_before_day() -> Iterator[None]:
    """These tests book DAY and look at it from the days before: the clock starts at noon on 26 November
    2026, still ticking, whatever the date of the run (once DAY has passed, booking it is refused)."""
    with time_machine.travel(datetime.datetime(2026, 11, 26, 12, tzinfo=SHANGHAI), tick=True):
        yield


@pytest.fixture
def salon(in_alpha):
    cut = service_make("Cut", minutes=60)
    wash = service_make("Wash", minutes=30)
    bai = technician_make("Bai", services=[cut, wash])
    return {"cut": cut, "wash": wash, "bai": bai, "location": default_location()}


def _join(salon, client=None, **overrides: Any) -> WaitlistEntry:
    fields: dict[str, Any] = {
        "client": client or client_make(),
        "location": salon["location"],
        "services": [salon["wash"], salon["cut"]],
        "date": DAY,
        "earliest": T(14, 0),
        "latest": T(17, 0),
        "acting_user": None,
        "now": BEFORE,
    }
    fields.update(overrides)
    return waitlist.waitlist_join(**fields)


def _offer(entry: WaitlistEntry, *, start: datetime.datetime, expires_at: datetime.datetime, **fields: Any):
    """An offer row as the offer task writes it (for tests of answering and expiry)."""
    return WaitlistOffer.objects.create(
        entry=entry,
        start=start,
        end=start + datetime.timedelta(minutes=90),
        staff_ids=fields.pop("staff_ids", []),
        token=fields.pop("token", f"tok-{entry.pk}-{start:%H%M}"),
        expires_at=expires_at,
        **fields,
    )


# --- joining --------------------------------------------------------------------------------------


def test_a_client_joins_with_services_in_order_and_anyone(salon):
    # given
    client = client_make("李娜")
    # when
    entry = _join(salon, client=client, notes="  prefers the window seat ")
    # then
    entry.refresh_from_db()
    assert (entry.client, entry.location, entry.service_ids, entry.staff, entry.date) == (
        client,
        salon["location"],
        [salon["wash"].pk, salon["cut"].pk],
        None,
        DAY,
    )
    assert (entry.earliest, entry.latest, entry.status, entry.notes) == (
        T(14, 0),
        T(17, 0),
        WaitlistStatus.WAITING,
        "prefers the window seat",
    )


@pytest.mark.parametrize(
    ("overrides", "code", "field"),
    [
        ({"date": datetime.date(2026, 11, 30)}, SchedulingError.SLOT_IN_PAST, "date"),
        (
            {"date": datetime.date(2026, 12, 1), "latest": T(8, 0), "earliest": T(7, 0)},
            SchedulingError.SLOT_IN_PAST,
            "date",
        ),
        ({"earliest": T(17, 0), "latest": T(14, 0)}, SchedulingError.END_BEFORE_START, "latest"),
        ({"earliest": T(14, 0), "latest": T(14, 0)}, SchedulingError.END_BEFORE_START, "latest"),
        ({"services": []}, SchedulingError.SERVICES_REQUIRED, "services"),
    ],
)
def test_joining_is_refused_and_nothing_is_written(salon, overrides, code, field):
    # when
    with pytest.raises(ServiceError) as refused:
        _join(salon, **overrides)
    # then
    assert (refused.value.code, refused.value.field) == (code, field)
    assert WaitlistEntry.objects.count() == 0


def test_a_technician_who_does_not_perform_the_services_is_refused(salon):
    # given
    colourist = technician_make("Chen", services=[salon["cut"]])
    # when
    with pytest.raises(ServiceError) as refused:
        _join(salon, staff=colourist)
    # then
    assert refused.value.code == SchedulingError.STAFF_LACKS_SKILL
    assert WaitlistEntry.objects.count() == 0


def test_the_same_wait_twice_is_refused_but_another_window_is_not(salon):
    # given
    client = client_make()
    first = _join(salon, client=client)
    # when
    with pytest.raises(ServiceError) as refused:
        _join(salon, client=client)
    other_window = _join(salon, client=client, earliest=T(10, 0), latest=T(12, 0))
    # then
    assert refused.value.code == SchedulingError.ALREADY_WAITING
    assert list(WaitlistEntry.objects.order_by("id")) == [first, other_window]
    # once cancelled, the same wait can be joined again
    waitlist.waitlist_cancel(entry=first, acting_user=None)
    assert _join(salon, client=client).status == WaitlistStatus.WAITING


def test_cancel_closes_open_offers_and_cannot_happen_twice(salon):
    # given
    entry = _join(salon)
    offer = _offer(
        entry,
        start=datetime.datetime(2026, 12, 2, 14, 0, tzinfo=SHANGHAI),
        expires_at=BEFORE + datetime.timedelta(hours=1),
    )
    # when
    waitlist.waitlist_cancel(entry=entry, acting_user=None)
    # then
    entry.refresh_from_db()
    offer.refresh_from_db()
    assert (entry.status, offer.status) == (WaitlistStatus.CANCELLED, WaitlistOfferStatus.EXPIRED)
    with pytest.raises(ServiceError) as again:
        waitlist.waitlist_cancel(entry=entry, acting_user=None)
    assert again.value.code == SchedulingError.NOT_WAITING


# --- answering offers -----------------------------------------------------------------------------


def test_an_expired_offer_cannot_be_accepted_and_nothing_is_booked(salon):
    # given
    entry = _join(salon)
    offer = _offer(entry, start=datetime.datetime(2026, 12, 2, 14, 0, tzinfo=SHANGHAI), expires_at=BEFORE)
    # when
    with pytest.raises(ServiceError) as refused:
        waitlist.waitlist_offer_accept(token=offer.token, now=BEFORE + datetime.timedelta(seconds=1))
    # then
    assert refused.value.code == SchedulingError.OFFER_EXPIRED
    assert (Appointment.objects.count(), WaitlistEntry.objects.get().status) == (0, WaitlistStatus.WAITING)


def test_a_taken_offer_answers_taken_with_409(salon):
    # given
    entry = _join(salon)
    offer = _offer(
        entry,
        start=datetime.datetime(2026, 12, 2, 14, 0, tzinfo=SHANGHAI),
        expires_at=BEFORE + datetime.timedelta(hours=1),
        status=WaitlistOfferStatus.TAKEN,
    )
    # when
    with pytest.raises(ServiceError) as refused:
        waitlist.waitlist_offer_accept(token=offer.token, now=BEFORE)
    # then
    assert (refused.value.code, refused.value.status) == (SchedulingError.OFFER_TAKEN, 409)
    assert Appointment.objects.count() == 0


def test_an_unknown_link_reads_as_expired(salon):
    with pytest.raises(ServiceError) as refused:
        waitlist.waitlist_offer_accept(token="no-such-token", now=BEFORE)
    assert refused.value.code == SchedulingError.OFFER_EXPIRED


def test_declining_closes_the_offer_and_the_client_keeps_waiting(salon):
    # given
    entry = _join(salon)
    offer = _offer(
        entry,
        start=datetime.datetime(2026, 12, 2, 14, 0, tzinfo=SHANGHAI),
        expires_at=BEFORE + datetime.timedelta(hours=1),
    )
    # when
    declined = waitlist.waitlist_offer_decline(token=offer.token, now=BEFORE)
    # then
    entry.refresh_from_db()
    assert (declined.status, declined.answered_at, entry.status) == (
        WaitlistOfferStatus.EXPIRED,
        BEFORE,
        WaitlistStatus.WAITING,
    )


def test_expiry_closes_old_offers_and_entries_of_past_dates(salon):
    # given an entry for tomorrow with an offer past its time and one still open, and yesterday's entry
    today_entry = _join(salon)
    old = _offer(today_entry, start=datetime.datetime(2026, 12, 2, 14, 0, tzinfo=SHANGHAI), expires_at=BEFORE)
    fresh = _offer(
        today_entry,
        start=datetime.datetime(2026, 12, 2, 15, 0, tzinfo=SHANGHAI),
        expires_at=BEFORE + datetime.timedelta(minutes=30),
    )
    past_entry = _join(salon, date=datetime.date(2026, 12, 1), earliest=T(10, 0), latest=T(12, 0))
    # when the expiry runs at 09:10 on Dec 1st, then at 08:00 on Dec 2nd
    first = waitlist.waitlist_expire(now=BEFORE + datetime.timedelta(minutes=10))
    # then
    old.refresh_from_db()
    fresh.refresh_from_db()
    assert first == (1, 0)
    assert (old.status, fresh.status) == (WaitlistOfferStatus.EXPIRED, WaitlistOfferStatus.OPEN)
    second = waitlist.waitlist_expire(now=datetime.datetime(2026, 12, 2, 8, 0, tzinfo=SHANGHAI))
    past_entry.refresh_from_db()
    today_entry.refresh_from_db()
    assert second == (1, 1)
    assert (past_entry.status, today_entry.status) == (WaitlistStatus.EXPIRED, WaitlistStatus.WAITING)


def test_another_salon_sees_none_of_it(salon, beta):
    # given
    entry = _join(salon)
    # when / then
    with schema_context(beta.schema):
        assert WaitlistEntry.objects.count() == 0
        assert waitlist.waitlist_expire(now=datetime.datetime(2026, 12, 5, tzinfo=SHANGHAI)) == (0, 0)
    entry.refresh_from_db()
    assert entry.status == WaitlistStatus.WAITING


# --- offers when a slot frees (the real search and booking) ---------------------------------------


def _book(salon, client, start, staff=None):
    from apps.scheduling.services.booking import LineRequest, appointment_book

    return appointment_book(
        client=client,
        location=salon["location"],
        start=start,
        lines=[LineRequest(service=salon["cut"], staff=staff or salon["bai"])],
        channel="staff",
        acting_user=None,
        now=BEFORE,
    )


def test_a_cancellation_offers_the_slot_to_waiting_clients_in_join_order(salon, django_capture_on_commit_callbacks):
    from apps.scheduling.services.booking import appointment_cancel

    # given Bai is the only technician and fully booked, 10:00–19:00
    sms.outbox.clear()
    starts = [datetime.datetime(2026, 12, 2, h, 0, tzinfo=SHANGHAI) for h in range(10, 19)]
    visits = [_book(salon, client_make(f"Booked{i}"), s) for i, s in enumerate(starts)]
    first = _join(salon, client=client_make("First", phone="+8613900000001"), services=[salon["cut"]])
    second = _join(salon, client=client_make("Second", phone="+8613900000002"), services=[salon["cut"]])
    outside = _join(salon, client=client_make("Morning"), services=[salon["cut"]], earliest=T(10, 0), latest=T(12, 0))
    # when the 15:00 visit is cancelled
    with django_capture_on_commit_callbacks(execute=True):
        appointment_cancel(appointment=visits[5], acting_user=None, now=BEFORE)
    # then both waiting clients get the 15:00 slot, in join order; the morning one nothing
    offers = list(WaitlistOffer.objects.order_by("id"))
    assert [(o.entry_id, o.start, o.staff_ids, o.status) for o in offers] == [
        (first.pk, starts[5], [salon["bai"].pk], WaitlistOfferStatus.OPEN),
        (second.pk, starts[5], [salon["bai"].pk], WaitlistOfferStatus.OPEN),
    ]
    assert not outside.offers.exists()
    # (the booked clients get their own confirmations and notices from the reminders)
    offers_texted = [m for m in sms.outbox if "/book/offer/" in m.body]
    assert [m.to for m in offers_texted] == ["+8613900000001", "+8613900000002"]
    assert f"/book/offer/{offers[0].token}/" in offers_texted[0].body
    assert round((offers[0].expires_at - offers[0].created_at).total_seconds() / 60) == 30


def test_a_moved_visit_frees_its_old_time_and_a_second_run_offers_nothing_new(
    salon, django_capture_on_commit_callbacks
):
    from apps.scheduling.services.booking import appointment_reschedule

    # given Bai is booked 14:00–17:00 and one client waits for that window
    sms.outbox.clear()
    starts = [datetime.datetime(2026, 12, 2, h, 0, tzinfo=SHANGHAI) for h in (14, 15, 16)]
    visits = [_book(salon, client_make(f"Booked{i}"), s) for i, s in enumerate(starts)]
    entry = _join(salon, services=[salon["cut"]])
    # when the 15:00 visit moves to 18:00
    with django_capture_on_commit_callbacks(execute=True):
        appointment_reschedule(
            appointment=visits[1], start=datetime.datetime(2026, 12, 2, 18, 0, tzinfo=SHANGHAI), acting_user=None
        )
    # then the old time is offered; offering again finds the entry holding an open offer
    assert list(WaitlistOffer.objects.values_list("entry_id", "start")) == [(entry.pk, starts[1])]
    assert waitlist.waitlist_offers_make(location=salon["location"], date=DAY) == []
    assert (WaitlistOffer.objects.count(), len([m for m in sms.outbox if "/book/offer/" in m.body])) == (1, 1)


def test_accepting_books_the_slot_and_takes_it_from_the_others(salon):
    # given two entries offered the same 15:00 slot with Bai
    start = datetime.datetime(2026, 12, 2, 15, 0, tzinfo=SHANGHAI)
    a, b = _join(salon, services=[salon["cut"]]), _join(salon, services=[salon["cut"]])
    until = BEFORE + datetime.timedelta(minutes=30)
    offer_a = _offer(a, start=start, expires_at=until, staff_ids=[salon["bai"].pk], token="a")
    offer_b = _offer(b, start=start, expires_at=until, staff_ids=[salon["bai"].pk], token="b")
    WaitlistOffer.objects.filter(pk__in=[offer_a.pk, offer_b.pk]).update(end=start + datetime.timedelta(hours=1))
    # when
    accepted = waitlist.waitlist_offer_accept(token="b", now=BEFORE)
    # then
    a.refresh_from_db()
    b.refresh_from_db()
    offer_a.refresh_from_db()
    assert (accepted.status, offer_a.status) == (WaitlistOfferStatus.ACCEPTED, WaitlistOfferStatus.TAKEN)
    assert (a.status, b.status) == (WaitlistStatus.WAITING, WaitlistStatus.BOOKED)
    assert (b.appointment.channel, b.appointment.start, b.appointment.client) == ("waitlist", start, b.client)
    with pytest.raises(ServiceError) as late:
        waitlist.waitlist_offer_accept(token="a", now=BEFORE)
    assert late.value.code == SchedulingError.OFFER_TAKEN
    # a second tap on the accepted link changes nothing
    assert waitlist.waitlist_offer_accept(token="b", now=BEFORE).pk == offer_b.pk
    assert Appointment.objects.count() == 1


# --- two clients accept at once (real threads, committed data) ------------------------------------


@pytest.fixture(scope="module")
def race_salon(two_salons: Any, django_db_blocker: Any) -> Iterator[str]:
    with django_db_blocker.unblock(), salon_for_races("waitlist-race") as schema:
        yield schema


def test_two_clients_accepting_at_once_one_books_and_the_other_is_told_taken(race_salon, django_db_blocker):
    # given two offers of the same slot with one technician
    with django_db_blocker.unblock(), schema_context(race_salon):
        cut = service_make("Race cut", minutes=60)
        bai = technician_make("Racer", services=[cut])
        start = datetime.datetime(2026, 12, 2, 15, 0, tzinfo=SHANGHAI)
        tokens = []
        for i in range(2):
            entry = waitlist.waitlist_join(
                client=client_make(f"Racer{i}"),
                location=default_location(),
                services=[cut],
                date=DAY,
                earliest=T(14, 0),
                latest=T(17, 0),
                acting_user=None,
                now=BEFORE,
            )
            offer = WaitlistOffer.objects.create(
                entry=entry,
                start=start,
                end=start + datetime.timedelta(hours=1),
                staff_ids=[bai.pk],
                token=f"race-{i}",
                expires_at=BEFORE + datetime.timedelta(minutes=30),
            )
            tokens.append(offer.token)
    # when both accept at the same moment
    with django_db_blocker.unblock():
        outcomes = race(race_salon, 2, lambda i: waitlist.waitlist_offer_accept(token=tokens[i], now=BEFORE))
    # then one booked and one was told the slot is taken
    with django_db_blocker.unblock(), schema_context(race_salon):
        won = [o for o in outcomes if isinstance(o, WaitlistOffer)]
        lost = [o for o in outcomes if isinstance(o, ServiceError)]
        assert (len(won), len(lost)) == (1, 1), outcomes
        assert lost[0].code == SchedulingError.OFFER_TAKEN
        assert sorted(WaitlistOffer.objects.values_list("status", flat=True)) == ["accepted", "taken"]
        assert sorted(WaitlistEntry.objects.values_list("status", flat=True)) == ["booked", "waiting"]
        assert AppointmentLine.objects.filter(is_active=True, staff=bai).count() == 1
