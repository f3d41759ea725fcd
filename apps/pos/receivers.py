"""The till's receivers of other apps' signals.

``gateway_payment_settled`` (apps.payments): a WeChat Pay or Alipay payment of a till tender changed to
succeeded, failed or cancelled. Sent inside payments' transaction with its row locked; the tender is
settled or failed in the same transaction through the till's services (bill, then tender locked), so the
bill and the gateway payment change together. A duplicated notice changes nothing (both services are
idempotent). A payment that succeeds after its tender failed (paid after a cancellation) or after the bill
closed is recorded by payments only and logged, to be refunded by a person: raising here would undo
payments' record of money that moved.
"""

from __future__ import annotations

import logging
from typing import Any

from django.dispatch import receiver

from apps.core.errors import ServiceError
from apps.payments.models import GatewayPayment, PaymentStatus
from apps.payments.signals import gateway_payment_settled
from apps.pos.models import Tender
from apps.pos.services.checkout import bill_tender_fail, bill_tender_settle

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
            logger.warning(
                "gateway payment %s succeeded but tender %s could not be settled (%s): refund it",
                payment.out_trade_no,
                tender.pk,
                exc.code,
            )
    elif payment.status in (PaymentStatus.FAILED, PaymentStatus.CANCELLED):
        bill_tender_fail(tender=tender, failure_code=payment.error_code, failure_message=payment.error_message)
