"""The payment pages and API: owners set up accounts (secrets never echoed), staff read payments with
filters, the notify addresses answer each provider in its own format; permissions and the two salons."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from apps.core.services import user_set_language
from apps.payments.models import GatewayNotification, GatewayPayment, MerchantAccount, PaymentStatus
from apps.payments.services import gateway_charge_code, gateway_charge_qr
from apps.payments.testing.fixtures import alipay_credentials, wechat_credentials
from apps.payments.testing.server import FAILURE, Scenario
from apps.payments.tests.support import ALIPAY_CODE, NOTIFY_URL, WECHAT_CODE, api_client, connect, settled_signals
from tests.fixtures import logged_in_client, make_staff, owner_of

# --- the API: accounts -------------------------------------------------------------------------------


@pytest.fixture
def owner_api(alpha):
    return api_client(alpha, alpha.owner_username)


def test_owner_sets_up_wechat_pay_and_the_secrets_never_come_back(owner_api, alpha, fake_wechat, payment_key_pairs):
    values = wechat_credentials(fake_wechat, certificate=payment_key_pairs["wechat_certificate"])

    response = owner_api.put(
        "/api/v1/payment-accounts/wechat/", {**values, "is_enabled": True}, content_type="application/json"
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body == {
        "provider": "wechat",
        "is_enabled": True,
        "is_complete": True,
        "app_id": values["app_id"],
        "mch_id": values["mch_id"],
        "sub_mch_id": "",
        "secrets_set": {"api_key": True, "cert_pem": True, "cert_key_pem": True},
        "updated_at": body["updated_at"],
    }
    listed = owner_api.get("/api/v1/payment-accounts/")
    assert listed.status_code == 200
    assert [a["provider"] for a in listed.json()] == ["wechat", "alipay"]
    assert listed.json()[1]["is_complete"] is False
    for text in (response.content.decode(), listed.content.decode()):
        assert values["api_key"] not in text
        assert "PRIVATE KEY" not in text
        assert "CERTIFICATE" not in text


def test_alipay_keys_are_write_only(owner_api, fake_alipay, payment_key_pairs):
    values = alipay_credentials(fake_alipay, payment_key_pairs["apps"][0])

    response = owner_api.patch(
        "/api/v1/payment-accounts/alipay/", {**values, "is_enabled": True}, content_type="application/json"
    )

    assert response.status_code == 200, response.content
    assert response.json()["secrets_set"] == {"app_private_key": True, "alipay_public_key": True}
    assert "KEY" not in response.content.decode()
    assert "KEY" not in owner_api.get("/api/v1/payment-accounts/alipay/").content.decode()


def test_bad_credentials_answer_400_on_the_field(owner_api, alpha):
    response = owner_api.put("/api/v1/payment-accounts/wechat/", {"api_key": "short"}, content_type="application/json")

    assert response.status_code == 400
    assert response.json() == {"api_key": ["The WeChat Pay API key has exactly 32 letters and digits."]}
    with schema_context(alpha.schema):
        assert MerchantAccount.objects.count() == 0


def test_an_unknown_provider_is_404(owner_api):
    assert owner_api.get("/api/v1/payment-accounts/paypal/").status_code == 404


def test_only_owners_see_or_change_accounts(alpha, fake_wechat, payment_key_pairs):
    with schema_context(alpha.schema):
        connect("wechat", fake_wechat, payment_key_pairs)
    make_staff(alpha, role="manager", username="mgr")
    manager = api_client(alpha, "mgr")

    assert manager.get("/api/v1/payment-accounts/").status_code == 403
    refused = manager.put("/api/v1/payment-accounts/wechat/", {"is_enabled": False}, content_type="application/json")

    assert refused.status_code == 403
    with schema_context(alpha.schema):
        assert MerchantAccount.objects.get(provider="wechat").is_enabled is True


def test_another_salons_owner_sees_its_own_accounts_only(alpha, beta, fake_wechat, payment_key_pairs):
    with schema_context(alpha.schema):
        values = connect("wechat", fake_wechat, payment_key_pairs)

    body = api_client(beta, beta.owner_username).get("/api/v1/payment-accounts/wechat/").json()

    assert body["is_complete"] is False
    assert body["app_id"] == ""
    assert values["mch_id"] not in str(body)


# --- the API: payments ----------------------------------------------------------------------------------


@pytest.fixture
def some_payments(alpha, fake_wechat, fake_alipay, payment_key_pairs):
    with schema_context(alpha.schema):
        connect("wechat", fake_wechat, payment_key_pairs)
        connect("alipay", fake_alipay, payment_key_pairs)
        fake_wechat.scenario("134000000000000001", Scenario(kind=FAILURE))
        gateway_charge_code(
            provider="wechat",
            amount=100,
            out_trade_no="bill1pay1",
            auth_code=WECHAT_CODE,
            description="x",
            reference="bill:1",
        )
        gateway_charge_code(
            provider="wechat",
            amount=200,
            out_trade_no="bill2pay1",
            auth_code="134000000000000001",
            description="x",
            reference="bill:2",
        )
        gateway_charge_code(
            provider="alipay",
            amount=300,
            out_trade_no="bill3pay1",
            auth_code=ALIPAY_CODE,
            description="x",
            reference="bill:3",
        )


def test_staff_list_payments_with_filters(alpha, some_payments, django_assert_max_num_queries):
    make_staff(alpha, role="front_desk", username="desk")
    desk = api_client(alpha, "desk")

    with django_assert_max_num_queries(12):
        everything = desk.get("/api/v1/gateway-payments/")
    assert everything.status_code == 200
    assert [p["out_trade_no"] for p in everything.json()["results"]] == ["bill3pay1", "bill2pay1", "bill1pay1"]

    failed = desk.get("/api/v1/gateway-payments/?provider=wechat&status=failed").json()
    assert [(p["out_trade_no"], p["error_code"]) for p in failed["results"]] == [("bill2pay1", "AUTHCODEEXPIRE")]
    assert desk.get("/api/v1/gateway-payments/?reference=bill:3").json()["count"] == 1
    assert desk.get("/api/v1/gateway-payments/?kind=qr").json()["count"] == 0
    bad = desk.get("/api/v1/gateway-payments/?status=paid")
    assert bad.status_code == 400
    assert list(bad.json()) == ["status"]

    first = everything.json()["results"][2]
    detail = desk.get(f"/api/v1/gateway-payments/{first['id']}/").json()
    assert (detail["status"], detail["amount"], detail["refunds"]) == ("succeeded", 100, [])


def test_payments_are_read_only_and_need_take_payments(alpha, some_payments):
    make_staff(alpha, role="technician", username="tech")

    assert api_client(alpha, "tech").get("/api/v1/gateway-payments/").status_code == 403
    owner = api_client(alpha, alpha.owner_username)
    assert owner.post("/api/v1/gateway-payments/", {}, content_type="application/json").status_code == 405


def test_another_salon_sees_none_of_the_payments(beta, some_payments):
    body = api_client(beta, beta.owner_username).get("/api/v1/gateway-payments/").json()

    assert body["count"] == 0


# --- pages ----------------------------------------------------------------------------------------------


@pytest.fixture
def owner_page(alpha):
    with schema_context(alpha.schema):
        user_set_language(user=owner_of(alpha), language="en")
    return logged_in_client(alpha, alpha.owner_username)


def test_owner_enters_credentials_on_the_settings_page_and_they_are_never_shown(
    owner_page, alpha, fake_wechat, payment_key_pairs
):
    values = wechat_credentials(fake_wechat, certificate=payment_key_pairs["wechat_certificate"])

    form = owner_page.get("/settings/payments/wechat/")
    assert form.status_code == 200
    page = form.content.decode()
    for name in ("app_id", "mch_id", "sub_mch_id", "api_key", "cert_pem", "cert_key_pem", "is_enabled"):
        assert f'<label for="id_{name}">' in page or f'id="id_{name}"' in page
    saved = owner_page.post("/settings/payments/wechat/", {**values, "is_enabled": "on"})
    assert saved.status_code == 302, saved.content.decode()[:2000]

    listing = owner_page.get("/settings/payments/").content.decode()
    again = owner_page.get("/settings/payments/wechat/").content.decode()
    for text in (listing, again):
        assert values["api_key"] not in text
        assert "BEGIN" not in text
    assert values["mch_id"] in listing
    assert "Switched on" in listing
    assert "API key: set" in again
    with schema_context(alpha.schema):
        account = MerchantAccount.objects.get(provider="wechat")
        assert account.is_enabled is True
        assert account.values["api_key"] == values["api_key"]

    # saving again with the secrets left empty keeps them
    owner_page.post(
        "/settings/payments/wechat/", {"app_id": values["app_id"], "mch_id": values["mch_id"], "is_enabled": "on"}
    )
    with schema_context(alpha.schema):
        assert MerchantAccount.objects.get(provider="wechat").values["api_key"] == values["api_key"]


def test_the_page_shows_a_refusal_on_its_field(owner_page, alpha):
    response = owner_page.post("/settings/payments/alipay/", {"app_private_key": "nonsense", "is_enabled": "on"})

    assert response.status_code == 200
    assert "This is not an RSA private key" in response.content.decode()
    with schema_context(alpha.schema):
        assert MerchantAccount.objects.count() == 0


def test_the_settings_page_is_for_owners(alpha):
    make_staff(alpha, role="manager", username="mgr")

    assert logged_in_client(alpha, "mgr").get("/settings/payments/").status_code == 403
    assert logged_in_client(alpha, "mgr").post("/settings/payments/wechat/", {"is_enabled": "on"}).status_code == 403


# --- notify addresses -------------------------------------------------------------------------------------


def test_wechat_notify_answers_xml_and_a_repeat_changes_nothing(alpha, alpha_client, fake_wechat, payment_key_pairs):
    with schema_context(alpha.schema):
        connect("wechat", fake_wechat, payment_key_pairs)
        payment = gateway_charge_qr(
            provider="wechat",
            amount=5000,
            out_trade_no="bill5qr1",
            description="x",
            notify_url=NOTIFY_URL.format(provider="wechat"),
        )
    fake_wechat.pay_qr("bill5qr1")
    body = fake_wechat.notification("bill5qr1")

    with settled_signals() as signals:
        first = alpha_client.post("/payments/notify/wechat/", body, content_type="text/xml")
        second = alpha_client.post("/payments/notify/wechat/", body, content_type="text/xml")

    for response in (first, second):
        assert response.status_code == 200
        assert b"<return_code><![CDATA[SUCCESS]]></return_code>" in response.content
    assert signals.sent == [(payment.pk, PaymentStatus.SUCCEEDED)]
    with schema_context(alpha.schema):
        assert GatewayNotification.objects.count() == 1


def test_wechat_notify_refuses_a_forgery_with_fail(alpha, alpha_client, fake_wechat, payment_key_pairs):
    with schema_context(alpha.schema):
        connect("wechat", fake_wechat, payment_key_pairs)
        gateway_charge_qr(
            provider="wechat",
            amount=5000,
            out_trade_no="bill5qr1",
            description="x",
            notify_url=NOTIFY_URL.format(provider="wechat"),
        )
    fake_wechat.pay_qr("bill5qr1")

    response = alpha_client.post(
        "/payments/notify/wechat/", fake_wechat.notification("bill5qr1", api_key="1" * 32), content_type="text/xml"
    )

    assert response.status_code == 400
    assert b"<return_code><![CDATA[FAIL]]></return_code>" in response.content
    with schema_context(alpha.schema):
        assert GatewayNotification.objects.count() == 0
        assert GatewayPayment.objects.get().status == PaymentStatus.PENDING


def test_alipay_notify_answers_success_in_plain_text(alpha, alpha_client, fake_alipay, payment_key_pairs):
    with schema_context(alpha.schema):
        connect("alipay", fake_alipay, payment_key_pairs)
        gateway_charge_qr(
            provider="alipay",
            amount=5000,
            out_trade_no="bill6qr1",
            description="x",
            notify_url=NOTIFY_URL.format(provider="alipay"),
        )
    fake_alipay.pay_qr("bill6qr1")

    response = alpha_client.post(
        "/payments/notify/alipay/",
        fake_alipay.notification("bill6qr1"),
        content_type="application/x-www-form-urlencoded",
    )
    forged = alpha_client.post(
        "/payments/notify/alipay/",
        fake_alipay.notification("bill6qr1", private_pem=payment_key_pairs["apps"][1].private_pem),
        content_type="application/x-www-form-urlencoded",
    )

    assert (response.status_code, response.content) == (200, b"success")
    assert (forged.status_code, forged.content) == (400, b"fail")
    with schema_context(alpha.schema):
        assert GatewayPayment.objects.get().status == PaymentStatus.SUCCEEDED


def test_a_notification_for_alpha_posted_to_beta_is_refused(alpha, beta, beta_client, fake_wechat, payment_key_pairs):
    with schema_context(alpha.schema):
        connect("wechat", fake_wechat, payment_key_pairs)
        gateway_charge_qr(
            provider="wechat",
            amount=5000,
            out_trade_no="bill5qr1",
            description="x",
            notify_url=NOTIFY_URL.format(provider="wechat"),
        )
    fake_wechat.pay_qr("bill5qr1")

    response = beta_client.post(
        "/payments/notify/wechat/", fake_wechat.notification("bill5qr1"), content_type="text/xml"
    )

    assert b"FAIL" in response.content
    with schema_context(alpha.schema):
        assert GatewayPayment.objects.get().status == PaymentStatus.PENDING
    with schema_context(beta.schema):
        assert GatewayNotification.objects.count() == 0


def test_notify_takes_only_post(alpha_client):
    assert alpha_client.get("/payments/notify/wechat/").status_code == 405


def test_the_settings_page_lists_recent_payments(owner_page, some_payments, django_assert_max_num_queries):
    with django_assert_max_num_queries(15):
        page = owner_page.get("/settings/payments/")

    text = page.content.decode()
    assert page.status_code == 200
    for number in ("bill1pay1", "bill2pay1", "bill3pay1"):
        assert number in text
    assert "AUTHCODEEXPIRE" in text
    assert "3.00" in text


def test_a_suspended_salon_still_records_a_payment_notification(alpha, alpha_client, fake_alipay, payment_key_pairs):
    from tenants.middleware import tenant_cache_clear
    from tenants.models import Salon, SalonStatus

    with schema_context(alpha.schema):
        connect("alipay", fake_alipay, payment_key_pairs)
        gateway_charge_qr(
            provider="alipay",
            amount=5000,
            out_trade_no="bill7qr1",
            description="x",
            notify_url=NOTIFY_URL.format(provider="alipay"),
        )
    fake_alipay.pay_qr("bill7qr1")
    Salon.objects.filter(pk=alpha.salon.pk).update(status=SalonStatus.SUSPENDED)  # rolled back after the test
    tenant_cache_clear()

    response = alpha_client.post(
        "/payments/notify/alipay/",
        fake_alipay.notification("bill7qr1"),
        content_type="application/x-www-form-urlencoded",
    )

    assert (response.status_code, response.content) == (200, b"success")
    assert alpha_client.get("/settings/payments/").status_code in {302, 403}
    with schema_context(alpha.schema):
        assert GatewayPayment.objects.get().status == PaymentStatus.SUCCEEDED
