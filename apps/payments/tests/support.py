"""Helpers of the payment tests: a salon's accounts connected to the fakes, payment codes, and a record of
the ``gateway_payment_settled`` signals sent."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from apps.payments.models import GatewayPayment, MerchantAccount
from apps.payments.services import merchant_account_update
from apps.payments.signals import gateway_payment_settled
from apps.payments.testing.fake_alipay import FakeAlipay
from apps.payments.testing.fake_wechat import FakeWeChatPay
from apps.payments.testing.fixtures import alipay_credentials, wechat_credentials

# 付款码 as a scanner reads them off a phone.
WECHAT_CODE = "134567890123456789"
ALIPAY_CODE = "286123456789012345"
CODES = {"wechat": WECHAT_CODE, "alipay": ALIPAY_CODE}
NOTIFY_URL = "http://alpha.localhost/payments/notify/{provider}/"


def connect(provider: str, fake: Any, keys: dict[str, Any], *, app: int = 0) -> dict[str, str]:
    """Set up the current salon's account with ``provider`` at its fake, switched on; the credentials
    entered come back."""
    if provider == "wechat":
        assert isinstance(fake, FakeWeChatPay)
        values = wechat_credentials(fake, certificate=keys["wechat_certificate"])
    else:
        assert isinstance(fake, FakeAlipay)
        values = alipay_credentials(fake, keys["apps"][app])
    merchant_account_update(provider=provider, acting_user=None, credentials=values, is_enabled=True)
    return values


def account_of(provider: str) -> MerchantAccount:
    return MerchantAccount.objects.get(provider=provider)


@dataclass
class SettledLog:
    """Every gateway_payment_settled received: (payment id, status), from any thread."""

    sent: list[tuple[int, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def receive(self, sender: Any, payment: GatewayPayment, **kwargs: Any) -> None:
        with self.lock:
            self.sent.append((payment.pk, payment.status))


@contextmanager
def settled_signals() -> Iterator[SettledLog]:
    log = SettledLog()
    gateway_payment_settled.connect(log.receive, dispatch_uid="payments-tests-settled")
    try:
        yield log
    finally:
        gateway_payment_settled.disconnect(dispatch_uid="payments-tests-settled")


def api_client(info: Any, username: str) -> Any:
    """The API as ``username`` of the salon ``info``, with a bearer token, asking for English messages."""
    from django.test import Client as HttpClient

    from tests.fixtures import api_token

    return HttpClient(
        HTTP_HOST=info.host, HTTP_AUTHORIZATION=f"Bearer {api_token(info, username)}", HTTP_ACCEPT_LANGUAGE="en"
    )
