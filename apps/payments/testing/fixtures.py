"""pytest fixtures of the fake providers (registered in the root conftest's ``pytest_plugins``, so the
till's tests use them too).

``fake_wechat`` / ``fake_alipay`` start a fake on 127.0.0.1 for the test and point the settings at it, with
short client timeouts (the timeout scenario answers later than them). The fake WeChat Pay serves HTTPS
with a certificate of a test CA that ``WECHATPAY_CA_BUNDLE`` names, and its ``secapi/*`` calls need the
merchant's API certificate issued by its test "Tenpay" CA (``payment_key_pairs["wechat_certificate"]``;
``["wechat_foreign_certificate"]`` is a valid pair it did not issue). ``wechat_credentials(fake)`` and
``alipay_credentials(fake)`` register a merchant with the fake and return what a salon owner would enter
(pass it to ``merchant_account_update(credentials=…, is_enabled=True)``)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest

from apps.payments.testing.fake_alipay import FakeAlipay, KeyPair, key_pair
from apps.payments.testing.fake_wechat import FakeWeChatPay, api_certificate, api_key
from apps.payments.testing.tls import WeChatPayTLS, merchant_certificate

# Short enough that the suite stays quick, long enough for a loaded 2-core machine to answer in time.
CLIENT_TIMEOUT_SECONDS = 1.5
LATE_ANSWER_SECONDS = 2.5
_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def wechat_tls(tmp_path_factory: pytest.TempPathFactory) -> WeChatPayTLS:
    """The fake WeChat Pay's CAs and server certificate, one set per test session."""
    return WeChatPayTLS.create(tmp_path_factory.mktemp("wechatpay-tls"))


@pytest.fixture(scope="session")
def payment_key_pairs(wechat_tls: WeChatPayTLS) -> dict[str, Any]:
    """RSA keys are slow to make: one set per test session (the fake's Alipay keys, two apps' keys, a
    WeChat API certificate issued by the fake's CA and one it did not issue)."""
    return {
        "alipay": key_pair(),
        "apps": [key_pair(), key_pair()],
        "wechat_certificate": merchant_certificate(wechat_tls.merchant_ca),
        "wechat_foreign_certificate": api_certificate(),
    }


@pytest.fixture
def fake_wechat(settings: Any, wechat_tls: WeChatPayTLS) -> Iterator[FakeWeChatPay]:
    fake = FakeWeChatPay(tls=wechat_tls).start()
    settings.WECHATPAY_API_BASE = fake.base_url
    settings.WECHATPAY_CA_BUNDLE = str(wechat_tls.server_ca_file)
    settings.WECHATPAY_TIMEOUT_SECONDS = CLIENT_TIMEOUT_SECONDS
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def fake_alipay(settings: Any, payment_key_pairs: dict[str, Any]) -> Iterator[FakeAlipay]:
    fake = FakeAlipay(payment_key_pairs["alipay"]).start()
    settings.ALIPAY_GATEWAY_URL = fake.gateway_url
    settings.ALIPAY_TIMEOUT_SECONDS = CLIENT_TIMEOUT_SECONDS
    try:
        yield fake
    finally:
        fake.stop()


def wechat_credentials(fake: FakeWeChatPay, *, certificate: tuple[str, str] | None = None) -> dict[str, str]:
    """A new merchant at the fake WeChat Pay and the credentials its owner enters."""
    number = next(_numbers)
    values = {"app_id": f"wx{number:016x}", "mch_id": f"{1900000000 + number}", "api_key": api_key()}
    fake.add_merchant(**values)
    if certificate is not None:
        values["cert_pem"], values["cert_key_pem"] = certificate
    return values


def alipay_credentials(fake: FakeAlipay, app_keys: KeyPair) -> dict[str, str]:
    """A new app at the fake Alipay (with ``app_keys``) and the credentials its owner enters."""
    app_id = f"{2021000000000000 + next(_numbers)}"
    fake.add_app(app_id=app_id, app_public_key=app_keys.public_pem)
    return {"app_id": app_id, "app_private_key": app_keys.private_pem, "alipay_public_key": fake.alipay_public_key}


def connect(provider: str, fake: Any, keys: dict[str, Any], *, app: int = 0) -> dict[str, str]:
    """Set up the current salon's account with ``provider`` at its fake, switched on; the credentials
    entered come back."""
    from apps.payments.services import merchant_account_update

    if provider == "wechat":
        assert isinstance(fake, FakeWeChatPay)
        values = wechat_credentials(fake, certificate=keys["wechat_certificate"])
    else:
        assert isinstance(fake, FakeAlipay)
        values = alipay_credentials(fake, keys["apps"][app])
    merchant_account_update(provider=provider, acting_user=None, credentials=values, is_enabled=True)
    return values


@pytest.fixture(params=["wechat", "alipay"])
def provider(
    request: pytest.FixtureRequest,
    in_alpha: Any,
    fake_wechat: FakeWeChatPay,
    fake_alipay: FakeAlipay,
    payment_key_pairs: dict[str, Any],
) -> str:
    """Each test twice: against the fake WeChat Pay, then the fake Alipay, with salon alpha's account
    connected to it (``fake`` is that fake)."""
    fake = fake_wechat if request.param == "wechat" else fake_alipay
    connect(request.param, fake, payment_key_pairs)
    request.node.fake = fake  # type: ignore[attr-defined]
    return str(request.param)


@pytest.fixture
def fake(request: pytest.FixtureRequest, provider: str) -> Any:
    """The fake provider of ``provider``."""
    return request.node.fake  # type: ignore[attr-defined]
