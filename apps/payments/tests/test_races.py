"""The payment gateways under real concurrency (threads, committed transactions, the real database), in a
salon made for the race and removed afterwards: duplicate notifications arriving together, a notification
racing a query, the same charge sent several times at once, refunds racing for what is left."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.servers.basehttp import WSGIServer
from django_tenants.utils import schema_context

from apps.core.errors import ServiceError
from apps.payments.errors import PaymentsError
from apps.payments.models import GatewayNotification, GatewayPayment, GatewayRefund, PaymentStatus, RefundStatus
from apps.payments.services import (
    gateway_charge_code,
    gateway_charge_qr,
    gateway_notification_handle,
    gateway_payment_query,
    gateway_refund,
)
from apps.payments.tests.support import WECHAT_CODE, connect, settled_signals
from tests.browser.support import LiveServer, QuietHandler
from tests.races import race, salon_for_races

THREADS = 8
SUBDOMAIN = "pay-race"


@pytest.fixture
def race_salon(two_salons: Any, django_db_blocker: Any) -> Iterator[str]:
    with django_db_blocker.unblock(), salon_for_races(SUBDOMAIN) as schema:
        yield schema


@pytest.fixture
def live_port(race_salon: str) -> Iterator[int]:
    """The real WSGI app on a live port, so notifications arrive over HTTP, each in its own thread."""
    from salon_platform.wsgi import application

    server: WSGIServer = LiveServer(("127.0.0.1", 0), QuietHandler, allow_reuse_address=False)
    server.set_app(application)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
        server.join_request_threads(timeout=15)


def _paid_qr(schema: str, fake: Any, keys: dict[str, Any], notify_url: str) -> GatewayPayment:
    with schema_context(schema):
        connect("wechat", fake, keys)
        payment = gateway_charge_qr(
            provider="wechat", amount=8800, out_trade_no="race0qr1", description="洗发", notify_url=notify_url
        )
    fake.pay_qr("race0qr1")
    return payment


def test_duplicate_notifications_at_once_settle_the_payment_once(race_salon, fake_wechat, payment_key_pairs):
    # given a paid QR payment
    payment = _paid_qr(race_salon, fake_wechat, payment_key_pairs, "http://pay-race.localhost/payments/notify/wechat/")
    body = fake_wechat.notification("race0qr1")

    # when the provider's notification arrives 8 times at the same moment
    with settled_signals() as signals:
        outcomes = race(
            race_salon, THREADS, lambda i: gateway_notification_handle(provider="wechat", body=body, headers={})
        )

    # then every delivery is answered with the paid payment, one event is kept, the till heard once
    assert all(isinstance(o, GatewayPayment) and o.status == PaymentStatus.SUCCEEDED for o in outcomes), outcomes
    assert signals.sent == [(payment.pk, PaymentStatus.SUCCEEDED)]
    with schema_context(race_salon):
        assert GatewayNotification.objects.count() == 1
        assert GatewayPayment.objects.get(pk=payment.pk).status == PaymentStatus.SUCCEEDED


def test_notifications_racing_queries_settle_once(race_salon, fake_wechat, payment_key_pairs):
    payment = _paid_qr(race_salon, fake_wechat, payment_key_pairs, "http://pay-race.localhost/payments/notify/wechat/")
    body = fake_wechat.notification("race0qr1")

    def work(i: int) -> GatewayPayment | None:
        if i % 2:
            return gateway_payment_query(payment=payment)
        return gateway_notification_handle(provider="wechat", body=body, headers={})

    with settled_signals() as signals:
        outcomes = race(race_salon, THREADS, work)

    assert all(isinstance(o, GatewayPayment) for o in outcomes), outcomes
    assert signals.sent == [(payment.pk, PaymentStatus.SUCCEEDED)]


def test_duplicate_notifications_over_http_at_once(race_salon, live_port, fake_wechat, payment_key_pairs):
    # given a paid QR payment whose notify address is this salon's, on the live server
    notify_url = f"http://{SUBDOMAIN}.localhost:{live_port}/payments/notify/wechat/"
    payment = _paid_qr(race_salon, fake_wechat, payment_key_pairs, notify_url)

    # when the fake WeChat Pay posts its notification 5 times at once
    with settled_signals() as signals:
        answers = fake_wechat.send_notification(
            "race0qr1", times=5, concurrently=True, resolve={f"{SUBDOMAIN}.localhost": "127.0.0.1"}
        )

    # then each delivery is told SUCCESS, and the payment settled once
    assert [status for status, _body in answers] == [200] * 5, answers
    assert all(b"SUCCESS" in body for _status, body in answers)
    assert signals.sent == [(payment.pk, PaymentStatus.SUCCEEDED)]
    with schema_context(race_salon):
        assert GatewayNotification.objects.count() == 1


def test_the_same_charge_sent_at_once_charges_once(race_salon, fake_wechat, payment_key_pairs):
    with schema_context(race_salon):
        connect("wechat", fake_wechat, payment_key_pairs)

    outcomes = race(
        race_salon,
        THREADS,
        lambda i: gateway_charge_code(
            provider="wechat", amount=12000, out_trade_no="race1pay1", auth_code=WECHAT_CODE, description="剪发"
        ),
    )

    assert all(isinstance(o, GatewayPayment) for o in outcomes), outcomes
    assert len({o.pk for o in outcomes}) == 1
    assert fake_wechat.ledger.charges("race1pay1") == 1
    assert fake_wechat.ledger.calls.count("pay/micropay") == 1
    with schema_context(race_salon):
        assert GatewayPayment.objects.get().status == PaymentStatus.SUCCEEDED


def test_refunds_racing_never_give_back_more_than_was_paid(race_salon, fake_wechat, payment_key_pairs):
    # given ¥100 paid
    with schema_context(race_salon):
        connect("wechat", fake_wechat, payment_key_pairs)
        payment = gateway_charge_code(
            provider="wechat", amount=10000, out_trade_no="race2pay1", auth_code=WECHAT_CODE, description="染发"
        )

    # when 8 refunds of ¥40 are asked for at once
    outcomes = race(
        race_salon,
        THREADS,
        lambda i: gateway_refund(payment=payment, amount=4000, out_refund_no=f"race2ref{i}"),
    )

    # then exactly two go through and the rest are refused with a clear error
    refunded = [o for o in outcomes if isinstance(o, GatewayRefund)]
    refused = [o for o in outcomes if not isinstance(o, GatewayRefund)]
    assert len(refunded) == 2, outcomes
    assert all(r.status == RefundStatus.SUCCEEDED for r in refunded)
    assert all(isinstance(o, ServiceError) and o.code == PaymentsError.REFUND_TOO_LARGE for o in refused), refused
    assert fake_wechat.ledger.given_back("race2pay1") == 8000
    with schema_context(race_salon):
        assert GatewayPayment.objects.get(pk=payment.pk).refunded_amount == 8000
        assert GatewayRefund.objects.count() == 2


def test_duplicate_refund_notifications_over_http_at_once_settle_the_refund_once(
    race_salon, live_port, fake_wechat, payment_key_pairs
):
    from apps.payments.signals import gateway_refund_settled
    from apps.payments.testing.server import PROCESSING, Scenario

    # given a refund WeChat Pay accepted and has now finished
    with schema_context(race_salon):
        connect("wechat", fake_wechat, payment_key_pairs)
        payment = gateway_charge_code(
            provider="wechat", amount=9000, out_trade_no="race3pay1", auth_code=WECHAT_CODE, description="护理"
        )
        fake_wechat.scenario("race3ref1", Scenario(kind=PROCESSING, pending_queries=100))
        refund = gateway_refund(payment=payment, amount=3000, out_refund_no="race3ref1")
        assert refund.status == RefundStatus.PENDING
    assert fake_wechat.refund("race3ref1").notify_url.startswith(f"http://{SUBDOMAIN}.localhost")
    fake_wechat.finish_refund("race3ref1")
    settled: list[str] = []
    gateway_refund_settled.connect(
        lambda sender, refund, **kw: settled.append(refund.status), dispatch_uid="race-refund-settled", weak=False
    )

    # when WeChat Pay posts the refund notification 5 times at once to the salon's refund notify address
    try:
        answers = fake_wechat.send_refund_notification(
            "race3ref1",
            times=5,
            concurrently=True,
            url=f"http://{SUBDOMAIN}.localhost:{live_port}/payments/notify/wechat/refund/",
            resolve={f"{SUBDOMAIN}.localhost": "127.0.0.1"},
        )
    finally:
        gateway_refund_settled.disconnect(dispatch_uid="race-refund-settled")

    # then each delivery is told SUCCESS, and the refund settled once
    assert [status for status, _body in answers] == [200] * 5, answers
    assert all(b"SUCCESS" in body for _status, body in answers)
    assert settled == [RefundStatus.SUCCEEDED]
    with schema_context(race_salon):
        assert GatewayRefund.objects.get(pk=refund.pk).status == RefundStatus.SUCCEEDED
        assert GatewayNotification.objects.count() == 1
        assert GatewayPayment.objects.get(pk=payment.pk).refunded_amount == 3000
