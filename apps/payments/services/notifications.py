"""Payment notifications the providers send to the salon's notify addresses."""

from __future__ import annotations

from collections.abc import Mapping

from django.db import IntegrityError, transaction

from apps.payments.errors import PaymentsError, payments_error
from apps.payments.gateways import Outcome, module_for
from apps.payments.models import GatewayNotification, GatewayPayment, PaymentStatus
from apps.payments.services._common import check_provider, logger, merchant_values, payment_settle


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
        try:
            # A second copy of this event waits here on the unique index until the first commits, then
            # fails: it is a duplicate and changes nothing.
            with transaction.atomic():
                GatewayNotification.objects.create(
                    provider=provider,
                    dedupe_key=notice.dedupe_key[:160],
                    out_trade_no=notice.out_trade_no[:64],
                    payment=payment,
                    body=body.decode("utf-8", errors="replace"),
                    is_verified=True,
                )
        except IntegrityError:
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
