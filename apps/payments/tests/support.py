"""Helpers of the payment tests: a salon's accounts connected to the fakes, payment codes, and a record of
the ``gateway_payment_settled`` signals sent."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from apps.payments.models import GatewayPayment, MerchantAccount
from apps.payments.signals import gateway_payment_settled
from apps.payments.testing.fixtures import connect as connect  # where the tests import it from

# 付款码 as a scanner reads them off a phone.
WECHAT_CODE = "134567890123456789"
ALIPAY_CODE = "286123456789012345"
CODES = {"wechat": WECHAT_CODE, "alipay": ALIPAY_CODE}
NOTIFY_URL = "http://alpha.localhost/payments/notify/{provider}/"


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
