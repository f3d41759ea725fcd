"""Notifications (signature checked, kept once per event, amount checked), refunds (partial, never more
than paid, idempotent by refund number) and the reconciliation of what is still open, in the salon alpha
against both fake providers."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from apps.core.errors import ServiceError
from apps.payments.errors import PaymentsError
from apps.payments.models import GatewayNotification, GatewayPayment, GatewayRefund, PaymentStatus, RefundStatus
from apps.payments.services import (
    gateway_charge_code,
    gateway_charge_qr,
    gateway_notification_handle,
    gateway_payments_reconcile,
    gateway_refund,
)
from apps.payments.testing.fake_alipay import key_pair
from apps.payments.testing.server import FAILURE, USER_PAYING, Scenario
from apps.payments.tests.support import CODES, NOTIFY_URL, connect, settled_signals


def qr(provider: str, number: str = "bill20qr1", amount: int = 26800) -> GatewayPayment:
    return gateway_charge_qr(
        provider=provider,
        amount=amount,
        out_trade_no=number,
        description="染发",
        reference="bill:20",
        notify_url=NOTIFY_URL.format(provider=provider),
    )


def paid(provider: str, number: str = "bill21pay1", amount: int = 30000) -> GatewayPayment:
    payment = gateway_charge_code(
        provider=provider, amount=amount, out_trade_no=number, auth_code=CODES[provider], description="烫发"
    )
    assert payment.status == PaymentStatus.SUCCEEDED
    return payment


def forged(provider: str, fake, number: str) -> bytes:
    if provider == "wechat":
        return fake.notification(number, api_key="0" * 32)
    return fake.notification(number, private_pem=key_pair().private_pem)


# --- notifications ---------------------------------------------------------------------------------


def test_a_notification_settles_a_qr_payment_and_a_repeat_changes_nothing(provider, fake):
    # given a QR payment the client has paid
    payment = qr(provider)
    fake.pay_qr("bill20qr1")
    body = fake.notification("bill20qr1")

    with settled_signals() as signals:
        # when the provider notifies, and then notifies again
        first = gateway_notification_handle(provider=provider, body=body, headers={})
        second = gateway_notification_handle(provider=provider, body=body, headers={})

    # then the payment is paid once, one event is kept, the till heard once
    assert first.pk == second.pk == payment.pk
    assert second.status == PaymentStatus.SUCCEEDED
    assert second.provider_transaction_id != ""
    assert GatewayNotification.objects.count() == 1
    note = GatewayNotification.objects.get()
    assert (note.payment_id, note.is_verified, note.out_trade_no) == (payment.pk, True, "bill20qr1")
    assert signals.sent == [(payment.pk, PaymentStatus.SUCCEEDED)]


def test_a_forged_notification_is_refused_and_writes_nothing(provider, fake):
    payment = qr(provider)
    fake.pay_qr("bill20qr1")

    with settled_signals() as signals, pytest.raises(ServiceError) as refused:
        gateway_notification_handle(provider=provider, body=forged(provider, fake, "bill20qr1"), headers={})

    assert refused.value.code == PaymentsError.SIGNATURE_INVALID
    assert GatewayNotification.objects.count() == 0
    assert GatewayPayment.objects.get(pk=payment.pk).status == PaymentStatus.PENDING
    assert signals.sent == []


def test_a_tampered_notification_is_refused(provider, fake):
    qr(provider)
    fake.pay_qr("bill20qr1")
    body = fake.notification("bill20qr1").replace(b"26800", b"2680").replace(b"268.00", b"26.80")

    with pytest.raises(ServiceError) as refused:
        gateway_notification_handle(provider=provider, body=body, headers={})

    assert refused.value.code == PaymentsError.SIGNATURE_INVALID
    assert GatewayNotification.objects.count() == 0


def test_a_notification_of_another_amount_is_refused(provider, fake):
    payment = qr(provider)
    fake.pay_qr("bill20qr1")
    body = fake.notification("bill20qr1", **({"total_fee": 100} if provider == "wechat" else {"total": 100}))

    with pytest.raises(ServiceError) as refused:
        gateway_notification_handle(provider=provider, body=body, headers={})

    assert refused.value.code == PaymentsError.AMOUNT_MISMATCH
    assert GatewayNotification.objects.count() == 0
    assert GatewayPayment.objects.get(pk=payment.pk).status == PaymentStatus.PENDING


def test_a_notification_of_an_unknown_payment_is_refused(provider, fake):
    qr(provider)
    fake.pay_qr("bill20qr1")
    body = fake.notification("bill20qr1")
    GatewayPayment.objects.all().delete()

    with pytest.raises(ServiceError) as refused:
        gateway_notification_handle(provider=provider, body=body, headers={})

    assert refused.value.code == PaymentsError.UNKNOWN_PAYMENT
    assert GatewayNotification.objects.count() == 0


def test_garbage_is_not_a_notification(provider, fake):
    with pytest.raises(ServiceError) as refused:
        gateway_notification_handle(provider=provider, body=b"<xml><a>1</a>", headers={})

    assert refused.value.code in {PaymentsError.NOTIFICATION_INVALID, PaymentsError.SIGNATURE_INVALID}
    assert GatewayNotification.objects.count() == 0


# --- refunds -----------------------------------------------------------------------------------------


def test_a_partial_refund_then_one_over_what_is_left_is_refused(provider, fake):
    # given ¥300 paid
    payment = paid(provider)

    # when ¥100 is refunded
    refund = gateway_refund(payment=payment, amount=10000, out_refund_no="bill21ref1", reason="不满意")

    # then it went through at the provider and the payment shows it
    assert refund.status == RefundStatus.SUCCEEDED
    assert refund.refunded_at is not None
    assert fake.ledger.given_back("bill21pay1") == 10000
    assert GatewayPayment.objects.get(pk=payment.pk).refunded_amount == 10000

    # and ¥200.01 more is refused, with nothing written or sent
    calls = len(fake.ledger.calls)
    with pytest.raises(ServiceError) as refused:
        gateway_refund(payment=payment, amount=20001, out_refund_no="bill21ref2")
    assert refused.value.code == PaymentsError.REFUND_TOO_LARGE
    assert refused.value.as_dict() == {"amount": [refused.value.message]}
    assert GatewayRefund.objects.count() == 1
    assert len(fake.ledger.calls) == calls
    assert GatewayPayment.objects.get(pk=payment.pk).refunded_amount == 10000

    # and the remaining ¥200 can still be refunded
    rest = gateway_refund(payment=payment, amount=20000, out_refund_no="bill21ref2")
    assert rest.status == RefundStatus.SUCCEEDED
    assert GatewayPayment.objects.get(pk=payment.pk).refunded_amount == 30000
    assert fake.ledger.given_back("bill21pay1") == 30000


def test_the_same_refund_number_again_refunds_nothing_more(provider, fake):
    payment = paid(provider)
    first = gateway_refund(payment=payment, amount=5000, out_refund_no="bill21ref1")

    again = gateway_refund(payment=payment, amount=5000, out_refund_no="bill21ref1")

    assert again.pk == first.pk
    assert fake.ledger.given_back("bill21pay1") == 5000
    assert GatewayPayment.objects.get(pk=payment.pk).refunded_amount == 5000
    with pytest.raises(ServiceError) as refused:
        gateway_refund(payment=payment, amount=6000, out_refund_no="bill21ref1")
    assert refused.value.code == PaymentsError.OUT_REFUND_NO_REUSED


def test_a_refund_the_provider_refuses_gives_the_amount_back_to_refund(provider, fake):
    payment = paid(provider)
    fake.scenario("bill21ref1", Scenario(kind=FAILURE))

    refund = gateway_refund(payment=payment, amount=5000, out_refund_no="bill21ref1")

    assert refund.status == RefundStatus.FAILED
    assert refund.error_code != ""
    assert GatewayPayment.objects.get(pk=payment.pk).refunded_amount == 0
    assert fake.ledger.given_back("bill21pay1") == 0


def test_a_payment_that_did_not_go_through_is_not_refunded(provider, fake):
    payment = qr(provider)

    with pytest.raises(ServiceError) as refused:
        gateway_refund(payment=payment, amount=100, out_refund_no="bill20ref1")

    assert refused.value.code == PaymentsError.NOT_REFUNDABLE
    assert GatewayRefund.objects.count() == 0


def test_wechat_refunds_need_the_api_certificate(in_alpha, fake_wechat, payment_key_pairs):
    from apps.payments.services import merchant_account_update

    connect("wechat", fake_wechat, payment_key_pairs)
    merchant_account_update(provider="wechat", acting_user=None, clear=["cert_pem", "cert_key_pem"])
    payment = paid("wechat")

    with pytest.raises(ServiceError) as refused:
        gateway_refund(payment=payment, amount=100, out_refund_no="bill21ref1")

    assert refused.value.code == PaymentsError.CERTIFICATE_REQUIRED
    assert fake_wechat.ledger.given_back("bill21pay1") == 0


# --- reconciliation -------------------------------------------------------------------------------------


def _age(payment: GatewayPayment, minutes: float) -> None:
    GatewayPayment.objects.filter(pk=payment.pk).update(created_at=timezone.now() - datetime.timedelta(minutes=minutes))


def test_reconciliation_settles_a_paid_qr_whose_notification_was_lost(provider, fake):
    # given a QR paid two minutes ago whose notification never arrived, and a fresh one not yet paid
    payment = qr(provider)
    fake.pay_qr("bill20qr1")
    _age(payment, 2)
    fresh = qr(provider, number="bill22qr1")

    with settled_signals() as signals:
        counts = gateway_payments_reconcile()

    assert GatewayPayment.objects.get(pk=payment.pk).status == PaymentStatus.SUCCEEDED
    assert GatewayPayment.objects.get(pk=fresh.pk).status == PaymentStatus.PENDING
    assert counts == {"asked": 1, "settled": 1, "cancelled": 0, "refunds": 0, "errors": 0}
    assert signals.sent == [(payment.pk, PaymentStatus.SUCCEEDED)]


def test_reconciliation_cancels_what_stayed_unpaid_past_the_expiry(provider, fake, settings):
    # given a code payment whose client never confirmed, started 20 minutes ago (expiry 15)
    fake.scenario(CODES[provider], Scenario(kind=USER_PAYING, pending_queries=100))
    payment = gateway_charge_code(
        provider=provider, amount=1000, out_trade_no="bill23pay1", auth_code=CODES[provider], description="修眉"
    )
    _age(payment, 20)

    counts = gateway_payments_reconcile()

    assert GatewayPayment.objects.get(pk=payment.pk).status == PaymentStatus.CANCELLED
    assert counts["cancelled"] == 1
    assert fake.ledger.charged("bill23pay1") == 0


def test_reconciliation_runs_in_every_salon_through_the_beat_task(provider, fake, alpha, beta):
    from tenants.tasks import for_each_salon

    payment = qr(provider)
    fake.pay_qr("bill20qr1")
    _age(payment, 2)

    queued = for_each_salon("payments.reconcile_pending")

    assert queued >= 2
    assert GatewayPayment.objects.get(pk=payment.pk).status == PaymentStatus.SUCCEEDED
