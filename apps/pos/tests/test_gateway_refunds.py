"""WeChat Pay refund parts of the till's refunds after they were sent, against the fake WeChat Pay (HTTPS,
refunds over mutual TLS): a part under way is settled by the periodic sync's refund query, one WeChat Pay
gives up on fails with our words (the payment's refundable amount restored), the refund notification
settles the part at once, and a refund with a certificate WeChat Pay did not issue fails cleanly through
the orders API."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client as HttpClient
from django.utils import translation
from django_tenants.utils import schema_context

from apps.payments.errors import MESSAGES, PaymentsError
from apps.payments.models import GatewayPayment, GatewayRefund
from apps.payments.services import merchant_account_update
from apps.payments.testing.server import PROCESSING, Scenario
from apps.pos.models import Bill, RefundTender, Tender
from apps.pos.services.gateway_tenders import gateway_refunds_sync
from apps.pos.services.refunds import bill_refund
from apps.pos.tests.bills_support import till_make
from apps.pos.tests.gateway_support import connect, facial_bill, gateway, gateway_pay, takes_gateways
from tests.fixtures import api_token

TOTAL = 26820  # the facial, gold price
REFUND_NOTIFY_PATH = "/payments/notify/wechat/refund/"


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


@pytest.fixture
def till(in_alpha, fake_wechat, payment_key_pairs):
    connect("wechat", fake_wechat, payment_key_pairs)
    till = till_make()
    takes_gateways(till)
    return till


def _paid_bill(till) -> tuple[Bill, str]:
    bill = facial_bill(till)
    result = gateway_pay(bill, gateway("wechat", TOTAL), by=till.desk)
    assert result.status == "succeeded"
    return bill, str(result.tender.out_trade_no)


def _refund_under_way(till, fake, bill, capture, scenario: Scenario) -> RefundTender:
    """¥50 refunded; its WeChat Pay part meets ``scenario`` (set once its refund number is known, before the
    part is sent after the commit)."""
    with capture(execute=False) as callbacks:
        refund = bill_refund(bill=bill, reason="burn", idempotency_key="r-1", acting_user=till.manager, amount=5000)
    part = RefundTender.objects.get(refund=refund)
    fake.scenario(part.out_refund_no, scenario)
    for callback in callbacks:
        callback()
    part.refresh_from_db()
    return part


def test_a_part_under_way_stays_pending_and_the_sync_settles_it_by_a_refund_query(
    till, fake_wechat, django_capture_on_commit_callbacks
):
    # given a refund whose WeChat Pay part is accepted and still PROCESSING when asked right after
    bill, number = _paid_bill(till)
    part = _refund_under_way(
        till, fake_wechat, bill, django_capture_on_commit_callbacks, Scenario(kind=PROCESSING, pending_queries=1)
    )
    assert part.status == "pending"
    assert fake_wechat.ledger.given_back(number) == 0

    # when the periodic sync runs
    assert gateway_refunds_sync(older_than_seconds=-60) == 1

    # then the refund query found it refunded; the part says so; it was applied for once
    part.refresh_from_db()
    assert (part.status, part.failure_message) == ("succeeded", "")
    assert fake_wechat.ledger.given_back(number) == 5000
    assert fake_wechat.ledger.calls.count("secapi/pay/refund") == 1
    assert GatewayPayment.objects.get(out_trade_no=number).refunded_amount == 5000
    assert gateway_refunds_sync(older_than_seconds=-60) == 0


@pytest.mark.parametrize("ends", ["CHANGE", "REFUNDCLOSE"])
def test_a_part_wechat_pay_gives_up_on_fails_and_the_payment_can_be_refunded_again(
    till, fake_wechat, django_capture_on_commit_callbacks, ends
):
    bill, number = _paid_bill(till)
    part = _refund_under_way(
        till,
        fake_wechat,
        bill,
        django_capture_on_commit_callbacks,
        Scenario(kind=PROCESSING, pending_queries=1, refund_status=ends),
    )

    gateway_refunds_sync(older_than_seconds=-60)

    # then the part failed with words staff understand; nothing went back; the gateway payment's refundable
    # amount is whole again (the refund stays counted on the bill: a person gives the money back another way)
    part.refresh_from_db()
    assert part.status == "failed"
    assert "nothing was refunded" in part.failure_message
    assert fake_wechat.ledger.given_back(number) == 0
    payment = GatewayPayment.objects.get(out_trade_no=number)
    assert (payment.refunded_amount, payment.refundable_amount) == (0, TOTAL)
    assert GatewayRefund.objects.get(out_refund_no=part.out_refund_no).status == "failed"
    bill.refresh_from_db()
    assert bill.refunded_total == 5000
    assert Tender.objects.get(bill=bill).refunded_amount == 5000


def test_the_refund_notification_settles_the_part_at_once(
    till, fake_wechat, alpha, alpha_client, django_capture_on_commit_callbacks
):
    # given a part under way (WeChat Pay will not say more to a query soon)
    bill, number = _paid_bill(till)
    part = _refund_under_way(
        till, fake_wechat, bill, django_capture_on_commit_callbacks, Scenario(kind=PROCESSING, pending_queries=100)
    )
    assert part.status == "pending"

    # when WeChat Pay finishes it and notifies the salon's refund notify address
    fake_wechat.finish_refund(str(part.out_refund_no))
    response = alpha_client.post(
        REFUND_NOTIFY_PATH, fake_wechat.refund_notification(str(part.out_refund_no)), content_type="text/xml"
    )

    # then the part is refunded without waiting for the sync
    assert response.status_code == 200
    assert b"SUCCESS" in response.content
    with schema_context(alpha.schema):
        part.refresh_from_db()
        assert part.status == "succeeded"
        assert GatewayPayment.objects.get(out_trade_no=number).refunded_amount == 5000
    assert fake_wechat.ledger.given_back(number) == 5000


def test_a_refund_with_a_certificate_wechat_pay_did_not_issue_fails_cleanly_through_the_api(
    till, fake_wechat, alpha, payment_key_pairs, django_capture_on_commit_callbacks
):
    # given a bill paid by WeChat Pay, then an owner entering a certificate WeChat Pay did not issue
    bill, number = _paid_bill(till)
    cert, key = payment_key_pairs["wechat_foreign_certificate"]
    merchant_account_update(provider="wechat", acting_user=None, credentials={"cert_pem": cert, "cert_key_pem": key})
    manager = HttpClient(
        HTTP_HOST=alpha.host,
        HTTP_AUTHORIZATION=f"Bearer {api_token(alpha, till.manager.username)}",
        HTTP_ACCEPT_LANGUAGE="en",
    )

    # when a manager refunds ¥50 through the API (the part is sent after the commit, in the salon's schema)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = manager.post(
            f"/api/v1/orders/{bill.pk}/refund/",
            {"amount": 5000, "reason": "unhappy"},
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY="refund-1",
        )
    with schema_context(alpha.schema):
        for callback in callbacks:
            callback()

    # then the refund is recorded, its WeChat Pay part failed with the clear message, nothing moved
    assert response.status_code == 201, response.content
    with schema_context(alpha.schema):
        part = RefundTender.objects.get(refund_id=response.json()["id"])
        assert part.status == "failed"
        assert part.failure_message.startswith(str(MESSAGES[PaymentsError.CERTIFICATE_REJECTED]))
        payment: Any = GatewayPayment.objects.get(out_trade_no=number)
        assert payment.refunded_amount == 0
    assert fake_wechat.certificate_refusals(1) == ["secapi/pay/refund"]
    assert fake_wechat.ledger.given_back(number) == 0
