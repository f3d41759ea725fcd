"""Reconciliation: no payment or refund is left with an unknown outcome."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.utils import timezone

from apps.core.errors import ServiceError
from apps.payments.models import GatewayPayment, GatewayRefund, PaymentStatus, RefundStatus
from apps.payments.services._common import logger
from apps.payments.services.charges import gateway_payment_cancel, gateway_payment_query
from apps.payments.services.refunds import refund_send

# Older than this, a payment still pending is left for a person (a provider that has not answered for two
# days will not start now); it stays listed as pending on the payments page.
GIVE_UP_AFTER = datetime.timedelta(days=2)
# A WeChat Pay refund to a bank card can stay under way for several working days (a long weekend
# included), so pending refunds are asked about for longer; a notification may settle them before.
REFUNDS_GIVE_UP_AFTER = datetime.timedelta(days=10)
BATCH = 200


def gateway_payments_reconcile(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """Settle what is still open in this salon. Rule: every payment pending for more than
    PAYMENTS_RECONCILE_AFTER_SECONDS is asked about; one still unpaid PAYMENTS_EXPIRE_MINUTES after it
    started is cancelled at the provider (a code payment is reversed, so money taken after all goes back);
    every refund still pending is carried forward (``refund_send``: a WeChat Pay refund is asked about with
    a refund query, and sent again under its own number only if WeChat Pay has none; an Alipay refund is
    sent again under its own number). Safe to run twice at once: each change goes through the row-locked
    settle of the payment or refund."""
    now = now or timezone.now()
    asked_before = now - datetime.timedelta(seconds=settings.PAYMENTS_RECONCILE_AFTER_SECONDS)
    expired_before = now - datetime.timedelta(minutes=settings.PAYMENTS_EXPIRE_MINUTES)
    counts = {"asked": 0, "settled": 0, "cancelled": 0, "refunds": 0, "errors": 0}
    pending = GatewayPayment.objects.filter(
        status=PaymentStatus.PENDING, created_at__lt=asked_before, created_at__gte=now - GIVE_UP_AFTER
    ).order_by("created_at", "pk")[:BATCH]
    for payment in pending:
        try:
            counts["asked"] += 1
            payment = gateway_payment_query(payment=payment)
            if payment.status == PaymentStatus.PENDING and payment.created_at < expired_before:
                payment = gateway_payment_cancel(payment=payment)
                counts["cancelled"] += payment.status == PaymentStatus.CANCELLED
            if payment.status != PaymentStatus.PENDING:
                counts["settled"] += 1
        except ServiceError as error:
            counts["errors"] += 1
            logger.warning("reconciling payment %s: %s", payment.out_trade_no, error.message)
    refunds = (
        GatewayRefund.objects.filter(
            status=RefundStatus.PENDING, created_at__lt=asked_before, created_at__gte=now - REFUNDS_GIVE_UP_AFTER
        )
        .select_related("payment")
        .order_by("created_at", "pk")[:BATCH]
    )
    for refund in refunds:
        try:
            counts["refunds"] += refund_send(refund=refund).status != RefundStatus.PENDING
        except ServiceError as error:
            counts["errors"] += 1
            logger.warning("reconciling refund %s: %s", refund.out_refund_no, error.message)
    return counts
