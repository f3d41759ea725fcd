"""WeChat Pay refunds after they were sent: one under way (PROCESSING) or whose answer was lost is settled by
a refund query (pay/refundquery) from the reconciliation; one that fails at WeChat Pay (CHANGE,
REFUNDCLOSE) gives its amount back to refund; the refund notification (req_info encrypted with the API
key) settles one, once, and a forged, unknown or disagreeing one writes nothing. Service level and through
the notify address; two salons."""

from __future__ import annotations

import datetime

import pytest
from django.conf import settings
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.core.errors import ServiceError
from apps.payments.errors import PaymentsError
from apps.payments.models import GatewayNotification, GatewayPayment, GatewayRefund, PaymentStatus, RefundStatus
from apps.payments.services import (
    gateway_charge_code,
    gateway_payments_reconcile,
    gateway_refund,
    gateway_refund_notification_handle,
)
from apps.payments.signals import gateway_refund_settled
from apps.payments.testing.server import PROCESSING, SYSTEM_ERROR, TIMEOUT, Scenario
from apps.payments.tests.support import WECHAT_CODE, connect

REFUND_NOTIFY_PATH = "/payments/notify/wechat/refund/"


@pytest.fixture
def wechat_alpha(in_alpha, fake_wechat, payment_key_pairs):
    return connect("wechat", fake_wechat, payment_key_pairs)


@pytest.fixture
def refund_signals():
    sent: list[tuple[str, str]] = []

    def receive(sender, refund, **kwargs):
        sent.append((refund.out_refund_no, refund.status))

    gateway_refund_settled.connect(receive, dispatch_uid="payments-tests-refund-settled")
    try:
        yield sent
    finally:
        gateway_refund_settled.disconnect(dispatch_uid="payments-tests-refund-settled")


def _paid(number: str = "bill41pay1", amount: int = 30000) -> GatewayPayment:
    payment = gateway_charge_code(
        provider="wechat", amount=amount, out_trade_no=number, auth_code=WECHAT_CODE, description="烫发"
    )
    assert payment.status == PaymentStatus.SUCCEEDED
    return payment


def _under_way(fake, number: str = "bill41ref1", *, queries: int = 100, ends: str = "SUCCESS") -> GatewayRefund:
    """A ¥100 refund of a ¥300 payment that WeChat Pay accepted and is still carrying out."""
    payment = _paid()
    fake.scenario(number, Scenario(kind=PROCESSING, pending_queries=queries, refund_status=ends))
    refund = gateway_refund(payment=payment, amount=10000, out_refund_no=number)
    assert refund.status == RefundStatus.PENDING
    return refund


def _age(refund: GatewayRefund, minutes: float = 2) -> None:
    GatewayRefund.objects.filter(pk=refund.pk).update(created_at=timezone.now() - datetime.timedelta(minutes=minutes))


def _refunded(payment_pk: int) -> int:
    return GatewayPayment.objects.get(pk=payment_pk).refunded_amount


# --- refund query ------------------------------------------------------------------------------------------


def test_a_refund_under_way_stays_pending_then_the_reconciliation_settles_it(wechat_alpha, fake_wechat, refund_signals):
    # given a refund WeChat Pay accepted, still PROCESSING when asked right after (and once more after that)
    refund = _under_way(fake_wechat, queries=2)

    # then it is pending with WeChat Pay's refund id, the amount reserved, nothing given back yet
    assert refund.provider_refund_id.startswith("50000")
    assert (refund.error_code, refund.refunded_at) == ("", None)
    assert _refunded(refund.payment_id) == 10000
    assert fake_wechat.ledger.given_back("bill41pay1") == 0
    assert fake_wechat.ledger.calls.count("pay/refundquery") == 1

    # when the reconciliation runs while it is still under way, and again once WeChat Pay finished it
    _age(refund)
    first = gateway_payments_reconcile()
    assert GatewayRefund.objects.get(pk=refund.pk).status == RefundStatus.PENDING
    second = gateway_payments_reconcile()

    # then it was asked about (never applied for again) and is refunded, once
    refund.refresh_from_db()
    assert (first["refunds"], second["refunds"]) == (0, 1)
    assert refund.status == RefundStatus.SUCCEEDED
    assert refund.refunded_at is not None
    assert fake_wechat.ledger.calls.count("secapi/pay/refund") == 1
    assert fake_wechat.ledger.calls.count("pay/refundquery") == 3
    assert fake_wechat.ledger.given_back("bill41pay1") == 10000
    assert _refunded(refund.payment_id) == 10000
    assert refund_signals == [("bill41ref1", RefundStatus.SUCCEEDED)]


def test_a_refund_done_at_once_is_refunded_after_one_query(wechat_alpha, fake_wechat, refund_signals):
    payment = _paid()

    refund = gateway_refund(payment=payment, amount=10000, out_refund_no="bill41ref1")

    assert refund.status == RefundStatus.SUCCEEDED
    assert fake_wechat.ledger.calls[-2:] == ["secapi/pay/refund", "pay/refundquery"]
    expected = f"http://alpha.{settings.PLATFORM_DOMAIN}:{settings.PORT}{REFUND_NOTIFY_PATH}"
    assert fake_wechat.refund("bill41ref1").notify_url == expected
    assert refund_signals == [("bill41ref1", RefundStatus.SUCCEEDED)]


@pytest.mark.parametrize("ends", ["CHANGE", "REFUNDCLOSE"])
def test_a_refund_that_fails_at_wechat_pay_gives_its_amount_back_to_refund(
    wechat_alpha, fake_wechat, refund_signals, ends
):
    # given a payment, and a refund WeChat Pay accepts and then gives up on
    payment = _paid()
    fake_wechat.scenario("bill41ref1", Scenario(kind=PROCESSING, pending_queries=0, refund_status=ends))

    # when it is refunded (the query right after the application sees it ended)
    refund = gateway_refund(payment=payment, amount=10000, out_refund_no="bill41ref1")

    # then the refund failed with our words for staff
    assert refund.status == RefundStatus.FAILED
    assert refund.error_code == ends
    assert "nothing was refunded" in refund.error_message

    # then nothing went back, the reservation is released, and the whole payment can still be refunded
    assert fake_wechat.ledger.given_back("bill41pay1") == 0
    assert _refunded(refund.payment_id) == 0
    assert refund_signals == [("bill41ref1", RefundStatus.FAILED)]
    again = gateway_refund(payment=refund.payment, amount=30000, out_refund_no="bill41ref2")
    assert again.status == RefundStatus.SUCCEEDED
    assert _refunded(refund.payment_id) == 30000
    assert fake_wechat.ledger.given_back("bill41pay1") == 30000


def test_a_failed_refund_found_by_the_reconciliation_releases_its_amount(wechat_alpha, fake_wechat):
    refund = _under_way(fake_wechat, queries=1, ends="REFUNDCLOSE")
    _age(refund)

    counts = gateway_payments_reconcile()

    refund.refresh_from_db()
    assert counts["refunds"] == 1
    assert (refund.status, refund.error_code) == (RefundStatus.FAILED, "REFUNDCLOSE")
    assert _refunded(refund.payment_id) == 0


def test_a_refund_whose_answer_was_lost_is_settled_by_a_query_not_sent_again(wechat_alpha, fake_wechat):
    # given a refund WeChat Pay carried out but whose answer came after our client gave up
    payment = _paid()
    fake_wechat.scenario("bill41ref1", Scenario(kind=TIMEOUT))
    refund = gateway_refund(payment=payment, amount=10000, out_refund_no="bill41ref1")
    assert (refund.status, refund.error_code) == (RefundStatus.PENDING, "gateway_unavailable")
    assert fake_wechat.ledger.given_back("bill41pay1") == 10000

    # when the reconciliation runs
    _age(refund)
    gateway_payments_reconcile()

    # then the query found it refunded; it was applied for once
    refund.refresh_from_db()
    assert (refund.status, refund.error_code) == (RefundStatus.SUCCEEDED, "")
    assert fake_wechat.ledger.calls.count("secapi/pay/refund") == 1
    assert fake_wechat.ledger.given_back("bill41pay1") == 10000
    assert _refunded(payment.pk) == 10000


def test_a_refund_wechat_pay_never_received_is_sent_again(wechat_alpha, fake_wechat, settings):
    # given a refund whose application never reached WeChat Pay
    payment = _paid()
    reachable = settings.WECHATPAY_API_BASE
    settings.WECHATPAY_API_BASE = "https://127.0.0.1:9/"
    refund = gateway_refund(payment=payment, amount=10000, out_refund_no="bill41ref1")
    assert refund.status == RefundStatus.PENDING
    settings.WECHATPAY_API_BASE = reachable

    # when the reconciliation asks about it: WeChat Pay has no such refund (REFUNDNOTEXIST)
    _age(refund)
    gateway_payments_reconcile()

    # then it is applied for again under its own number, and refunded once
    refund.refresh_from_db()
    assert refund.status == RefundStatus.SUCCEEDED
    assert fake_wechat.ledger.calls == ["pay/micropay", "pay/refundquery", "secapi/pay/refund", "pay/refundquery"]
    assert fake_wechat.ledger.given_back("bill41pay1") == 10000


def test_a_system_error_on_the_application_is_settled_by_the_query(wechat_alpha, fake_wechat):
    payment = _paid()
    fake_wechat.scenario("bill41ref1", Scenario(kind=SYSTEM_ERROR))

    refund = gateway_refund(payment=payment, amount=10000, out_refund_no="bill41ref1")
    assert (refund.status, refund.error_code) == (RefundStatus.PENDING, "SYSTEMERROR")
    _age(refund)
    gateway_payments_reconcile()

    refund.refresh_from_db()
    assert refund.status == RefundStatus.SUCCEEDED
    assert fake_wechat.ledger.calls.count("secapi/pay/refund") == 1


# --- refund notifications: the service -----------------------------------------------------------------------


def test_a_refund_notification_settles_the_refund_and_a_repeat_changes_nothing(
    wechat_alpha, fake_wechat, refund_signals
):
    # given a refund under way that WeChat Pay then finished
    refund = _under_way(fake_wechat)
    fake_wechat.finish_refund("bill41ref1")
    body = fake_wechat.refund_notification("bill41ref1")

    # when its notification arrives, twice
    first = gateway_refund_notification_handle(provider="wechat", body=body, headers={})
    second = gateway_refund_notification_handle(provider="wechat", body=body, headers={})

    # then the refund is refunded once, one event is kept, the till heard once; nothing else was asked
    assert first.pk == second.pk == refund.pk
    assert second.status == RefundStatus.SUCCEEDED
    assert second.refunded_at is not None
    assert GatewayNotification.objects.count() == 1
    note = GatewayNotification.objects.get()
    assert (note.payment_id, note.out_trade_no, note.is_verified) == (refund.payment_id, "bill41pay1", True)
    assert note.dedupe_key == f"{refund.provider_refund_id}:refund:SUCCESS"
    assert refund_signals == [("bill41ref1", RefundStatus.SUCCEEDED)]
    assert _refunded(refund.payment_id) == 10000
    assert fake_wechat.ledger.calls.count("pay/refundquery") == 1


def test_a_refund_notification_of_a_closed_refund_releases_the_amount(wechat_alpha, fake_wechat):
    refund = _under_way(fake_wechat)
    fake_wechat.finish_refund("bill41ref1", "REFUNDCLOSE")

    settled = gateway_refund_notification_handle(
        provider="wechat", body=fake_wechat.refund_notification("bill41ref1"), headers={}
    )

    assert (settled.status, settled.error_code) == (RefundStatus.FAILED, "REFUNDCLOSE")
    assert _refunded(refund.payment_id) == 0
    assert fake_wechat.ledger.given_back("bill41pay1") == 0


def test_a_notification_after_the_query_settled_the_refund_is_kept_and_changes_nothing(
    wechat_alpha, fake_wechat, refund_signals
):
    payment = _paid()
    refund = gateway_refund(payment=payment, amount=10000, out_refund_no="bill41ref1")
    assert refund.status == RefundStatus.SUCCEEDED

    again = gateway_refund_notification_handle(
        provider="wechat", body=fake_wechat.refund_notification("bill41ref1"), headers={}
    )

    assert again.status == RefundStatus.SUCCEEDED
    assert GatewayNotification.objects.count() == 1
    assert refund_signals == [("bill41ref1", RefundStatus.SUCCEEDED)]
    assert _refunded(payment.pk) == 10000


def test_a_refund_recorded_failed_then_reported_refunded_is_logged_for_a_person_not_rewritten(
    wechat_alpha, fake_wechat, refund_signals, caplog
):
    # given a refund WeChat Pay reported CHANGE (failed: the amount is free to refund again)
    payment = _paid()
    fake_wechat.scenario("bill41ref1", Scenario(kind=PROCESSING, pending_queries=0, refund_status="CHANGE"))
    refund = gateway_refund(payment=payment, amount=10000, out_refund_no="bill41ref1")
    assert refund.status == RefundStatus.FAILED

    # when the merchant settles it by hand at WeChat Pay and its notification says SUCCESS
    fake_wechat.refund("bill41ref1").status = "SUCCESS"
    with caplog.at_level("ERROR", logger="salon.payments"):
        kept = gateway_refund_notification_handle(
            provider="wechat", body=fake_wechat.refund_notification("bill41ref1"), headers={}
        )

    # then the record stays as it was (a person checks: the money may have gone back another way too)
    assert (kept.status, kept.error_code) == (RefundStatus.FAILED, "CHANGE")
    assert _refunded(payment.pk) == 0
    assert refund_signals == [("bill41ref1", RefundStatus.FAILED)]
    assert GatewayNotification.objects.count() == 1
    assert any("recorded failed" in record.getMessage() for record in caplog.records)


def test_a_refund_notification_encrypted_with_another_key_is_refused_and_writes_nothing(wechat_alpha, fake_wechat):
    refund = _under_way(fake_wechat)
    fake_wechat.finish_refund("bill41ref1")

    with pytest.raises(ServiceError) as refused:
        gateway_refund_notification_handle(
            provider="wechat", body=fake_wechat.refund_notification("bill41ref1", api_key="0" * 32), headers={}
        )

    assert refused.value.code == PaymentsError.SIGNATURE_INVALID
    assert GatewayNotification.objects.count() == 0
    assert GatewayRefund.objects.get(pk=refund.pk).status == RefundStatus.PENDING


def test_a_refund_notification_of_another_amount_is_refused(wechat_alpha, fake_wechat):
    refund = _under_way(fake_wechat)
    fake_wechat.finish_refund("bill41ref1")

    with pytest.raises(ServiceError) as refused:
        gateway_refund_notification_handle(
            provider="wechat", body=fake_wechat.refund_notification("bill41ref1", refund_fee=100), headers={}
        )

    assert refused.value.code == PaymentsError.AMOUNT_MISMATCH
    assert GatewayNotification.objects.count() == 0
    assert GatewayRefund.objects.get(pk=refund.pk).status == RefundStatus.PENDING
    assert _refunded(refund.payment_id) == 10000


def test_a_refund_notification_of_an_unknown_refund_is_refused(wechat_alpha, fake_wechat):
    refund = _under_way(fake_wechat)
    fake_wechat.finish_refund("bill41ref1")
    body = fake_wechat.refund_notification("bill41ref1")
    GatewayRefund.objects.filter(pk=refund.pk).update(out_refund_no="bill41other")

    with pytest.raises(ServiceError) as refused:
        gateway_refund_notification_handle(provider="wechat", body=body, headers={})

    assert refused.value.code == PaymentsError.UNKNOWN_REFUND
    assert GatewayNotification.objects.count() == 0
    assert GatewayRefund.objects.get(pk=refund.pk).status == RefundStatus.PENDING


@pytest.mark.parametrize(
    "body",
    [
        b"<xml><return_code>SUCCESS</return_code>",
        b"<xml><return_code>SUCCESS</return_code><appid>wx0</appid><mch_id>1</mch_id></xml>",
        b"<xml><return_code>SUCCESS</return_code><req_info>bm90IGVuY3J5cHRlZA==</req_info></xml>",
    ],
)
def test_garbage_is_not_a_refund_notification(wechat_alpha, body):
    with pytest.raises(ServiceError) as refused:
        gateway_refund_notification_handle(provider="wechat", body=body, headers={})

    assert refused.value.code in {PaymentsError.NOTIFICATION_INVALID, PaymentsError.SIGNATURE_INVALID}
    assert GatewayNotification.objects.count() == 0


# --- refund notifications: the notify address ------------------------------------------------------------------


def test_the_refund_notify_address_answers_xml_and_a_repeat_changes_nothing(
    alpha, alpha_client, fake_wechat, payment_key_pairs
):
    with schema_context(alpha.schema):
        connect("wechat", fake_wechat, payment_key_pairs)
        refund = _under_way(fake_wechat)
    fake_wechat.finish_refund("bill41ref1")
    body = fake_wechat.refund_notification("bill41ref1")

    first = alpha_client.post(REFUND_NOTIFY_PATH, body, content_type="text/xml")
    second = alpha_client.post(REFUND_NOTIFY_PATH, body, content_type="text/xml")

    for response in (first, second):
        assert response.status_code == 200
        assert response["Content-Type"] == "application/xml"
        assert b"<return_code><![CDATA[SUCCESS]]></return_code>" in response.content
    with schema_context(alpha.schema):
        assert GatewayRefund.objects.get(pk=refund.pk).status == RefundStatus.SUCCEEDED
        assert GatewayNotification.objects.count() == 1


def test_the_refund_notify_address_refuses_a_forgery_with_fail(alpha, alpha_client, fake_wechat, payment_key_pairs):
    with schema_context(alpha.schema):
        connect("wechat", fake_wechat, payment_key_pairs)
        refund = _under_way(fake_wechat)
    fake_wechat.finish_refund("bill41ref1")

    forged = alpha_client.post(
        REFUND_NOTIFY_PATH, fake_wechat.refund_notification("bill41ref1", api_key="1" * 32), content_type="text/xml"
    )
    garbage = alpha_client.post(REFUND_NOTIFY_PATH, b"<xml>", content_type="text/xml")

    assert forged.status_code == garbage.status_code == 400
    for response in (forged, garbage):
        assert b"<return_code><![CDATA[FAIL]]></return_code>" in response.content
    assert alpha_client.get(REFUND_NOTIFY_PATH).status_code == 405
    with schema_context(alpha.schema):
        assert GatewayRefund.objects.get(pk=refund.pk).status == RefundStatus.PENDING
        assert GatewayNotification.objects.count() == 0


def test_a_refund_notification_for_alpha_posted_to_beta_is_refused(
    alpha, beta, beta_client, fake_wechat, payment_key_pairs
):
    with schema_context(alpha.schema):
        connect("wechat", fake_wechat, payment_key_pairs)
        refund = _under_way(fake_wechat)
    with schema_context(beta.schema):
        connect("wechat", fake_wechat, payment_key_pairs)
    fake_wechat.finish_refund("bill41ref1")

    response = beta_client.post(
        REFUND_NOTIFY_PATH, fake_wechat.refund_notification("bill41ref1"), content_type="text/xml"
    )

    assert b"FAIL" in response.content
    with schema_context(alpha.schema):
        assert GatewayRefund.objects.get(pk=refund.pk).status == RefundStatus.PENDING
    with schema_context(beta.schema):
        assert GatewayNotification.objects.count() == 0
