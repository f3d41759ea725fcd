"""Refunds to the client's WeChat Pay or Alipay balance (POS-4 calls this through the till)."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from apps.core.errors import ServiceError
from apps.payments.errors import PaymentsError, payments_error
from apps.payments.gateways import GatewayAnswer, Outcome, module_for
from apps.payments.models import GatewayPayment, GatewayRefund, PaymentStatus, RefundStatus
from apps.payments.services._common import check_amount, check_number, check_text, merchant_values


def gateway_refund(*, payment: GatewayPayment, amount: int, out_refund_no: str, reason: str = "") -> GatewayRefund:
    """Refund ``amount`` fen of a payment that went through. Rule: never more than is left to refund — the
    payment row is locked and the amount reserved (``refunded_amount``) before the provider is asked, and a
    CHECK keeps it within the payment; the same ``out_refund_no`` again returns that refund (a pending one
    is sent again: both providers accept a repeat of the same refund number once). A refusal gives the
    reserved amount back; no answer leaves the refund pending."""
    check_amount(amount)
    check_number(out_refund_no, PaymentsError.INVALID_OUT_REFUND_NO)
    reason = check_text(reason, field="reason", max_length=80)
    with transaction.atomic():
        # The payment row is locked first, so a concurrent refund of the same payment waits here and then
        # sees what this one reserved (and a concurrent repeat of the same number sees its row).
        locked = GatewayPayment.objects.select_for_update().get(pk=payment.pk)
        refund = GatewayRefund.objects.filter(out_refund_no=out_refund_no).first()
        if refund is not None:
            if refund.payment_id != locked.pk or refund.amount != amount:
                raise payments_error(PaymentsError.OUT_REFUND_NO_REUSED)
            if refund.status != RefundStatus.PENDING:
                return refund
        else:
            if locked.status != PaymentStatus.SUCCEEDED:
                raise payments_error(PaymentsError.NOT_REFUNDABLE)
            if amount > locked.amount - locked.refunded_amount:
                raise payments_error(PaymentsError.REFUND_TOO_LARGE)
            GatewayPayment.objects.filter(pk=locked.pk).update(
                refunded_amount=F("refunded_amount") + amount, updated_at=timezone.now()
            )
            refund = GatewayRefund.objects.create(
                payment=locked, out_refund_no=out_refund_no, amount=amount, reason=reason
            )
    return refund_send(refund=refund)


def refund_send(*, refund: GatewayRefund) -> GatewayRefund:
    """Ask the provider to carry out a pending refund and record its answer (also run again by the
    reconciliation for refunds whose answer was lost)."""
    payment = refund.payment
    values = merchant_values(payment.provider, enabled_only=False)
    gateway = module_for(payment.provider)
    GatewayRefund.objects.filter(pk=refund.pk).update(attempts=F("attempts") + 1, updated_at=timezone.now())
    try:
        answer: GatewayAnswer | None = gateway.refund(
            values,
            out_trade_no=payment.out_trade_no,
            total=payment.amount,
            amount=refund.amount,
            out_refund_no=refund.out_refund_no,
            reason=refund.reason,
        )
    except ServiceError as error:
        if error.code != PaymentsError.GATEWAY_UNAVAILABLE:
            raise
        answer = None
        GatewayRefund.objects.filter(pk=refund.pk, status=RefundStatus.PENDING).update(
            error_code=error.code.value, error_message=error.message[:255]
        )
    with transaction.atomic():
        locked_payment = GatewayPayment.objects.select_for_update().get(pk=payment.pk)
        locked = GatewayRefund.objects.select_for_update().get(pk=refund.pk)
        if locked.status != RefundStatus.PENDING or answer is None or answer.outcome == Outcome.UNKNOWN:
            if answer is not None and locked.status == RefundStatus.PENDING:
                locked.error_code, locked.error_message = answer.error_code, answer.error_message
                locked.save(update_fields=["error_code", "error_message", "updated_at"])
            return locked
        if answer.outcome == Outcome.ACCEPTED:
            locked.status = RefundStatus.SUCCEEDED
            locked.provider_refund_id = answer.refund_id
            locked.refunded_at = timezone.now()
            locked.error_code = locked.error_message = ""
        else:
            locked.status = RefundStatus.FAILED
            locked.error_code, locked.error_message = answer.error_code, answer.error_message
            GatewayPayment.objects.filter(pk=locked_payment.pk).update(
                refunded_amount=F("refunded_amount") - locked.amount, updated_at=timezone.now()
            )
        locked.save()
        return locked
