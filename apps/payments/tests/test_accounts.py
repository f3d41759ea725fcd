"""Merchant accounts: checked credentials, stored encrypted, secrets write-only, one per provider and per
salon (alpha's account is nothing to beta)."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives import serialization
from django.db import connection
from django_tenants.utils import schema_context

from apps.core.errors import ServiceError
from apps.core.models import AuditEntry
from apps.payments.errors import PaymentsError
from apps.payments.models import GatewayPayment, MerchantAccount
from apps.payments.services import gateway_charge_code, merchant_account_update
from apps.payments.testing.fixtures import alipay_credentials, wechat_credentials
from apps.payments.tests.support import WECHAT_CODE, connect


def test_credentials_are_stored_encrypted(in_alpha, fake_wechat, payment_key_pairs):
    values = connect("wechat", fake_wechat, payment_key_pairs)

    with connection.cursor() as cursor:
        cursor.execute("SELECT credentials FROM payments_merchantaccount")
        (raw,) = cursor.fetchone()

    for secret in (values["api_key"], values["mch_id"], "BEGIN CERTIFICATE"):
        assert secret not in raw
    account = MerchantAccount.objects.get(provider="wechat")
    assert account.values["api_key"] == values["api_key"]
    assert values["api_key"] not in repr(account)


def test_an_empty_secret_keeps_the_stored_one_and_the_audit_names_fields_only(in_alpha, fake_wechat, payment_key_pairs):
    values = connect("wechat", fake_wechat, payment_key_pairs)

    merchant_account_update(provider="wechat", acting_user=None, credentials={"api_key": "", "mch_id": "1900009999"})

    stored = MerchantAccount.objects.get(provider="wechat").values
    assert stored["api_key"] == values["api_key"]
    assert stored["mch_id"] == "1900009999"
    entry = AuditEntry.objects.filter(action="payments.account_update").order_by("-id").first()
    assert entry.data == {"provider": "wechat", "changed": ["mch_id"], "is_enabled": True}
    assert values["api_key"] not in str(AuditEntry.objects.values_list("data", flat=True))


@pytest.mark.parametrize(
    ("credentials", "code"),
    [
        ({"app_id": "app123"}, PaymentsError.INVALID_APP_ID),
        ({"mch_id": "12ab"}, PaymentsError.INVALID_MCH_ID),
        ({"api_key": "short"}, PaymentsError.INVALID_API_KEY),
        (
            {"cert_pem": "-----BEGIN CERTIFICATE-----\nxx\n-----END CERTIFICATE-----", "cert_key_pem": "x"},
            PaymentsError.INVALID_CERTIFICATE,
        ),
    ],
)
def test_bad_wechat_credentials_are_refused_and_nothing_is_stored(in_alpha, credentials, code):
    with pytest.raises(ServiceError) as refused:
        merchant_account_update(provider="wechat", acting_user=None, credentials=credentials)

    assert refused.value.code == code
    assert MerchantAccount.objects.count() == 0


def test_a_certificate_with_another_key_is_refused(in_alpha, payment_key_pairs):
    cert, _key = payment_key_pairs["wechat_certificate"]
    other_key = payment_key_pairs["apps"][0].private_pem

    with pytest.raises(ServiceError) as refused:
        merchant_account_update(
            provider="wechat", acting_user=None, credentials={"cert_pem": cert, "cert_key_pem": other_key}
        )

    assert refused.value.code == PaymentsError.INVALID_CERTIFICATE_KEY


def test_alipay_keys_are_accepted_as_the_key_tool_shows_them(in_alpha, fake_alipay, payment_key_pairs):
    # given the keys as bare base64 (PKCS#8 private key, as the key tool shows it)
    keys = payment_key_pairs["apps"][0]
    private = serialization.load_pem_private_key(keys.private_pem.encode(), password=None)
    bare_private = base64.b64encode(
        private.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    ).decode()
    bare_public = "".join(fake_alipay.alipay_public_key.strip().splitlines()[1:-1])
    values = alipay_credentials(fake_alipay, keys)

    merchant_account_update(
        provider="alipay",
        acting_user=None,
        credentials={**values, "app_private_key": bare_private, "alipay_public_key": bare_public},
        is_enabled=True,
    )

    # then they are stored in the form the SDK reads, and payments work with them
    stored = MerchantAccount.objects.get(provider="alipay").values
    assert stored["app_private_key"].startswith("-----BEGIN RSA PRIVATE KEY-----")
    assert stored["alipay_public_key"] == fake_alipay.alipay_public_key
    payment = gateway_charge_code(
        provider="alipay", amount=100, out_trade_no="keytest01", auth_code="281234567890123456", description="x"
    )
    assert payment.status == "succeeded"


@pytest.mark.parametrize(
    ("credentials", "code"),
    [
        ({"app_private_key": "not a key"}, PaymentsError.INVALID_PRIVATE_KEY),
        ({"alipay_public_key": "bm90IGEga2V5"}, PaymentsError.INVALID_PUBLIC_KEY),
        ({"app_id": "wx1234567890abcdef"}, PaymentsError.INVALID_APP_ID),
    ],
)
def test_bad_alipay_credentials_are_refused(in_alpha, credentials, code):
    with pytest.raises(ServiceError) as refused:
        merchant_account_update(provider="alipay", acting_user=None, credentials=credentials)

    assert refused.value.code == code
    assert MerchantAccount.objects.count() == 0


def test_an_account_is_switched_on_only_when_complete(in_alpha):
    with pytest.raises(ServiceError) as refused:
        merchant_account_update(
            provider="wechat", acting_user=None, credentials={"app_id": "wx0123456789abcdef"}, is_enabled=True
        )

    assert refused.value.code == PaymentsError.CREDENTIALS_INCOMPLETE
    assert MerchantAccount.objects.count() == 0


def test_one_salons_account_is_nothing_to_another(alpha, beta, fake_wechat, payment_key_pairs):
    # given alpha has WeChat Pay set up
    with schema_context(alpha.schema):
        connect("wechat", fake_wechat, payment_key_pairs)

    # then beta has no account and cannot take WeChat Pay
    with schema_context(beta.schema):
        assert MerchantAccount.objects.count() == 0
        with pytest.raises(ServiceError) as refused:
            gateway_charge_code(
                provider="wechat", amount=100, out_trade_no="beta0001", auth_code=WECHAT_CODE, description="x"
            )
        assert refused.value.code == PaymentsError.ACCOUNT_NOT_READY
        assert GatewayPayment.objects.count() == 0
    assert fake_wechat.ledger.calls == []


def test_each_salon_is_paid_into_its_own_merchant_account(alpha, beta, fake_wechat, payment_key_pairs):
    with schema_context(alpha.schema):
        alpha_values = connect("wechat", fake_wechat, payment_key_pairs)
        gateway_charge_code(
            provider="wechat", amount=100, out_trade_no="alpha0001", auth_code=WECHAT_CODE, description="x"
        )
    with schema_context(beta.schema):
        beta_values = wechat_credentials(fake_wechat)
        merchant_account_update(provider="wechat", acting_user=None, credentials=beta_values, is_enabled=True)
        gateway_charge_code(
            provider="wechat", amount=200, out_trade_no="beta0001", auth_code=WECHAT_CODE, description="x"
        )
        assert list(GatewayPayment.objects.values_list("out_trade_no", flat=True)) == ["beta0001"]

    assert fake_wechat.order("alpha0001").mch_id == alpha_values["mch_id"]
    assert fake_wechat.order("beta0001").mch_id == beta_values["mch_id"]
