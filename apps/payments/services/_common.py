"""What the payment services share: input checks, the merchant account, and the one place a payment's
status changes (:func:`payment_settle`), which also sends ``gateway_payment_settled``."""

from __future__ import annotations

import datetime
import logging
import re

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from apps.core.money import MAX_AMOUNT
from apps.payments.errors import PaymentsError, payments_error
from apps.payments.gateways import GatewayAnswer, Outcome
from apps.payments.models import GatewayPayment, MerchantAccount, PaymentStatus, Provider
from apps.payments.signals import gateway_payment_settled

logger = logging.getLogger("salon.payments")

# Merchant numbers for payments and refunds: WeChat Pay allows 32 characters, Alipay 64; both take these.
NUMBER_RE = re.compile(r"^[A-Za-z0-9_-]{6,32}$")


def check_provider(provider: str) -> None:
    if provider not in Provider.values:
        raise payments_error(PaymentsError.INVALID_PROVIDER)


def check_amount(amount: object) -> int:
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0 or amount > MAX_AMOUNT:
        raise payments_error(PaymentsError.INVALID_AMOUNT)
    return amount


def check_number(value: str, code: PaymentsError) -> str:
    if not isinstance(value, str) or not NUMBER_RE.match(value):
        raise payments_error(code)
    return value


def check_text(value: str, *, field: str, max_length: int, required: bool = False, max_bytes: int = 0) -> str:
    value = (value or "").strip()
    if required and not value:
        raise payments_error(PaymentsError.DESCRIPTION_REQUIRED, field=field)
    if len(value) > max_length or (max_bytes and len(value.encode()) > max_bytes):
        raise payments_error(PaymentsError.TEXT_TOO_LONG, field=field)
    return value


def merchant_values(provider: str, *, enabled_only: bool = True) -> dict[str, str]:
    """The salon's credentials for ``provider``. New payments need the account switched on; queries,
    cancellations, refunds and notifications of existing payments need only the credentials."""
    account = MerchantAccount.objects.filter(provider=provider).first()
    if account is None or not account.is_complete or (enabled_only and not account.is_enabled):
        raise payments_error(PaymentsError.ACCOUNT_NOT_READY)
    return account.values


def count_call(payment: GatewayPayment, *, queried: bool = False) -> None:
    """One more call to the provider about this payment (a plain counter; no lock needed)."""
    now = timezone.now()
    changes: dict[str, object] = {"attempts": F("attempts") + 1, "updated_at": now}
    if queried:
        changes["last_queried_at"] = now
    GatewayPayment.objects.filter(pk=payment.pk).update(**changes)


def payment_settle(
    *,
    payment: GatewayPayment,
    status: str,
    transaction_id: str = "",
    paid_at: datetime.datetime | None = None,
    error_code: str = "",
    error_message: str = "",
) -> GatewayPayment:
    """Move a payment to a final status, once. The row is locked and its current status compared, so two
    answers arriving together (a notification and a query) change it once and send
    ``gateway_payment_settled`` once, inside this transaction. A payment that succeeded stays so; a failed
    or cancelled one becomes succeeded only if the provider later says it was paid after all (the money
    moved, so that is the truth to record)."""
    with transaction.atomic():
        locked = GatewayPayment.objects.select_for_update().get(pk=payment.pk)
        old = locked.status
        if old == status or old == PaymentStatus.SUCCEEDED:
            return locked
        if status != PaymentStatus.SUCCEEDED and old != PaymentStatus.PENDING:
            return locked
        if old != PaymentStatus.PENDING:
            logger.warning("gateway payment %s was %s and is now reported paid", locked.out_trade_no, old)
        now = timezone.now()
        locked.status = status
        locked.settled_at = now
        fields = ["status", "settled_at", "updated_at"]
        if status == PaymentStatus.SUCCEEDED:
            locked.provider_transaction_id = transaction_id
            locked.paid_at = paid_at or now
            locked.error_code = locked.error_message = ""
            fields += ["provider_transaction_id", "paid_at", "error_code", "error_message"]
        elif error_code or error_message:
            locked.error_code, locked.error_message = error_code[:64], error_message[:255]
            fields += ["error_code", "error_message"]
        locked.save(update_fields=fields)
        gateway_payment_settled.send(sender=GatewayPayment, payment=locked)
        return locked


def note_error(payment: GatewayPayment, *, code: str, message: str) -> None:
    """Keep the provider's last word on a payment that stays pending (shown to staff)."""
    GatewayPayment.objects.filter(pk=payment.pk, status=PaymentStatus.PENDING).update(
        error_code=code[:64], error_message=message[:255], updated_at=timezone.now()
    )


def answer_apply(payment: GatewayPayment, answer: GatewayAnswer) -> GatewayPayment:
    """Settle ``payment`` by a provider's answer about it; an answer that leaves it open changes only the
    provider's last word. A paid answer whose amount differs from ours is not trusted (logged, kept pending)."""
    if answer.outcome == Outcome.PAID:
        if answer.amount is not None and answer.amount != payment.amount:
            logger.error(
                "gateway payment %s: provider reports %s fen, expected %s",
                payment.out_trade_no,
                answer.amount,
                payment.amount,
                extra={"payment": payment.pk},
            )
            note_error(payment, code=PaymentsError.AMOUNT_MISMATCH.value, message=f"{answer.amount}")
        elif answer.transaction_id:
            return payment_settle(
                payment=payment,
                status=PaymentStatus.SUCCEEDED,
                transaction_id=answer.transaction_id,
                paid_at=answer.paid_at,
            )
    elif answer.outcome == Outcome.FAILED:
        return payment_settle(
            payment=payment,
            status=PaymentStatus.FAILED,
            error_code=answer.error_code,
            error_message=answer.error_message,
        )
    elif answer.outcome == Outcome.CLOSED:
        return payment_settle(
            payment=payment,
            status=PaymentStatus.CANCELLED,
            error_code=answer.error_code,
            error_message=answer.error_message,
        )
    elif answer.error_code or answer.error_message:
        note_error(payment, code=answer.error_code, message=answer.error_message)
    return GatewayPayment.objects.get(pk=payment.pk)
