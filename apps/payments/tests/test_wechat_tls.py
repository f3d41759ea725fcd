"""WeChat Pay over TLS against the fake: every call verifies the fake's server certificate against
WECHATPAY_CA_BUNDLE, and refunds and reversals (secapi/*) go over mutual TLS with the salon's stored API
certificate. A certificate WeChat Pay did not issue, or none, is refused at TLS: a clear error, nothing
refunded or reversed, the amount free to refund again. Two salons: beta's account and payments are not
touched by alpha's."""

from __future__ import annotations

import datetime
from collections.abc import Iterator

import pytest
import requests
from django.utils import timezone, translation
from django_tenants.utils import schema_context

from apps.core.errors import ServiceError
from apps.payments.errors import MESSAGES, PaymentsError
from apps.payments.gateways import wechat
from apps.payments.models import GatewayPayment, GatewayRefund, MerchantAccount, PaymentStatus, RefundStatus
from apps.payments.services import gateway_charge_code, gateway_payment_cancel, gateway_refund, merchant_account_update
from apps.payments.testing.server import USER_PAYING, Scenario
from apps.payments.tests.support import WECHAT_CODE, account_of, connect

with translation.override("en"):
    REJECTED = str(MESSAGES[PaymentsError.CERTIFICATE_REJECTED])


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    # The messages are compared with their English source; the catalogue has the Chinese.
    with translation.override("en"):
        yield


@pytest.fixture
def wechat_alpha(in_alpha, beta, fake_wechat, payment_key_pairs):
    """alpha's WeChat Pay account with the API certificate the fake's CA issued; beta has one too."""
    with schema_context(beta.schema):
        connect("wechat", fake_wechat, payment_key_pairs)
    return connect("wechat", fake_wechat, payment_key_pairs)


def _paid(number: str = "bill31pay1", amount: int = 20000) -> GatewayPayment:
    payment = gateway_charge_code(
        provider="wechat", amount=amount, out_trade_no=number, auth_code=WECHAT_CODE, description="剪发"
    )
    assert payment.status == PaymentStatus.SUCCEEDED
    return payment


def _use_certificate(pair: tuple[str, str]) -> None:
    cert, key = pair
    merchant_account_update(provider="wechat", acting_user=None, credentials={"cert_pem": cert, "cert_key_pem": key})


def test_a_refund_goes_over_mutual_tls_with_the_salons_certificate(wechat_alpha, fake_wechat):
    # given ¥200 paid over HTTPS (no client certificate needed for micropay)
    payment = _paid()

    # when ¥80 is refunded
    refund = gateway_refund(payment=payment, amount=8000, out_refund_no="bill31ref1")

    # then the refund went to secapi with the merchant's certificate, and went through
    assert refund.status == RefundStatus.SUCCEEDED
    assert fake_wechat.ledger.given_back("bill31pay1") == 8000
    assert [path for path, _name in fake_wechat.ledger.client_certificates] == ["secapi/pay/refund"]
    assert fake_wechat.ledger.client_certificates[0][1].endswith("test merchant")
    assert fake_wechat.ledger.certificate_refused == []
    assert "pay/micropay" in fake_wechat.ledger.calls
    assert GatewayPayment.objects.get(pk=payment.pk).refunded_amount == 8000


def test_a_certificate_wechat_pay_did_not_issue_is_refused_at_tls_and_nothing_is_refunded(
    wechat_alpha, fake_wechat, payment_key_pairs
):
    # given a payment, and an owner who entered a certificate WeChat Pay did not issue (a valid pair)
    payment = _paid()
    _use_certificate(payment_key_pairs["wechat_foreign_certificate"])

    # when a refund is asked for
    refund = gateway_refund(payment=payment, amount=8000, out_refund_no="bill31ref1")

    # then the fake refused the TLS handshake, the refund failed with a clear message, nothing is reserved
    assert (refund.status, refund.error_code, refund.error_message) == (
        RefundStatus.FAILED,
        "certificate_rejected",
        f"{REJECTED} (TLSV1_ALERT_UNKNOWN_CA)",
    )
    assert fake_wechat.certificate_refusals(1) == ["secapi/pay/refund"]
    assert "secapi/pay/refund" not in fake_wechat.ledger.calls  # never reached the API
    assert fake_wechat.ledger.given_back("bill31pay1") == 0
    assert GatewayPayment.objects.get(pk=payment.pk).refunded_amount == 0

    # and once the issued certificate is entered, the whole amount can be refunded under a new number
    _use_certificate(payment_key_pairs["wechat_certificate"])
    again = gateway_refund(payment=payment, amount=20000, out_refund_no="bill31ref2")
    assert again.status == RefundStatus.SUCCEEDED
    assert fake_wechat.ledger.given_back("bill31pay1") == 20000
    assert GatewayPayment.objects.get(pk=payment.pk).refunded_amount == 20000


def test_the_reconciliation_does_not_send_a_refund_refused_for_its_certificate_again(
    wechat_alpha, fake_wechat, payment_key_pairs
):
    from apps.payments.services import gateway_payments_reconcile

    payment = _paid()
    _use_certificate(payment_key_pairs["wechat_foreign_certificate"])
    gateway_refund(payment=payment, amount=8000, out_refund_no="bill31ref1")
    GatewayRefund.objects.update(created_at=timezone.now() - datetime.timedelta(minutes=5))

    counts = gateway_payments_reconcile()

    assert counts["refunds"] == 0
    assert fake_wechat.certificate_refusals(1) == ["secapi/pay/refund"]


def test_secapi_without_a_client_certificate_fails_at_tls(wechat_alpha, fake_wechat, wechat_tls):
    # given the merchant's credentials without the certificate (sent anyway, as a misconfigured client would)
    _paid()
    values = {k: v for k, v in account_of("wechat").values.items() if k not in ("cert_pem", "cert_key_pem")}

    # when a refund is sent to secapi with no client certificate
    with pytest.raises(ServiceError) as refused:
        wechat._call(
            values,
            lambda c: c.refund.apply(
                total_fee=20000, refund_fee=100, out_refund_no="bill31ref9", out_trade_no="bill31pay1"
            ),
        )

    # then the TLS handshake asked for one and failed: a definite refusal, nothing refunded
    assert refused.value.code == PaymentsError.CERTIFICATE_REJECTED
    assert "TLSV13_ALERT_CERTIFICATE_REQUIRED" in refused.value.message
    assert fake_wechat.certificate_refusals(1) == ["secapi/pay/refund"]
    assert fake_wechat.ledger.given_back("bill31pay1") == 0
    # and a plain HTTPS client sees the same at TLS, while other paths need no certificate
    with pytest.raises(requests.exceptions.SSLError, match="CERTIFICATE_REQUIRED"):
        requests.post(f"{fake_wechat.base_url}secapi/pay/refund", data=b"<xml/>", verify=wechat_tls.server_ca_file)
    answer = requests.post(f"{fake_wechat.base_url}pay/orderquery", data=b"<xml/>", verify=wechat_tls.server_ca_file)
    assert (answer.status_code, b"FAIL" in answer.content) == (200, True)


def test_a_reversal_with_a_refused_certificate_is_refused_and_the_payment_stays_open(
    wechat_alpha, fake_wechat, payment_key_pairs
):
    # given a code payment the client is still confirming, and a certificate WeChat Pay did not issue
    fake_wechat.scenario(WECHAT_CODE, Scenario(kind=USER_PAYING, pending_queries=100))
    payment = gateway_charge_code(
        provider="wechat", amount=1500, out_trade_no="bill32pay1", auth_code=WECHAT_CODE, description="修眉"
    )
    _use_certificate(payment_key_pairs["wechat_foreign_certificate"])

    # when the cashier cancels it
    with pytest.raises(ServiceError) as refused:
        gateway_payment_cancel(payment=payment)

    # then the reversal is refused with the clear message, and the payment is still open (not reversed)
    assert refused.value.code == PaymentsError.CERTIFICATE_REJECTED
    assert refused.value.status == 409
    assert refused.value.message.startswith(REJECTED)
    assert GatewayPayment.objects.get(pk=payment.pk).status == PaymentStatus.PENDING
    assert fake_wechat.order("bill32pay1").state == "USERPAYING"
    assert fake_wechat.certificate_refusals(1) == ["secapi/pay/reverse"]


@pytest.mark.parametrize("bundle", ["", "merchant_ca"])
def test_the_client_verifies_wechat_pays_server_certificate(wechat_alpha, fake_wechat, wechat_tls, settings, bundle):
    # given a CA bundle that does not hold the CA of the fake's server certificate (the default bundle, or
    # the CA of merchant certificates)
    settings.WECHATPAY_CA_BUNDLE = str(wechat_tls.merchant_ca_file) if bundle else ""

    # when a payment code is charged
    payment = gateway_charge_code(
        provider="wechat", amount=1500, out_trade_no="bill33pay1", auth_code=WECHAT_CODE, description="修眉"
    )

    # then nothing was sent to the server that could not prove who it is; the outcome stays unknown
    assert payment.status == PaymentStatus.PENDING
    assert payment.error_code == "gateway_unavailable"
    assert "server certificate does not verify" in payment.error_message
    assert fake_wechat.ledger.calls == []
    assert fake_wechat.ledger.charged("bill33pay1") == 0


def test_another_salons_account_is_untouched(wechat_alpha, fake_wechat, beta, payment_key_pairs):
    payment = _paid()
    _use_certificate(payment_key_pairs["wechat_foreign_certificate"])
    gateway_refund(payment=payment, amount=100, out_refund_no="bill31ref1")

    with schema_context(beta.schema):
        assert GatewayRefund.objects.count() == 0
        values = MerchantAccount.objects.get(provider="wechat").values
        assert values["cert_pem"] == payment_key_pairs["wechat_certificate"][0].strip() + "\n"
