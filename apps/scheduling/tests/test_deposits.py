"""Deposits and no-show protection (SCH-14): per service and per client risk, taken from stored value through
loyalty or recorded at the desk, returned on a timely cancellation, forfeited on a no-show or a late
cancellation as the salon says; the block list and the "always a deposit" flag."""

from __future__ import annotations

import datetime

import pytest

from apps.core.errors import ServiceError
from apps.core.models import AuditEntry
from apps.core.services import staff_create
from apps.loyalty.errors import LoyaltyError
from apps.loyalty.models import Wallet, WalletEntry, WalletEntryKind
from apps.loyalty.services.wallets import wallet_top_up
from apps.scheduling.errors import SchedulingError
from apps.scheduling.models import (
    Appointment,
    ClientBookingProfile,
    Deposit,
    SchedulingSettings,
    ServiceBookingRule,
)
from apps.scheduling.services import booking
from apps.scheduling.services.booking import LineRequest
from apps.scheduling.tests.support import client_make, default_location, service_make, technician_make

UTC = datetime.UTC
NOW = datetime.datetime(2030, 3, 1, 0, 0, tzinfo=UTC)
AT = datetime.datetime(2030, 3, 4, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
HOUR = datetime.timedelta(hours=1)


@pytest.fixture
def salon(in_alpha, beta):
    facial = service_make("Facial", minutes=60, price=38_800)
    massage = service_make("Massage", minutes=30, price=20_000)
    ServiceBookingRule.objects.create(service=facial, deposit_amount=10_000)
    ServiceBookingRule.objects.create(service=massage, deposit_amount=5_000)
    li = technician_make("Li", services=[facial, massage])
    desk = staff_create(name="Desk", role="front_desk", username="desk-dep")
    return {"facial": facial, "massage": massage, "li": li, "desk": desk, "client": client_make()}


def book(s, *, services=None, method=None, start=AT, client=None):
    return booking.appointment_book(
        client=client or s["client"],
        location=default_location(),
        start=start,
        lines=[LineRequest(sv, s["li"]) for sv in (services or [s["facial"]])],
        channel="staff",
        acting_user=s["desk"],
        deposit_method=method,
        now=NOW,
    )


def balance(client):
    wallet = Wallet.objects.filter(client=client).first()
    return wallet.balance if wallet else 0


def test_a_deposit_is_required_and_nothing_is_booked_without_a_method(salon):
    with pytest.raises(ServiceError) as caught:
        book(salon, services=[salon["facial"], salon["massage"]])
    assert (caught.value.code, caught.value.extra) == (SchedulingError.DEPOSIT_REQUIRED, {"deposit": 15_000})
    assert caught.value.message == "This booking needs a deposit of ¥150.00."
    assert Appointment.objects.count() == 0


def test_stored_value_deposit_is_debited_and_returned_on_a_timely_cancel(salon):
    s = salon
    wallet_top_up(client=s["client"], amount=50_000, idempotency_key="top-up-1")
    # when a facial and a massage are booked paying the deposit from the card
    visit = book(s, services=[s["facial"], s["massage"]], method="stored_value")
    # then ¥150 left the card as a deposit
    deposit = Deposit.objects.get(appointment=visit)
    assert (deposit.amount, deposit.method, deposit.status, deposit.wallet_reference) == (
        15_000,
        "stored_value",
        "held",
        f"deposit:{visit.pk}",
    )
    entry = WalletEntry.objects.get(idempotency_key=f"deposit:{visit.pk}")
    assert (entry.kind, entry.amount) == (WalletEntryKind.DEPOSIT, -15_000)
    assert balance(s["client"]) == 35_000
    # when cancelled in time, then it comes back
    booking.appointment_cancel(appointment=visit, acting_user=s["desk"], now=NOW)
    deposit.refresh_from_db()
    assert deposit.status == "returned"
    assert deposit.settled_at is not None
    assert balance(s["client"]) == 50_000
    assert list(visit.events.values_list("kind", flat=True)) == [
        "booked",
        "deposit_taken",
        "cancelled",
        "deposit_returned",
    ]


def test_short_balance_refuses_the_booking(salon):
    s = salon
    wallet_top_up(client=s["client"], amount=5_000, idempotency_key="top-up-2")
    with pytest.raises(ServiceError) as caught:
        book(s, method="stored_value")
    assert caught.value.code == LoyaltyError.INSUFFICIENT_BALANCE
    assert (Appointment.objects.count(), Deposit.objects.count()) == (0, 0)
    assert balance(s["client"]) == 5_000


def test_desk_deposit_is_recorded_and_forfeited_on_a_no_show(salon):
    s = salon
    visit = book(s, method="desk")
    deposit = Deposit.objects.get(appointment=visit)
    assert (deposit.method, deposit.recorded_by_id, deposit.wallet_reference) == ("desk", s["desk"].pk, "")
    booking.appointment_no_show(appointment=visit, acting_user=s["desk"])
    deposit.refresh_from_db()
    assert deposit.status == "forfeited"
    assert visit.events.filter(kind="deposit_forfeited").count() == 1


def test_no_show_returns_the_deposit_when_the_salon_does_not_keep_it(salon):
    s = salon
    SchedulingSettings.objects.update(no_show_forfeits_deposit=False)
    wallet_top_up(client=s["client"], amount=20_000, idempotency_key="top-up-3")
    visit = book(s, method="stored_value")
    booking.appointment_no_show(appointment=visit, acting_user=s["desk"])
    assert Deposit.objects.get(appointment=visit).status == "returned"
    assert balance(s["client"]) == 20_000


def test_late_cancellation_forfeits_when_the_salon_says_so(salon):
    s = salon
    SchedulingSettings.objects.update(late_cancel_forfeits_deposit=True)
    wallet_top_up(client=s["client"], amount=20_000, idempotency_key="top-up-4")
    visit = book(s, method="stored_value")
    booking.appointment_cancel(appointment=visit, acting_user=s["desk"], now=AT - 2 * HOUR)
    assert Deposit.objects.get(appointment=visit).status == "forfeited"
    assert balance(s["client"]) == 10_000
    # by default a late cancellation gives it back
    SchedulingSettings.objects.update(late_cancel_forfeits_deposit=False)
    second = book(s, method="stored_value", start=AT + 2 * HOUR)
    booking.appointment_cancel(appointment=second, acting_user=s["desk"], now=AT)
    assert Deposit.objects.get(appointment=second).status == "returned"
    assert balance(s["client"]) == 10_000


def test_risky_clients_pay_at_least_the_risky_deposit(salon):
    s = salon
    plain = service_make("Wash", minutes=30, price=3_000)
    s["li"].staff_profile.skills.add(plain)
    # given two no-shows (the salon's threshold) and a service without its own deposit
    ClientBookingProfile.objects.create(client=s["client"], no_show_count=2)
    with pytest.raises(ServiceError) as caught:
        book(s, services=[plain])
    assert caught.value.extra == {"deposit": 5_000}
    # a massage asks ¥50 itself; the risky amount is also ¥50, so ¥50
    assert book(s, services=[s["massage"]], method="desk").deposit.amount == 5_000
    # with the threshold off, no-shows no longer require one
    SchedulingSettings.objects.update(risky_no_show_count=0)
    assert not Deposit.objects.filter(appointment=book(s, services=[plain], start=AT + 2 * HOUR)).exists()


def test_the_always_deposit_flag_and_the_block_list_are_audited(salon):
    s = salon
    plain = service_make("Wash", minutes=30, price=3_000)
    s["li"].staff_profile.skills.add(plain)
    profile = booking.client_booking_profile_update(client=s["client"], acting_user=s["desk"], requires_deposit=True)
    assert profile.requires_deposit is True
    with pytest.raises(ServiceError) as caught:
        book(s, services=[plain])
    assert caught.value.code == SchedulingError.DEPOSIT_REQUIRED
    booking.client_booking_profile_update(
        client=s["client"], acting_user=s["desk"], is_blocked=True, blocked_reason="Abusive on the phone"
    )
    with pytest.raises(ServiceError) as caught:
        book(s, services=[plain], method="desk")
    assert caught.value.code == SchedulingError.CLIENT_BLOCKED
    profile = booking.client_booking_profile_update(client=s["client"], acting_user=s["desk"], is_blocked=False)
    assert (profile.is_blocked, profile.blocked_reason, profile.blocked_at) == (False, "", None)
    changes = [
        e.data["changes"] for e in AuditEntry.objects.filter(action="scheduling.booking_profile.updated").order_by("id")
    ]
    assert changes == [
        {"requires_deposit": [False, True]},
        {"blocked_reason": ["", "Abusive on the phone"], "is_blocked": [False, True]},
        {"is_blocked": [True, False]},
    ]
    technician = s["li"]
    with pytest.raises(ServiceError) as caught:
        booking.client_booking_profile_update(client=s["client"], acting_user=technician, is_blocked=True)
    assert caught.value.status == 403
    assert ClientBookingProfile.objects.get(client=s["client"]).is_blocked is False


def test_a_deposit_through_the_api(salon, alpha):
    from django.test import Client as HttpClient

    from tests.fixtures import api_token, make_staff

    s = salon
    wallet_top_up(client=s["client"], amount=20_000, idempotency_key="top-up-5")
    make_staff(alpha, role="front_desk", username="desk-api")
    api = HttpClient(
        HTTP_HOST=alpha.host, HTTP_ACCEPT_LANGUAGE="en", HTTP_AUTHORIZATION=f"Bearer {api_token(alpha, 'desk-api')}"
    )
    body = {
        "client": s["client"].pk,
        "service": s["facial"].pk,
        "staff": s["li"].pk,
        "start": "2030-03-04T10:00:00+08:00",
    }
    needs = api.post("/api/v1/appointments/", body, content_type="application/json")
    assert (needs.status_code, needs.json()["code"], needs.json()["deposit"]) == (400, "deposit_required", 10_000)
    paid = api.post(
        "/api/v1/appointments/", {**body, "deposit_method": "stored_value"}, content_type="application/json"
    )
    assert paid.status_code == 201, paid.content
    assert paid.json()["deposit"] == {"amount": 10_000, "method": "stored_value", "status": "held"}
