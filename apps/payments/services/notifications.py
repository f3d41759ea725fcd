"""Payment and refund notifications the providers send to the salon's notify addresses."""

from __future__ import annotations

from collections.abc import Mapping

from django.db import IntegrityError, transaction

from apps.payments.errors import PaymentsError, payments_error
from apps.payments.gateways import Outcome, module_for
from apps.payments.models import GatewayNotification, GatewayPayment, GatewayRefund, PaymentStatus
from apps.payments.services._common import check_provider, logger, merchant_values, payment_settle
from apps.payments.services.refunds import refund_settle


def _kept_once(provider: str, *, dedupe_key: str, out_trade_no: str, payment: GatewayPayment, body: bytes) -> bool:
    """Keep a verified notification, once per event (its ``dedupe_key``): False when it is a repeat. A
    second copy arriving at the same moment waits on the unique index until the first commits, then fails
    here: it is a duplicate and changes nothing."""
    try:
        with transaction.atomic():
            GatewayNotification.objects.create(
                provider=provider,
                dedupe_key=dedupe_key[:160],
                out_trade_no=out_trade_no[:64],
                payment=payment,
                body=body.decode("utf-8", errors="replace"),
                is_verified=True,
            )
    except IntegrityError:
        return False
    return True


def gateway_notification_handle(*, provider: str, body: bytes, headers: Mapping[str, str]) -> GatewayPayment | None:
    """Record a provider's notification and settle the payment it is about. Rule: the signature is checked
    first (WeChat Pay: the salon's API key; Alipay: RSA2 with the Alipay public key) and a bad one writes
    nothing; a notification of an unknown payment, or of a different amount, is refused and writes nothing;
    each event is kept once (unique provider transaction id + event), so a repeat — also two arriving at
    the same moment — changes nothing and settles the payment once. Returns the payment (``None`` is never
    returned for a verified notification; the type leaves room for events about no payment)."""
    check_provider(provider)
    values = merchant_values(provider, enabled_only=False)
    notice = module_for(provider).parse_notification(values, body=body, headers=headers)
    payment = GatewayPayment.objects.filter(provider=provider, out_trade_no=notice.out_trade_no).first()
    if payment is None:
        logger.warning("%s notification for unknown payment %s", provider, notice.out_trade_no)
        raise payments_error(PaymentsError.UNKNOWN_PAYMENT)
    if notice.amount is not None and notice.amount != payment.amount:
        logger.error(
            "%s notification for %s reports %s fen, expected %s",
            provider,
            payment.out_trade_no,
            notice.amount,
            payment.amount,
            extra={"payment": payment.pk},
        )
        raise payments_error(PaymentsError.AMOUNT_MISMATCH)
    with transaction.atomic():
        if not _kept_once(
            provider, dedupe_key=notice.dedupe_key, out_trade_no=notice.out_trade_no, payment=payment, body=body
        ):
            return GatewayPayment.objects.get(pk=payment.pk)
        if notice.outcome == Outcome.PAID:
            return payment_settle(
                payment=payment,
                status=PaymentStatus.SUCCEEDED,
                transaction_id=notice.transaction_id,
                paid_at=notice.paid_at,
            )
        if notice.outcome == Outcome.CLOSED:
            return payment_settle(payment=payment, status=PaymentStatus.CANCELLED, error_code="TRADE_CLOSED")
    return GatewayPayment.objects.get(pk=payment.pk)


def gateway_refund_notification_handle(*, provider: str, body: bytes, headers: Mapping[str, str]) -> GatewayRefund:
    """Record a provider's refund notification and settle the refund it is about. Rule: it must decrypt
    with the salon's API key (WeChat Pay's ``req_info``) and name the salon's app and merchant, or it writes
    nothing; it must be about a refund of ours — that refund number, of that payment (merchant number and
    transaction id), of that amount — or it is refused and writes nothing; each event is kept once (unique
    refund id + status), so a repeat, also two arriving at the same moment, changes nothing. The refund
    changes through ``refund_settle`` (once, whatever arrived first: the answer, a query, this)."""
    check_provider(provider)
    values = merchant_values(provider, enabled_only=False)
    parse = getattr(module_for(provider), "parse_refund_notification", None)
    if parse is None:  # Alipay sends no refund notifications
        raise payments_error(PaymentsError.NOTIFICATION_INVALID)
    notice = parse(values, body=body, headers=headers)
    refund = (
        GatewayRefund.objects.select_related("payment")
        .filter(out_refund_no=notice.out_refund_no, payment__provider=provider)
        .first()
    )
    payment = refund.payment if refund is not None else None
    if (
        refund is None
        or payment is None
        or payment.out_trade_no != notice.out_trade_no
        or (notice.transaction_id and notice.transaction_id != payment.provider_transaction_id)
    ):
        logger.warning("%s refund notification for unknown refund %s", provider, notice.out_refund_no)
        raise payments_error(PaymentsError.UNKNOWN_REFUND)
    if (notice.amount is not None and notice.amount != refund.amount) or (
        notice.total is not None and notice.total != payment.amount
    ):
        logger.error(
            "%s refund notification for %s reports %s of %s fen, expected %s of %s",
            provider,
            refund.out_refund_no,
            notice.amount,
            notice.total,
            refund.amount,
            payment.amount,
            extra={"refund": refund.pk},
        )
        raise payments_error(PaymentsError.AMOUNT_MISMATCH)
    with transaction.atomic():
        if not _kept_once(
            provider, dedupe_key=notice.dedupe_key, out_trade_no=notice.out_trade_no, payment=payment, body=body
        ):
            return GatewayRefund.objects.get(pk=refund.pk)
        return refund_settle(refund=refund, answer=notice.answer)
