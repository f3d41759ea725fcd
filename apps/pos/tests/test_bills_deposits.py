"""A booking deposit (SCH-14) applied to its visit's bill (POS-2): it pays part of the bill as a tender of its
own; what the bill does not need goes back to the client the way the deposit was paid (stored value, or
cash out of the drawer); a refund gives it back the same way. Refusals change nothing."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client as HttpClient
from django.utils import translation
from django_tenants.utils import schema_context

from apps.core.errors import ServiceError
from apps.pos.errors import PosError
from apps.pos.models import Bill, CashMovement, Tender
from apps.pos.services import bills as services
from apps.pos.services.cash import cash_session_open
from apps.pos.services.checkout import TenderRequest
from apps.pos.services.refunds import bill_refund
from apps.pos.tests.bills_support import cash, ledger_balanced, pay, points_earned, till_make, wallet_of
from apps.scheduling.errors import SchedulingError
from apps.scheduling.models import AppointmentEvent, AppointmentStatus, Deposit, DepositMethod, DepositStatus
from apps.scheduling.services.booking import _deposit_take
from apps.scheduling.tests.support import appointment_insert
from tests.fixtures import api_token, logged_in_client

BILL = 38_340  # a cut by Li ¥115.20 and a facial by Wang ¥268.20 for the gold member (10% off)


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


@pytest.fixture
def till(in_alpha):
    return till_make()


def deposit(amount: int) -> TenderRequest:
    return TenderRequest(method="deposit", amount=amount)


def _visit_bill(till, *, held: int, method: str = DepositMethod.STORED_VALUE) -> tuple[Bill, Deposit]:
    """A finished visit whose booking took a deposit (as scheduling does when it is booked), checked out."""
    visit = appointment_insert(
        client=till.member,
        start=datetime.datetime(2030, 3, 4, 2, 0, tzinfo=datetime.UTC),
        lines=[(till.cut, till.li), (till.facial, till.wang)],
        status=AppointmentStatus.DONE,
    )
    taken = _deposit_take(visit, client=till.member, amount=held, method=method, acting_user=till.desk)
    bill = services.bill_open(location=None, appointment=visit, acting_user=till.desk)
    assert bill.total == BILL
    return bill, taken


def test_a_stored_value_deposit_pays_part_of_the_bill_and_the_card_is_not_charged_twice(till):
    # given a visit that held ¥100 from stored value (the card went from ¥1,200 to ¥1,100)
    bill, held = _visit_bill(till, held=10_000)
    before = wallet_of(till.member).balance
    assert before == 110_000
    # when it is paid: the deposit, and cash for the rest
    payment = pay(bill, deposit(10_000), cash(BILL - 10_000), by=till.desk)
    # then the bill is paid, the deposit is applied once to it, and the card is not touched again
    assert (payment.bill.status, payment.bill.paid_total) == ("paid", BILL)
    tender = Tender.objects.get(bill=bill, method="deposit")
    assert (tender.amount, tender.deposit_id) == (10_000, held.pk)
    held.refresh_from_db()
    assert (held.status, held.applied_amount, held.applied_reference) == ("applied", 10_000, f"bill:{bill.pk}")
    assert wallet_of(till.member).balance == before
    assert AppointmentEvent.objects.filter(appointment_id=held.appointment_id, kind="deposit_applied").exists()
    # the deposit was money spent on the visit: points are earned on the whole bill (×1.5 for gold)
    assert points_earned(bill) == 575  # ¥383.40 × 1 point per yuan × 1.5, rounded down
    assert ledger_balanced(till.member)


def test_a_deposit_larger_than_the_bill_pays_it_and_the_rest_goes_back_to_stored_value(till):
    bill, held = _visit_bill(till, held=50_000)
    before = wallet_of(till.member).balance
    pay(bill, deposit(BILL), by=till.desk)
    held.refresh_from_db()
    assert (held.status, held.applied_amount) == ("applied", BILL)
    assert wallet_of(till.member).balance == before + 50_000 - BILL
    assert ledger_balanced(till.member)


def test_the_rest_of_a_desk_deposit_is_paid_out_of_the_open_drawer(till):
    # given a ¥500 deposit paid at the desk and an open drawer with ¥300 in it
    bill, _held = _visit_bill(till, held=50_000, method=DepositMethod.DESK)
    session = cash_session_open(location=till.location, opening_float=30_000, acting_user=till.desk)
    # when the ¥383.40 bill is paid from the deposit
    pay(bill, deposit(BILL), by=till.desk)
    # then ¥116.60 leaves the drawer as a pay-out naming the bill
    movement = CashMovement.objects.get(session=session)
    assert (movement.kind, movement.amount) == ("pay_out", 50_000 - BILL)
    assert bill.number in movement.reason


@pytest.mark.parametrize(
    ("tenders", "code"),
    [
        ([deposit(10_001), cash(BILL - 10_001)], SchedulingError.DEPOSIT_TOO_LARGE),
        ([deposit(5_000), deposit(5_000), cash(BILL - 10_000)], PosError.TENDER_INVALID_METHOD),
    ],
)
def test_a_deposit_tender_that_does_not_match_the_deposit_is_refused_with_nothing_changed(till, tenders, code):
    bill, held = _visit_bill(till, held=10_000)
    before = wallet_of(till.member).balance
    with pytest.raises(ServiceError) as refused:
        pay(bill, *tenders, by=till.desk)
    assert refused.value.code == code
    bill.refresh_from_db()
    held.refresh_from_db()
    assert (bill.status, bill.paid_total, held.status, held.applied_amount) == ("open", 0, "held", 0)
    assert not Tender.objects.filter(bill=bill).exists()
    assert wallet_of(till.member).balance == before
    assert (
        refused.value.message
        == {
            SchedulingError.DEPOSIT_TOO_LARGE: "The deposit held for this visit is ¥100.00.",
            PosError.TENDER_INVALID_METHOD: "Apply the deposit in one payment.",
        }[code]
    )


def test_a_visit_whose_deposit_is_held_is_not_paid_without_it(till):
    # given a visit holding ¥100 from stored value
    bill, held = _visit_bill(till, held=10_000)
    before = wallet_of(till.member).balance
    # when the cashier takes the whole bill in cash, forgetting the deposit
    with pytest.raises(ServiceError) as refused:
        pay(bill, cash(BILL), by=till.desk)
    # then it is refused, saying how much is held, and nothing changed: the client's money is not left held
    assert (refused.value.code, refused.value.extra) == (PosError.DEPOSIT_NOT_APPLIED, {"deposit": 10_000})
    assert refused.value.message == (
        "A deposit of ¥100.00 is held for this visit: take it as one of the payments (Booking deposit)."
    )
    bill.refresh_from_db()
    held.refresh_from_db()
    assert (bill.status, bill.paid_total, held.status) == ("open", 0, "held")
    assert not Tender.objects.filter(bill=bill).exists()
    assert wallet_of(till.member).balance == before


def test_a_bill_without_a_held_deposit_cannot_take_a_deposit_tender(till):
    walk_in = services.bill_open(location=till.location, acting_user=till.desk)
    services.bill_line_add(bill=walk_in, item=till.shampoo, acting_user=till.desk)
    with pytest.raises(ServiceError) as refused:
        pay(walk_in, deposit(100), cash(9_700), by=till.desk)
    assert refused.value.code == SchedulingError.DEPOSIT_NOT_HELD
    # a deposit already given back (the booking was cancelled in time) is not held either
    bill, held = _visit_bill(till, held=10_000)
    Deposit.objects.filter(pk=held.pk).update(status=DepositStatus.RETURNED)
    with pytest.raises(ServiceError) as refused:
        pay(bill, deposit(10_000), cash(BILL - 10_000), by=till.desk)
    assert refused.value.code == SchedulingError.DEPOSIT_NOT_HELD
    assert not Tender.objects.filter(bill__in=[walk_in, bill]).exists()


def test_a_refund_gives_the_deposit_back_to_stored_value(till):
    bill, _held = _visit_bill(till, held=10_000)
    pay(bill, deposit(10_000), cash(BILL - 10_000), by=till.desk)
    before = wallet_of(till.member).balance
    refund = bill_refund(bill=bill, amount=BILL, reason="unhappy", idempotency_key="r1", acting_user=till.manager)
    parts = {part.tender.method: part.amount for part in refund.tender_parts.select_related("tender")}
    assert parts == {"deposit": 10_000, "cash": BILL - 10_000}
    assert wallet_of(till.member).balance == before + 10_000
    assert ledger_balanced(till.member)
    # a second refund finds nothing left: the deposit is never given back twice
    with pytest.raises(ServiceError):
        bill_refund(bill=bill, amount=1, reason="again", idempotency_key="r2", acting_user=till.manager)
    assert wallet_of(till.member).balance == before + 10_000


# --- API and page ---------------------------------------------------------------------------------------


@pytest.fixture
def site(alpha):
    with schema_context(alpha.schema):
        till = till_make()
        bill, held = _visit_bill(till, held=10_000)
    return {"alpha": alpha, "till": till, "bill": bill, "held": held}


def _api(site: dict[str, Any]) -> HttpClient:
    return HttpClient(
        HTTP_HOST=site["alpha"].host,
        HTTP_AUTHORIZATION=f"Bearer {api_token(site['alpha'], site['till'].desk.username)}",
        HTTP_ACCEPT_LANGUAGE="en",
    )


def test_the_api_shows_the_held_deposit_and_pays_with_it(site):
    api, bill = _api(site), site["bill"]
    order = api.get(f"/api/v1/orders/{bill.pk}/").json()
    assert (order["deposit_held"], order["due"]) == (10_000, BILL)
    url = f"/api/v1/orders/{bill.pk}/pay/"
    too_much = api.post(
        url,
        {"payments": [{"method": "deposit", "amount": 20_000}, {"method": "cash", "amount": BILL - 20_000}]},
        content_type="application/json",
    )
    assert too_much.status_code == 400, too_much.content
    assert "The deposit held for this visit is ¥100.00." in too_much.content.decode()
    paid = api.post(
        url,
        {"payments": [{"method": "deposit", "amount": 10_000}, {"method": "cash", "amount": BILL - 10_000}]},
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="dep-1",
    )
    assert paid.status_code == 200, paid.content
    body = paid.json()
    assert body["status"] == "paid" and body["deposit_held"] == 0
    assert [(t["method"], t["amount"], t["deposit"]) for t in body["tenders"]] == [
        ("deposit", 10_000, site["held"].pk),
        ("cash", BILL - 10_000, None),
    ]


def test_the_bill_page_offers_the_deposit_first_and_pays_with_it(site):
    page = logged_in_client(site["alpha"], site["till"].desk.username)
    bill = site["bill"]
    html = page.get(f"/till/bills/{bill.pk}/").content.decode()
    assert "A booking deposit of ¥100.00 is held for this visit (Stored value)." in html
    assert '<option value="deposit" selected>Booking deposit</option>' in html
    form = {
        "idempotency_key": "page-dep",
        "method_1": "deposit",
        "amount_1": "100.00",
        "method_2": "cash",
        "amount_2": f"{(BILL - 10_000) / 100:.2f}",
    }
    done = page.post(f"/till/bills/{bill.pk}/pay/", form, follow=True)
    assert done.status_code == 200
    with schema_context(site["alpha"].schema):
        bill.refresh_from_db()
        assert (bill.status, bill.paid_total) == ("paid", BILL)
        assert Tender.objects.get(bill=bill, method="deposit").amount == 10_000
