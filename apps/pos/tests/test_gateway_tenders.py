"""WeChat Pay and Alipay tenders at the till, against the fake providers (real HTTP, real signatures): a
payment code charged, a client still confirming, refusals, lost answers, replays, notifications, split
payments, QR codes and cancellations; exact on the bill, the tenders, the wallet and the fake's ledger."""

from __future__ import annotations

import datetime
from collections.abc import Iterator

import pytest
from django.utils import timezone, translation

from apps.core.db import salon_today
from apps.core.errors import ServiceError
from apps.core.models import AuditEntry
from apps.loyalty.models import WalletEntry
from apps.payments.models import GatewayPayment, MerchantAccount, PaymentStatus
from apps.payments.services import gateway_notification_handle, gateway_payments_reconcile
from apps.payments.testing.fixtures import LATE_ANSWER_SECONDS
from apps.payments.testing.server import FAILURE, TIMEOUT, USER_PAYING, Scenario
from apps.pos.errors import PosError
from apps.pos.models import Bill, BillStatus, Refund, RefundLine, RefundTender, Tender, TenderStatus
from apps.pos.selectors.cash import cash_session_figures
from apps.pos.selectors.sales import sales_report
from apps.pos.services.cash import cash_session_open
from apps.pos.services.checkout import bill_tender_fail
from apps.pos.services.gateway_tenders import (
    gateway_refunds_sync,
    gateway_tender_cancel,
    gateway_tender_refresh,
    refund_part_given_in_cash,
    refund_part_resend,
    refund_parts_send,
)
from apps.pos.services.refunds import bill_refund, bill_void
from apps.pos.services.till_settings import pos_settings_update
from apps.pos.signals import bill_paid
from apps.pos.tests.bills_support import cash, stored_value, till_make, wallet_of
from apps.pos.tests.gateway_support import CODES, facial_bill, gateway, gateway_pay, takes_gateways

TOTAL = 26820  # the facial, gold price


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


@pytest.fixture
def till(provider):
    till = till_make()
    takes_gateways(till)
    return till


def _nothing_happened(bill: Bill, fake) -> None:
    bill.refresh_from_db()
    assert (bill.status, bill.paid_total) == (BillStatus.OPEN, 0)
    assert not Tender.objects.filter(bill=bill).exists()
    assert not GatewayPayment.objects.exists()
    assert fake.ledger.movements == []
    wallet = wallet_of(bill.client)
    assert (wallet.principal, wallet.bonus) == (100_000, 20_000)


# --- payment codes ----------------------------------------------------------------------------------------


def test_a_payment_code_pays_the_bill_and_is_charged_once(provider, fake, till):
    bill = facial_bill(till)
    heard: list[int] = []
    bill_paid.connect(lambda sender, bill, **kw: heard.append(bill.pk), weak=False, dispatch_uid="gw-test")

    try:
        result = gateway_pay(bill, gateway(provider, TOTAL), by=till.desk)
    finally:
        bill_paid.disconnect(dispatch_uid="gw-test")

    bill.refresh_from_db()
    tender = Tender.objects.get(bill=bill)
    assert (result.status, result.bill.status) == (TenderStatus.SUCCEEDED, BillStatus.PAID)
    assert (bill.status, bill.paid_total) == (BillStatus.PAID, TOTAL)
    assert (tender.method, tender.amount, tender.status) == (provider, TOTAL, TenderStatus.SUCCEEDED)
    assert tender.provider_transaction_id
    assert fake.ledger.charged(tender.out_trade_no) == TOTAL
    assert fake.ledger.charges(tender.out_trade_no) == 1
    assert heard == [bill.pk]


def test_replaying_the_key_charges_nothing_again(provider, fake, till):
    bill = facial_bill(till)
    first = gateway_pay(bill, gateway(provider, TOTAL), by=till.desk)
    calls = len(fake.ledger.calls)

    again = gateway_pay(bill, gateway(provider, TOTAL), by=till.desk)

    assert again.is_replay
    assert [t.pk for t in again.tenders] == [t.pk for t in first.tenders]
    assert len(fake.ledger.calls) == calls
    assert fake.ledger.charges(first.tender.out_trade_no) == 1
    assert Bill.objects.get(pk=bill.pk).paid_total == TOTAL


def test_a_client_confirming_leaves_the_tender_pending_until_a_query_settles_it(provider, fake, till):
    bill = facial_bill(till)
    fake.scenario(CODES[provider], Scenario(kind=USER_PAYING, pending_queries=5))

    result = gateway_pay(bill, gateway(provider, TOTAL), by=till.desk)

    assert (result.status, result.bill.status, result.bill.paid_total) == ("pending", BillStatus.OPEN, 0)
    # another payment of the bill waits for this one
    with pytest.raises(ServiceError) as refused:
        gateway_pay(bill, gateway(provider, TOTAL), by=till.desk, key="gw-2")
    assert (refused.value.code, refused.value.status) == (PosError.GATEWAY_PAYMENT_IN_PROGRESS, 409)

    # the till asks again (the page polls) until the client has confirmed
    tender = result.tender
    for _ in range(3):
        tender = gateway_tender_refresh(tender=tender)

    bill.refresh_from_db()
    assert tender.status == TenderStatus.SUCCEEDED
    assert (bill.status, bill.paid_total) == (BillStatus.PAID, TOTAL)
    assert fake.ledger.charges(tender.out_trade_no) == 1


def test_a_refused_code_fails_the_tender_and_leaves_the_other_tenders_and_the_remainder_due(provider, fake, till):
    bill = facial_bill(till)
    fake.scenario(CODES[provider], Scenario(kind=FAILURE))

    failed = gateway_pay(bill, stored_value(20000), gateway(provider, 6820), by=till.desk)

    assert failed.status == TenderStatus.FAILED
    assert failed.tender.failure_message
    bill.refresh_from_db()
    sv, gw = Tender.objects.filter(bill=bill).order_by("id")
    assert (bill.status, bill.paid_total) == (BillStatus.OPEN, 20000)
    assert (sv.method, sv.amount, sv.status) == ("stored_value", 20000, TenderStatus.SUCCEEDED)
    assert (gw.method, gw.amount, gw.status) == (provider, 6820, TenderStatus.FAILED)
    assert gw.failure_code in ("AUTHCODEEXPIRE", "ACQ.PAYMENT_AUTH_CODE_INVALID")
    assert fake.ledger.charged(gw.out_trade_no) == 0
    assert wallet_of(till.member).principal + wallet_of(till.member).bonus == 120_000 - 20000
    assert WalletEntry.objects.filter(reference=f"bill:{bill.pk}").count() == 1

    # the remainder is a new payment; the one that failed is never taken twice
    result = gateway_pay(bill, gateway(provider, 6820), by=till.desk, key="gw-2", code=_other_code(provider))
    bill.refresh_from_db()
    assert (result.status, bill.status, bill.paid_total) == (TenderStatus.SUCCEEDED, BillStatus.PAID, TOTAL)
    assert WalletEntry.objects.filter(reference=f"bill:{bill.pk}").count() == 1


def test_a_payment_stopped_half_way_is_given_back_whole_when_the_bill_is_voided(
    provider, fake, till, django_capture_on_commit_callbacks
):
    # given cash and stored value taken, then the client's code refused, and the client gone
    session = cash_session_open(location=till.location, opening_float=50_000, acting_user=till.desk)
    bill = facial_bill(till)
    fake.scenario(CODES[provider], Scenario(kind=FAILURE))
    failed = gateway_pay(bill, cash(5000), stored_value(15000), gateway(provider, 6820), by=till.desk)
    assert (failed.status, Bill.objects.get(pk=bill.pk).paid_total) == (TenderStatus.FAILED, 20000)
    # when the front desk may not void it, and the manager does
    with pytest.raises(ServiceError) as refused:
        bill_void(bill=bill, reason="client left", acting_user=till.desk)
    assert refused.value.code == PosError.PERMISSION_DENIED
    with django_capture_on_commit_callbacks(execute=True):
        voided = bill_void(bill=bill, reason="client left", acting_user=till.manager)
    # then each payment went back whole, as one refund with no lines
    bill.refresh_from_db()
    assert (voided.pk, bill.status, bill.paid_total, bill.refunded_total) == (bill.pk, BillStatus.VOIDED, 20000, 20000)
    refund = Refund.objects.get(bill=bill)
    assert (refund.amount, refund.reason, refund.status) == (20000, "client left", "succeeded")
    assert not RefundLine.objects.filter(refund=refund).exists()
    assert sorted((p.tender.method, p.amount, p.status) for p in RefundTender.objects.filter(refund=refund)) == [
        ("cash", 5000, "succeeded"),
        ("stored_value", 15000, "succeeded"),
    ]
    assert sorted((t.method, t.status, t.refunded_amount) for t in Tender.objects.filter(bill=bill)) == sorted(
        [("cash", "succeeded", 5000), ("stored_value", "succeeded", 15000), (provider, "failed", 0)]
    )
    assert wallet_of(till.member).principal + wallet_of(till.member).bonus == 120_000
    assert sorted(e.amount for e in WalletEntry.objects.filter(reference=f"bill:{bill.pk}")) == [-15000, 15000]
    assert fake.ledger.charged(failed.tender.out_trade_no) == 0
    assert AuditEntry.objects.get(action="pos.bill_voided").data["given_back"] == {
        str(t.pk): t.amount for t in Tender.objects.filter(bill=bill, status=TenderStatus.SUCCEEDED)
    }
    # the drawer gave the cash back; the sales of the day know nothing of the bill
    figures = cash_session_figures(session)
    assert (figures.cash.taken, figures.cash.refunded, figures.expected_cash) == (5000, 5000, 50_000)
    report = sales_report(date_from=salon_today(), date_to=salon_today())
    assert (report.gross, report.refunds, report.bills) == (0, 0, 0)
    # voiding again gives nothing back twice
    assert bill_void(bill=bill, reason="again", acting_user=till.manager).status == BillStatus.VOIDED
    assert Refund.objects.filter(bill=bill).count() == 1
    assert wallet_of(till.member).principal + wallet_of(till.member).bonus == 120_000


def test_a_bill_whose_gateway_payment_waits_for_the_client_is_not_voided(provider, fake, till):
    bill = facial_bill(till)
    fake.scenario(CODES[provider], Scenario(kind=USER_PAYING, pending_queries=5))
    waiting = gateway_pay(bill, stored_value(20000), gateway(provider, 6820), by=till.desk)
    assert waiting.status == TenderStatus.PENDING

    with pytest.raises(ServiceError) as refused:
        bill_void(bill=bill, reason="client left", acting_user=till.manager)

    assert refused.value.code == PosError.GATEWAY_PAYMENT_IN_PROGRESS
    assert str(refused.value.message) == "A WeChat Pay or Alipay payment of this bill is waiting for the client."
    bill.refresh_from_db()
    assert (bill.status, bill.paid_total, bill.refunded_total) == (BillStatus.OPEN, 20000, 0)
    assert not Refund.objects.filter(bill=bill).exists()
    assert wallet_of(till.member).principal + wallet_of(till.member).bonus == 120_000 - 20000


def _other_code(provider: str) -> str:
    return "134567890123456780" if provider == "wechat" else "286123456789012340"


def test_split_stored_value_and_gateway_is_exact_on_every_ledger(provider, fake, till):
    bill = facial_bill(till)

    result = gateway_pay(bill, gateway(provider, 6820), stored_value(20000), by=till.desk)

    bill.refresh_from_db()
    assert (bill.status, bill.paid_total) == (BillStatus.PAID, TOTAL)
    assert [(t.method, t.amount, t.status) for t in result.tenders] == [
        ("stored_value", 20000, TenderStatus.SUCCEEDED),
        (provider, 6820, TenderStatus.SUCCEEDED),
    ]
    assert fake.ledger.charged(result.tender.out_trade_no) == 6820
    assert fake.ledger.charges(result.tender.out_trade_no) == 1
    assert [e.amount for e in WalletEntry.objects.filter(reference=f"bill:{bill.pk}")] == [-20000]


def test_a_late_answer_is_settled_by_the_reconciliation(provider, fake, till):
    bill = facial_bill(till)
    fake.scenario(CODES[provider], Scenario(kind=TIMEOUT, delay=LATE_ANSWER_SECONDS))

    result = gateway_pay(bill, gateway(provider, TOTAL), by=till.desk)

    assert (result.status, Bill.objects.get(pk=bill.pk).paid_total) in (
        (TenderStatus.PENDING, 0),
        (TenderStatus.SUCCEEDED, TOTAL),
    )
    gateway_payments_reconcile(now=timezone.now() + datetime.timedelta(minutes=2))
    bill.refresh_from_db()
    tender = Tender.objects.get(bill=bill)
    assert (tender.status, bill.status, bill.paid_total) == (TenderStatus.SUCCEEDED, BillStatus.PAID, TOTAL)
    assert fake.ledger.charges(tender.out_trade_no) == 1


# --- QR codes and notifications ---------------------------------------------------------------------------


def test_a_qr_payment_is_settled_by_the_notification_and_a_repeat_changes_nothing(provider, fake, till):
    bill = facial_bill(till)

    result = gateway_pay(bill, gateway(provider, TOTAL), by=till.desk, qr=True)

    assert result.status == TenderStatus.PENDING
    assert result.code_url
    fake.pay_qr(result.tender.out_trade_no)
    body = fake.notification(result.tender.out_trade_no)
    gateway_notification_handle(provider=provider, body=body, headers={})
    gateway_notification_handle(provider=provider, body=body, headers={})

    bill.refresh_from_db()
    tender = Tender.objects.get(bill=bill)
    assert (tender.status, bill.status, bill.paid_total) == (TenderStatus.SUCCEEDED, BillStatus.PAID, TOTAL)
    assert fake.ledger.charges(tender.out_trade_no) == 1


def test_cancelling_a_qr_payment_fails_the_tender_and_the_bill_is_due_again(provider, fake, till):
    bill = facial_bill(till)
    result = gateway_pay(bill, gateway(provider, TOTAL), by=till.desk, qr=True)

    tender = gateway_tender_cancel(tender=result.tender, acting_user=till.desk)

    bill.refresh_from_db()
    assert tender.status == TenderStatus.FAILED
    assert (bill.status, bill.paid_total) == (BillStatus.OPEN, 0)
    assert GatewayPayment.objects.get(out_trade_no=tender.out_trade_no).status == PaymentStatus.CANCELLED
    assert fake.ledger.charged(tender.out_trade_no) == 0


# --- refusals that change nothing --------------------------------------------------------------------------


def test_a_gateway_the_salon_does_not_take_is_refused_and_nothing_changes(provider, fake, till):
    pos_settings_update(acting_user=till.owner, accepts_wechat=False, accepts_alipay=False)
    bill = facial_bill(till)

    with pytest.raises(ServiceError) as refused:
        gateway_pay(bill, gateway(provider, TOTAL), by=till.desk)

    assert (refused.value.code, refused.value.status) == (PosError.TENDER_NOT_ENABLED, 400)
    _nothing_happened(bill, fake)


def test_a_merchant_account_switched_off_is_refused_and_nothing_changes(provider, fake, till):
    MerchantAccount.objects.filter(provider=provider).update(is_enabled=False)
    bill = facial_bill(till)

    with pytest.raises(ServiceError) as refused:
        gateway_pay(bill, stored_value(20000), gateway(provider, 6820), by=till.desk)

    assert (refused.value.code, refused.value.status) == (PosError.GATEWAY_ACCOUNT_NOT_READY, 400)
    assert str(refused.value.message) == "The salon's merchant account for this gateway is not set up or is off."
    _nothing_happened(bill, fake)


def test_a_missing_merchant_account_is_refused_and_nothing_changes(provider, fake, till):
    MerchantAccount.objects.filter(provider=provider).delete()
    bill = facial_bill(till)

    with pytest.raises(ServiceError) as refused:
        gateway_pay(bill, gateway(provider, TOTAL), by=till.desk)

    assert refused.value.code == PosError.GATEWAY_ACCOUNT_NOT_READY
    _nothing_happened(bill, fake)


@pytest.mark.parametrize("code", ["12345", "999999999999999999", ""])
def test_an_invalid_payment_code_is_refused_and_nothing_changes(provider, fake, till, code):
    bill = facial_bill(till)

    with pytest.raises(ServiceError) as refused:
        gateway_pay(bill, stored_value(20000), gateway(provider, 6820), by=till.desk, code=code or " ")

    expected = PosError.GATEWAY_CODE_INVALID if code else PosError.GATEWAY_CODE_REQUIRED
    assert (refused.value.code, refused.value.status) == (expected, 400)
    _nothing_happened(bill, fake)


def test_two_gateway_tenders_in_one_payment_are_refused(provider, fake, till):
    bill = facial_bill(till)

    with pytest.raises(ServiceError) as refused:
        gateway_pay(bill, gateway(provider, 6820), gateway(provider, 20000), by=till.desk)

    assert refused.value.code == PosError.GATEWAY_ONE_PER_PAYMENT
    _nothing_happened(bill, fake)


# --- refunds ------------------------------------------------------------------------------------------------


def test_a_partial_refund_goes_back_to_the_gateway_once(provider, fake, till, django_capture_on_commit_callbacks):
    bill = facial_bill(till)
    result = gateway_pay(bill, gateway(provider, TOTAL), by=till.desk)
    number = result.tender.out_trade_no

    with django_capture_on_commit_callbacks(execute=True):
        refund = bill_refund(
            bill=bill, reason="towel burn", idempotency_key="r-1", acting_user=till.manager, amount=5000
        )
    with django_capture_on_commit_callbacks(execute=True):
        again = bill_refund(
            bill=bill, reason="towel burn", idempotency_key="r-1", acting_user=till.manager, amount=5000
        )

    refund.refresh_from_db()
    part = RefundTender.objects.get(refund=refund)
    tender = Tender.objects.get(pk=result.tender.pk)
    assert again.pk == refund.pk
    assert (refund.status, part.status, part.amount) == ("succeeded", "succeeded", 5000)
    assert part.out_refund_no == f"refund{refund.pk}t{tender.pk}"
    assert tender.refunded_amount == 5000
    assert fake.ledger.given_back(number) == 5000
    assert GatewayPayment.objects.get(out_trade_no=number).refunded_amount == 5000
    assert Bill.objects.get(pk=bill.pk).refunded_total == 5000


def test_a_full_refund_of_a_split_payment_is_exact_and_nothing_more_is_refundable(
    provider, fake, till, django_capture_on_commit_callbacks
):
    bill = facial_bill(till)
    result = gateway_pay(bill, gateway(provider, 6820), stored_value(20000), by=till.desk)
    number = result.tender.out_trade_no

    with django_capture_on_commit_callbacks(execute=True):
        refund = bill_refund(bill=bill, reason="unhappy", idempotency_key="r-1", acting_user=till.manager, amount=TOTAL)

    refund.refresh_from_db()
    assert refund.status == "succeeded"
    assert sorted((p.tender.method, p.amount, p.status) for p in RefundTender.objects.filter(refund=refund)) == sorted(
        [("stored_value", 20000, "succeeded"), (provider, 6820, "succeeded")]
    )
    assert fake.ledger.given_back(number) == 6820
    wallet = wallet_of(till.member)
    assert wallet.principal + wallet.bonus == 120_000
    with pytest.raises(ServiceError) as refused:
        bill_refund(bill=bill, reason="again", idempotency_key="r-2", acting_user=till.manager, amount=1)
    assert refused.value.code in (PosError.REFUND_TOO_LARGE, PosError.REFUND_NOT_PAID)
    assert fake.ledger.given_back(number) == 6820


def _refund_with_scenario(provider, fake, till, bill, scenario, django_capture_on_commit_callbacks):
    """A refund of ¥50 whose gateway part meets ``scenario`` (set once its refund number is known, before
    the part is sent after the commit)."""
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        refund = bill_refund(bill=bill, reason="burn", idempotency_key="r-1", acting_user=till.manager, amount=5000)
    part = RefundTender.objects.get(refund=refund)
    assert (refund.status, part.status) == ("succeeded", "pending")
    fake.scenario(part.out_refund_no, scenario)
    for callback in callbacks:
        callback()
    return refund, part


def test_a_refund_the_gateway_does_not_answer_stays_pending_until_sent_again(
    provider, fake, till, django_capture_on_commit_callbacks
):
    bill = facial_bill(till)
    number = gateway_pay(bill, gateway(provider, TOTAL), by=till.desk).tender.out_trade_no

    refund, part = _refund_with_scenario(
        provider,
        fake,
        till,
        bill,
        Scenario(kind=TIMEOUT, delay=LATE_ANSWER_SECONDS),
        django_capture_on_commit_callbacks,
    )

    part.refresh_from_db()
    refund.refresh_from_db()
    assert (refund.status, part.status) == ("succeeded", "pending")
    fake.scenario(part.out_refund_no, Scenario())
    refund_parts_send(refund_pk=refund.pk)
    part.refresh_from_db()
    refund.refresh_from_db()
    assert (refund.status, part.status) == ("succeeded", "succeeded")
    assert fake.ledger.given_back(number) == 5000


def test_a_refund_the_gateway_refuses_is_failed_with_its_reason(
    provider, fake, till, django_capture_on_commit_callbacks
):
    bill = facial_bill(till)
    number = gateway_pay(bill, gateway(provider, TOTAL), by=till.desk).tender.out_trade_no

    refund, part = _refund_with_scenario(
        provider,
        fake,
        till,
        bill,
        Scenario(kind=FAILURE, error_code="NOTENOUGH", error_message="余额不足"),
        django_capture_on_commit_callbacks,
    )

    part.refresh_from_db()
    refund.refresh_from_db()
    assert (refund.status, part.status) == ("succeeded", "failed")
    assert part.failure_message
    assert fake.ledger.given_back(number) == 0
    assert GatewayPayment.objects.get(out_trade_no=number).refunded_amount == 0


def _refused_refund(provider, fake, till, django_capture_on_commit_callbacks):
    bill = facial_bill(till)
    number = gateway_pay(bill, gateway(provider, TOTAL), by=till.desk).tender.out_trade_no
    refund, part = _refund_with_scenario(
        provider, fake, till, bill, Scenario(kind=FAILURE, error_message="余额不足"), django_capture_on_commit_callbacks
    )
    part.refresh_from_db()
    assert part.status == "failed"
    return bill, number, refund, part


def test_a_refund_the_gateway_refused_is_sent_again_under_a_new_number(
    provider, fake, till, django_capture_on_commit_callbacks
):
    # given a refund part the gateway refused
    bill, number, refund, part = _refused_refund(provider, fake, till, django_capture_on_commit_callbacks)
    with pytest.raises(ServiceError) as refused:
        refund_part_resend(part=part, acting_user=till.desk)
    assert refused.value.code == PosError.PERMISSION_DENIED
    failure = part.failure_message
    assert "余额不足" in failure
    # when the manager sends it again
    with django_capture_on_commit_callbacks(execute=True):
        resent = refund_part_resend(part=part, acting_user=till.manager)
    # then the gateway refunded it, once, under the second number
    part.refresh_from_db()
    assert (resent.pk, part.status, part.attempts, part.failure_message) == (part.pk, "succeeded", 2, "")
    assert part.out_refund_no == f"refund{refund.pk}t{part.tender_id}n2"
    assert fake.ledger.given_back(number) == 5000
    assert GatewayPayment.objects.get(out_trade_no=number).refunded_amount == 5000
    assert AuditEntry.objects.get(action="pos.refund_part_resent").data == {
        "refund": refund.pk,
        "part": part.pk,
        "amount": 5000,
        "failure": failure,
    }
    # a part the gateway refunded is not sent again, nor given in cash
    for settle in (refund_part_resend, refund_part_given_in_cash):
        with pytest.raises(ServiceError) as again:
            settle(part=part, acting_user=till.manager)
        assert again.value.code == PosError.REFUND_PART_NOT_FAILED
        assert str(again.value.message) == (
            "Only a WeChat Pay or Alipay refund the gateway refused can be sent again or given back in cash."
        )
    assert fake.ledger.given_back(number) == 5000
    assert Bill.objects.get(pk=bill.pk).refunded_total == 5000


def test_a_refund_the_gateway_refused_is_given_back_in_cash_out_of_the_drawer(
    provider, fake, till, django_capture_on_commit_callbacks
):
    # given a refund part the gateway refused, and no drawer open yet
    _bill, number, _refund, part = _refused_refund(provider, fake, till, django_capture_on_commit_callbacks)
    with pytest.raises(ServiceError) as no_drawer:
        refund_part_given_in_cash(part=part, acting_user=till.manager)
    assert (no_drawer.value.code, str(no_drawer.value.message)) == (
        PosError.CASH_SESSION_REQUIRED,
        "Open a cash session at this location before giving cash back.",
    )
    session = cash_session_open(location=till.location, opening_float=30_000, acting_user=till.desk)
    # when the manager gives it back in cash
    given = refund_part_given_in_cash(part=part, acting_user=till.manager)
    # then the drawer paid it out; the part stays refused at the gateway and is settled
    part.refresh_from_db()
    assert (given.pk, part.status, part.given_in_cash_by_id) == (part.pk, "failed", till.manager.pk)
    assert part.given_in_cash_at is not None
    figures = cash_session_figures(session)
    assert (figures.pay_outs, figures.expected_cash) == (5000, 25_000)
    assert fake.ledger.given_back(number) == 0
    assert AuditEntry.objects.get(action="pos.refund_part_given_in_cash").data["amount"] == 5000
    for settle in (refund_part_resend, refund_part_given_in_cash):
        with pytest.raises(ServiceError) as again:
            settle(part=part, acting_user=till.manager)
        assert again.value.code == PosError.REFUND_PART_NOT_FAILED
    assert cash_session_figures(session).pay_outs == 5000


def test_the_periodic_sync_records_a_pending_refund_part_once_answered(
    provider, fake, till, django_capture_on_commit_callbacks
):
    bill = facial_bill(till)
    number = gateway_pay(bill, gateway(provider, TOTAL), by=till.desk).tender.out_trade_no
    with django_capture_on_commit_callbacks(execute=False):  # the send after the commit never ran
        refund = bill_refund(bill=bill, reason="burn", idempotency_key="r-1", acting_user=till.manager, amount=5000)

    assert gateway_refunds_sync() == 0  # too recent
    assert gateway_refunds_sync(older_than_seconds=-60) == 1

    assert RefundTender.objects.get(refund=refund).status == "succeeded"
    assert fake.ledger.given_back(number) == 5000
    assert gateway_refunds_sync(older_than_seconds=-60) == 0


def test_a_payment_made_after_its_tender_stopped_counting_is_given_back(
    provider, fake, till, django_capture_on_commit_callbacks
):
    # given a QR payment the till stopped waiting for (its tender failed) while the QR code stayed payable
    bill = facial_bill(till)
    result = gateway_pay(bill, gateway(provider, TOTAL), by=till.desk, qr=True)
    number = result.tender.out_trade_no
    bill_tender_fail(tender=result.tender, failure_code="cancelled", failure_message="given up")

    # when the client pays it anyway and the gateway says so
    fake.pay_qr(number)
    with django_capture_on_commit_callbacks(execute=True):
        gateway_notification_handle(provider=provider, body=fake.notification(number), headers={})

    # then the bill does not count it and the money went back to the client once
    bill.refresh_from_db()
    tender = Tender.objects.get(pk=result.tender.pk)
    assert (bill.status, bill.paid_total) == (BillStatus.OPEN, 0)
    assert tender.status == TenderStatus.FAILED
    assert fake.ledger.charged(number) == TOTAL
    assert fake.ledger.given_back(number) == TOTAL
    assert GatewayPayment.objects.get(out_trade_no=number).refunded_amount == TOTAL
