"""Charging through the fake WeChat Pay and Alipay (real HTTP, real signatures), in the salon alpha:
success, a client still confirming, refusals, lost answers, replays, cancellations."""

from __future__ import annotations

import pytest

from apps.core.errors import ServiceError
from apps.payments.errors import PaymentsError
from apps.payments.models import GatewayPayment, PaymentKind, PaymentStatus
from apps.payments.services import (
    gateway_charge_code,
    gateway_charge_qr,
    gateway_payment_cancel,
    gateway_payment_query,
    merchant_account_update,
)
from apps.payments.testing.fixtures import LATE_ANSWER_SECONDS
from apps.payments.testing.server import FAILURE, SYSTEM_ERROR, TIMEOUT, USER_PAYING, Scenario
from apps.payments.tests.support import CODES, NOTIFY_URL, settled_signals

FAILURE_CODES = {"wechat": "AUTHCODEEXPIRE", "alipay": "ACQ.PAYMENT_AUTH_CODE_INVALID"}


def charge(provider: str, number: str = "bill12pay1", amount: int = 18800, code: str = "") -> GatewayPayment:
    return gateway_charge_code(
        provider=provider,
        amount=amount,
        out_trade_no=number,
        auth_code=code or CODES[provider],
        description="美发 洗剪吹",
        reference="bill:12",
    )


def test_a_payment_code_is_charged_once_and_the_payment_settles(provider, fake):
    # given a switched-on account
    with settled_signals() as signals:
        # when the cashier scans the client's code for ¥188
        payment = charge(provider)

    # then the money moved once and the payment says so, with the provider's transaction id
    assert payment.status == PaymentStatus.SUCCEEDED
    assert payment.kind == PaymentKind.CODE
    assert payment.provider_transaction_id != ""
    assert payment.paid_at is not None
    assert payment.reference == "bill:12"
    assert payment.attempts == 1
    assert fake.ledger.charged("bill12pay1") == 18800
    assert fake.ledger.rejected == []
    assert signals.sent == [(payment.pk, PaymentStatus.SUCCEEDED)]


def test_a_client_still_confirming_is_asked_about_until_paid(provider, fake):
    # given a client who confirms on their phone after two queries
    fake.scenario(CODES[provider], Scenario(kind=USER_PAYING, pending_queries=2))

    # when the cashier scans the code
    with settled_signals() as signals:
        payment = charge(provider)

    # then the till is told it is paid after the charge and three queries
    assert payment.status == PaymentStatus.SUCCEEDED
    assert payment.attempts == 4
    assert payment.last_queried_at is not None
    assert fake.ledger.charges("bill12pay1") == 1
    assert signals.sent == [(payment.pk, PaymentStatus.SUCCEEDED)]


def test_a_client_confirming_for_long_leaves_the_payment_pending_until_a_query(provider, fake):
    # given a client still confirming through the three polls of the tests' settings
    fake.scenario(CODES[provider], Scenario(kind=USER_PAYING, pending_queries=3))

    # when the cashier scans the code
    with settled_signals() as signals:
        payment = charge(provider)

        # then it is pending, nothing settled yet
        assert payment.status == PaymentStatus.PENDING
        assert payment.error_code in {"USERPAYING", "WAIT_BUYER_PAY"}
        assert signals.sent == []

        # and the next query finds it paid
        payment = gateway_payment_query(payment=payment)
    assert payment.status == PaymentStatus.SUCCEEDED
    assert signals.sent == [(payment.pk, PaymentStatus.SUCCEEDED)]
    assert fake.ledger.charges("bill12pay1") == 1


def test_a_refused_code_fails_the_payment_with_the_providers_reason(provider, fake):
    # given an expired payment code
    fake.scenario(CODES[provider], Scenario(kind=FAILURE))

    with settled_signals() as signals:
        payment = charge(provider)

    # then the payment failed, nothing was charged, and the till heard once
    assert payment.status == PaymentStatus.FAILED
    assert payment.error_code == FAILURE_CODES[provider]
    assert payment.provider_transaction_id == ""
    assert fake.ledger.charged("bill12pay1") == 0
    assert signals.sent == [(payment.pk, PaymentStatus.FAILED)]


def test_a_client_who_gives_up_fails_the_payment(provider, fake):
    fake.scenario(CODES[provider], Scenario(kind=USER_PAYING, pending_queries=1, then_paid=False))

    payment = charge(provider)

    assert payment.status in {PaymentStatus.FAILED, PaymentStatus.CANCELLED}
    assert fake.ledger.charged("bill12pay1") == 0


def test_an_answer_that_comes_too_late_is_settled_by_a_query(provider, fake):
    # given a provider that charges the client but answers after our client's timeout
    fake.scenario(CODES[provider], Scenario(kind=TIMEOUT, delay=LATE_ANSWER_SECONDS))

    with settled_signals() as signals:
        payment = charge(provider)

    # then the query after the timeout finds the money moved: paid, charged once, never reported failed
    assert payment.status == PaymentStatus.SUCCEEDED
    assert fake.ledger.charges("bill12pay1") == 1
    assert signals.sent == [(payment.pk, PaymentStatus.SUCCEEDED)]


def test_a_system_error_answer_is_settled_by_a_query(provider, fake):
    fake.scenario(CODES[provider], Scenario(kind=SYSTEM_ERROR))

    payment = charge(provider)

    assert payment.status == PaymentStatus.SUCCEEDED
    assert fake.ledger.charges("bill12pay1") == 1


def test_a_provider_that_does_not_answer_at_all_leaves_the_payment_pending(provider, fake, settings):
    # given the provider is down (nothing listens at its address)
    fake.stop()
    if provider == "wechat":
        settings.WECHATPAY_API_BASE = "http://127.0.0.1:9/"
    else:
        settings.ALIPAY_GATEWAY_URL = "http://127.0.0.1:9/gateway.do"

    with settled_signals() as signals:
        payment = charge(provider)

    # then the outcome is unknown: pending, with the reason noted, never failed
    assert payment.status == PaymentStatus.PENDING
    assert payment.error_code == PaymentsError.GATEWAY_UNAVAILABLE.value
    assert payment.attempts == 4
    assert signals.sent == []


def test_the_same_payment_number_again_charges_nothing(provider, fake):
    # given a payment that went through
    first = charge(provider)
    calls = len(fake.ledger.calls)

    # when the till sends it again (a retry after a crash)
    again = charge(provider)

    # then the same payment comes back and the provider is not asked again
    assert again.pk == first.pk
    assert again.status == PaymentStatus.SUCCEEDED
    assert len(fake.ledger.calls) == calls
    assert fake.ledger.charges("bill12pay1") == 1
    assert GatewayPayment.objects.count() == 1


def test_the_same_payment_number_for_another_amount_is_refused(provider, fake):
    charge(provider)

    with pytest.raises(ServiceError) as refused:
        charge(provider, amount=100)

    assert refused.value.code == PaymentsError.OUT_TRADE_NO_REUSED
    assert refused.value.status == 409
    assert GatewayPayment.objects.get().amount == 18800


@pytest.mark.parametrize(
    "code",
    ["", "13456789012345678", "164567890123456789", "1345678901234567890", "abc", "25612345678901"],
)
def test_a_code_of_the_wrong_shape_is_refused_before_anything_is_sent(provider, fake, code):
    with pytest.raises(ServiceError) as refused:
        charge(provider, code=code or "x")

    assert refused.value.code == PaymentsError.INVALID_AUTH_CODE
    assert refused.value.as_dict() == {"auth_code": [refused.value.message]}
    assert GatewayPayment.objects.count() == 0
    assert fake.ledger.calls == []


def test_the_other_providers_code_is_refused(provider, fake):
    other = "alipay" if provider == "wechat" else "wechat"

    with pytest.raises(ServiceError) as refused:
        charge(provider, code=CODES[other])

    assert refused.value.code == PaymentsError.INVALID_AUTH_CODE
    assert GatewayPayment.objects.count() == 0


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("amount", 0, PaymentsError.INVALID_AMOUNT),
        ("amount", -5, PaymentsError.INVALID_AMOUNT),
        ("out_trade_no", "bill 12", PaymentsError.INVALID_OUT_TRADE_NO),
        ("out_trade_no", "x" * 33, PaymentsError.INVALID_OUT_TRADE_NO),
        ("description", "", PaymentsError.DESCRIPTION_REQUIRED),
        ("description", "洗" * 43, PaymentsError.TEXT_TOO_LONG),
        ("provider", "paypal", PaymentsError.INVALID_PROVIDER),
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(provider, fake, field, value, code):
    arguments = {
        "provider": provider,
        "amount": 18800,
        "out_trade_no": "bill12pay1",
        "auth_code": CODES[provider],
        "description": "美发",
        "reference": "bill:12",
        field: value,
    }

    with pytest.raises(ServiceError) as refused:
        gateway_charge_code(**arguments)

    assert refused.value.code == code
    assert GatewayPayment.objects.count() == 0
    assert fake.ledger.calls == []


def test_an_account_switched_off_takes_no_payment(provider, fake):
    merchant_account_update(provider=provider, acting_user=None, is_enabled=False)

    with pytest.raises(ServiceError) as refused:
        charge(provider)

    assert refused.value.code == PaymentsError.ACCOUNT_NOT_READY
    assert GatewayPayment.objects.count() == 0
    assert fake.ledger.calls == []


def test_a_qr_payment_gets_its_code_and_waits(provider, fake):
    notify_url = NOTIFY_URL.format(provider=provider)

    payment = gateway_charge_qr(
        provider=provider,
        amount=5000,
        out_trade_no="bill13qr1",
        description="护理",
        reference="bill:13",
        notify_url=notify_url,
    )

    assert payment.status == PaymentStatus.PENDING
    assert payment.kind == PaymentKind.QR
    assert payment.code_url.startswith("weixin://wxpay/" if provider == "wechat" else "https://qr.alipay.com/")
    assert fake.ledger.charged("bill13qr1") == 0
    order = fake.order("bill13qr1") if provider == "wechat" else fake.trade("bill13qr1")
    assert order.notify_url == notify_url

    # and a query before the client scans leaves it waiting; after they pay it is settled
    assert gateway_payment_query(payment=payment).status == PaymentStatus.PENDING
    fake.pay_qr("bill13qr1")
    with settled_signals() as signals:
        payment = gateway_payment_query(payment=payment)
    assert payment.status == PaymentStatus.SUCCEEDED
    assert signals.sent == [(payment.pk, PaymentStatus.SUCCEEDED)]


def test_a_qr_code_the_provider_refuses_fails_the_payment(provider, fake):
    fake.scenario("bill13qr1", Scenario(kind=FAILURE))

    payment = gateway_charge_qr(
        provider=provider,
        amount=5000,
        out_trade_no="bill13qr1",
        description="护理",
        notify_url=NOTIFY_URL.format(provider=provider),
    )

    assert payment.status == PaymentStatus.FAILED
    assert payment.code_url == ""
    assert payment.error_code != ""


def test_a_qr_payment_needs_a_web_notify_address(provider, fake):
    with pytest.raises(ServiceError) as refused:
        gateway_charge_qr(
            provider=provider, amount=5000, out_trade_no="bill13qr1", description="护理", notify_url="ftp://x/"
        )

    assert refused.value.code == PaymentsError.INVALID_NOTIFY_URL
    assert GatewayPayment.objects.count() == 0


def test_an_abandoned_code_payment_is_cancelled_and_nothing_is_kept(provider, fake):
    # given a client still confirming when the cashier gives up
    fake.scenario(CODES[provider], Scenario(kind=USER_PAYING, pending_queries=10))
    payment = charge(provider)
    assert payment.status == PaymentStatus.PENDING

    with settled_signals() as signals:
        payment = gateway_payment_cancel(payment=payment)

    # then it is cancelled at the provider: no money kept, and the till heard once
    assert payment.status == PaymentStatus.CANCELLED
    assert fake.ledger.charged("bill12pay1") - fake.ledger.given_back("bill12pay1") == 0
    assert signals.sent == [(payment.pk, PaymentStatus.CANCELLED)]
    # a cancelled payment cannot be cancelled again
    with pytest.raises(ServiceError) as refused:
        gateway_payment_cancel(payment=payment)
    assert refused.value.code == PaymentsError.NOT_PENDING


def test_an_abandoned_qr_payment_is_closed_and_can_no_longer_be_paid(provider, fake):
    payment = gateway_charge_qr(
        provider=provider,
        amount=5000,
        out_trade_no="bill13qr1",
        description="护理",
        notify_url=NOTIFY_URL.format(provider=provider),
    )

    payment = gateway_payment_cancel(payment=payment)
    fake.pay_qr("bill13qr1")

    assert payment.status == PaymentStatus.CANCELLED
    assert fake.ledger.charged("bill13qr1") == 0


def test_a_paid_payment_is_not_cancelled(provider, fake):
    payment = charge(provider)

    with pytest.raises(ServiceError) as refused:
        gateway_payment_cancel(payment=payment)

    assert refused.value.code == PaymentsError.NOT_PENDING
    assert GatewayPayment.objects.get().status == PaymentStatus.SUCCEEDED
    assert fake.ledger.given_back("bill12pay1") == 0
