"""The till's receivers of other apps' signals.

``gateway_payment_settled`` (apps.payments): a WeChat Pay or Alipay payment of a till tender changed to
succeeded, failed or cancelled. Sent inside payments' transaction with its row locked; the tender is
settled or failed in the same transaction through the till's services (bill, then tender locked), so the
bill and the gateway payment change together. A duplicated notice changes nothing (both services are
idempotent). A payment that succeeds after its tender failed (paid after a cancellation) or after the bill
closed (paid another way meanwhile) fails its tender and is given back to the client in full after the
commit (``stray_payment_give_back``); raising here would undo payments' record of money that moved.

``gateway_refund_settled`` (apps.payments): the gateway refund of a refund part (found by its
``out_refund_no``) ended, however that became known (the gateway's answer, a refund query, its refund
notification). The part, still pending, says so in the same transaction: refunded, or failed with the
gateway's reason (the money stays with the salon: a person gives it back another way).
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from django.db import transaction
from django.dispatch import receiver
from django.utils.translation import gettext

from apps.core.errors import ServiceError
from apps.payments.models import GatewayPayment, GatewayRefund, PaymentStatus
from apps.payments.models import RefundStatus as GatewayRefundStatus
from apps.payments.signals import gateway_payment_settled, gateway_refund_settled
from apps.pos.models import RefundStatus, RefundTender, Tender
from apps.pos.services.checkout import bill_tender_fail, bill_tender_settle
from apps.pos.services.gateway_tenders import stray_payment_give_back

logger = logging.getLogger(__name__)


@receiver(gateway_payment_settled, dispatch_uid="pos.gateway_payment_settled")
def tender_on_gateway_payment(sender: Any, payment: GatewayPayment, **kwargs: Any) -> None:
    tender = Tender.objects.filter(out_trade_no=payment.out_trade_no).first()
    if tender is None:
        return
    if payment.status == PaymentStatus.SUCCEEDED:
        try:
            bill_tender_settle(tender=tender, provider_transaction_id=payment.provider_transaction_id or "")
        except ServiceError as exc:
            # Money moved for a tender the bill no longer counts (it failed or was cancelled, or the bill
            # was paid another way meanwhile): the tender fails and the money goes back to the client.
            logger.warning(
                "gateway payment %s succeeded but tender %s could not be settled (%s): giving it back",
                payment.out_trade_no,
                tender.pk,
                exc.code,
            )
            bill_tender_fail(
                tender=tender,
                failure_code="paid_not_counted",
                failure_message=gettext("Paid after the bill stopped waiting for it: given back to the client."),
            )
            transaction.on_commit(partial(stray_payment_give_back, payment_pk=payment.pk))
    elif payment.status in (PaymentStatus.FAILED, PaymentStatus.CANCELLED):
        bill_tender_fail(tender=tender, failure_code=payment.error_code, failure_message=payment.error_message)


@receiver(gateway_refund_settled, dispatch_uid="pos.gateway_refund_settled")
def refund_part_on_gateway_refund(sender: Any, refund: GatewayRefund, **kwargs: Any) -> None:
    if refund.status == GatewayRefundStatus.SUCCEEDED:
        status, message = RefundStatus.SUCCEEDED, ""
    elif refund.status == GatewayRefundStatus.FAILED:
        status, message = RefundStatus.FAILED, refund.error_message or refund.error_code
    else:
        return
    RefundTender.objects.filter(out_refund_no=refund.out_refund_no, status=RefundStatus.PENDING).update(
        status=status, failure_message=message[:255]
    )
