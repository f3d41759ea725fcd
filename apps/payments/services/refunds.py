"""Refunds to the client's WeChat Pay or Alipay balance (POS-4 calls this through the till).

A refund is written ``pending`` with its amount reserved on the payment, committed, then sent. It ends
``succeeded`` (the money went back to the client) or ``failed`` (nothing went back: the reservation is
released); until the provider says which, it stays pending. Alipay answers a refund done or refused.
WeChat Pay accepts a refund and then carries it out (at once for a balance, days for a bank card): it is
asked about (refund query) right after it was accepted, again by the reconciliation while it is under way,
and its refund notification settles it too. Every change of a refund's status goes through
:func:`refund_settle`."""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from apps.core.errors import ServiceError
from apps.payments.errors import PaymentsError, payments_error
from apps.payments.gateways import GatewayAnswer, Outcome, module_for
from apps.payments.models import GatewayPayment, GatewayRefund, PaymentStatus, RefundStatus
from apps.payments.selectors import refund_notify_url
from apps.payments.services._common import check_amount, check_number, check_text, logger, merchant_values
from apps.payments.signals import gateway_refund_settled

# Refused before or at the sending, so the provider did nothing: the refund fails (nothing went back).
_REFUSED_BEFORE_SENDING = frozenset({PaymentsError.CERTIFICATE_REQUIRED, PaymentsError.CERTIFICATE_REJECTED})


def gateway_refund(*, payment: GatewayPayment, amount: int, out_refund_no: str, reason: str = "") -> GatewayRefund:
    """Refund ``amount`` fen of a payment that went through. Rule: never more than is left to refund — the
    payment row is locked and the amount reserved (``refunded_amount``) before the provider is asked, and a
    CHECK keeps it within the payment; the same ``out_refund_no`` again returns that refund (a pending one
    is asked about, and sent again if the provider has none: both providers accept a repeat of the same
    refund number once). A merchant account that cannot refund (WeChat Pay without its API certificate) is
    refused before anything is written; a refusal by the provider gives the reserved amount back; no answer,
    or a refund still under way, leaves it pending."""
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
            module_for(locked.provider).refund_ready(merchant_values(locked.provider, enabled_only=False))
            GatewayPayment.objects.filter(pk=locked.pk).update(
                refunded_amount=F("refunded_amount") + amount, updated_at=timezone.now()
            )
            refund = GatewayRefund.objects.create(
                payment=locked, out_refund_no=out_refund_no, amount=amount, reason=reason
            )
    return refund_send(refund=refund)


def _ask(refund: GatewayRefund, call: Callable[[], GatewayAnswer]) -> GatewayAnswer | None:
    """One call to the provider about ``refund``: its answer; None when there was none (the reason is kept
    on the refund). A certificate missing or refused means the provider did nothing: a FAILED answer."""
    GatewayRefund.objects.filter(pk=refund.pk).update(attempts=F("attempts") + 1, updated_at=timezone.now())
    try:
        return call()
    except ServiceError as error:
        if error.code in _REFUSED_BEFORE_SENDING:
            return GatewayAnswer(Outcome.FAILED, error_code=error.code.value, error_message=error.message)
        if error.code != PaymentsError.GATEWAY_UNAVAILABLE:
            raise
        GatewayRefund.objects.filter(pk=refund.pk, status=RefundStatus.PENDING).update(
            error_code=error.code.value, error_message=error.message[:255]
        )
        return None


def refund_send(*, refund: GatewayRefund) -> GatewayRefund:
    """Carry a pending refund forward and record what the provider says (also run by the reconciliation
    and the till's sync for refunds still pending). A refund sent before — its answer lost, or under way at
    WeChat Pay — is asked about first and sent again only if the provider has no such refund; one the
    provider accepted is asked about at once (a refund to a balance is usually done by then)."""
    refund = GatewayRefund.objects.select_related("payment").get(pk=refund.pk)
    if refund.status != RefundStatus.PENDING:
        return refund
    payment = refund.payment
    values = merchant_values(payment.provider, enabled_only=False)
    gateway = module_for(payment.provider)
    refund_query = getattr(gateway, "refund_query", None)

    def ask_state() -> GatewayAnswer | None:
        assert refund_query is not None
        return _ask(
            refund,
            lambda: refund_query(values, out_trade_no=payment.out_trade_no, out_refund_no=refund.out_refund_no),
        )

    if refund_query is not None and refund.attempts:
        state = ask_state()
        if state is None or state.outcome != Outcome.NOT_FOUND:
            return refund_settle(refund=refund, answer=state)
    answer = _ask(
        refund,
        lambda: gateway.refund(
            values,
            out_trade_no=payment.out_trade_no,
            total=payment.amount,
            amount=refund.amount,
            out_refund_no=refund.out_refund_no,
            reason=refund.reason,
            notify_url=refund_notify_url(payment.provider),
        ),
    )
    if answer is not None and answer.outcome == Outcome.ACCEPTED and refund_query is not None:
        settle_state = ask_state()
        if settle_state is not None and settle_state.outcome not in (Outcome.NOT_FOUND, Outcome.UNKNOWN):
            answer = settle_state
        else:  # accepted, state not known yet: under way
            answer = GatewayAnswer(Outcome.PROCESSING, refund_id=answer.refund_id)
    return refund_settle(refund=refund, answer=answer)


def refund_settle(*, refund: GatewayRefund, answer: GatewayAnswer | None) -> GatewayRefund:
    """Record a provider's word on a refund. Rule: only a pending refund changes, once — the payment row
    and then the refund row are locked (the order ``gateway_refund`` locks in) and the status compared, so
    an answer, a query and a notification arriving together change it once and send
    ``gateway_refund_settled`` once, inside this transaction. REFUNDED succeeds it; FAILED fails it and
    gives the reserved amount back to the payment; anything else (under way, no word) keeps it pending
    with the refund id and the provider's last word. An amount that differs from ours is not trusted."""
    with transaction.atomic():
        GatewayPayment.objects.select_for_update().filter(pk=refund.payment_id).values_list("pk").first()
        locked = GatewayRefund.objects.select_for_update().get(pk=refund.pk)
        if answer is None:
            return locked
        if locked.status != RefundStatus.PENDING:
            if locked.status == RefundStatus.FAILED and answer.outcome == Outcome.REFUNDED:
                # Recorded as failed (and possibly given back another way), now reported refunded: money
                # may have gone back twice. Left for a person; the record is not rewritten.
                logger.error(
                    "gateway refund %s was recorded failed, the provider now reports it refunded: check it",
                    locked.out_refund_no,
                    extra={"refund": locked.pk},
                )
            return locked
        if answer.amount is not None and answer.amount != locked.amount:
            logger.error(
                "gateway refund %s: provider reports %s fen, expected %s",
                locked.out_refund_no,
                answer.amount,
                locked.amount,
                extra={"refund": locked.pk},
            )
            locked.error_code, locked.error_message = PaymentsError.AMOUNT_MISMATCH.value, f"{answer.amount}"
            locked.save(update_fields=["error_code", "error_message", "updated_at"])
            return locked
        if answer.refund_id:
            locked.provider_refund_id = answer.refund_id[:64]
        if answer.outcome == Outcome.REFUNDED:
            locked.status = RefundStatus.SUCCEEDED
            locked.refunded_at = answer.refunded_at or timezone.now()
            locked.error_code = locked.error_message = ""
        elif answer.outcome == Outcome.FAILED:
            locked.status = RefundStatus.FAILED
            locked.error_code, locked.error_message = answer.error_code[:64], answer.error_message[:255]
            GatewayPayment.objects.filter(pk=locked.payment_id).update(
                refunded_amount=F("refunded_amount") - locked.amount, updated_at=timezone.now()
            )
        else:
            if answer.outcome == Outcome.PROCESSING:
                locked.error_code = locked.error_message = ""
            elif answer.error_code or answer.error_message:
                locked.error_code, locked.error_message = answer.error_code[:64], answer.error_message[:255]
            locked.save(update_fields=["provider_refund_id", "error_code", "error_message", "updated_at"])
            return locked
        locked.save()
        gateway_refund_settled.send(sender=GatewayRefund, refund=locked)
        return locked
