"""Charging through a provider (POS-2): the client's payment code scanned at the till, or a QR code the
client scans; asking where a payment stands; cancelling one the cashier abandons.

Every charge is first written as a pending payment and committed, THEN sent: if the answer is lost (a
timeout, a crash) the row is there for the query that settles it. Call these services outside a
transaction for that reason (the till's receiver of ``gateway_payment_settled`` runs inside ours)."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction

from apps.core.errors import ServiceError
from apps.payments.errors import PaymentsError, payments_error
from apps.payments.gateways import GatewayAnswer, Outcome, module_for
from apps.payments.models import GatewayPayment, PaymentKind, PaymentStatus
from apps.payments.services._common import (
    answer_apply,
    check_amount,
    check_number,
    check_provider,
    check_text,
    count_call,
    merchant_values,
    note_error,
    payment_settle,
)


def _payment_open(
    *, provider: str, kind: str, amount: int, out_trade_no: str, description: str, reference: str
) -> tuple[GatewayPayment, bool]:
    """The pending payment for ``out_trade_no``, created (and committed) now or found from an earlier call
    with the same details; ``True`` when it is new. The same number for a different payment is refused."""
    try:
        with transaction.atomic():
            payment = GatewayPayment.objects.create(
                provider=provider,
                kind=kind,
                amount=amount,
                out_trade_no=out_trade_no,
                description=description,
                reference=reference,
            )
        return payment, True
    except IntegrityError:
        existing = GatewayPayment.objects.filter(out_trade_no=out_trade_no).first()
        if existing is None:  # pragma: no cover - another constraint failed: a bug, not bad input
            raise
    if (existing.provider, existing.kind, existing.amount) != (provider, kind, amount):
        raise payments_error(PaymentsError.OUT_TRADE_NO_REUSED)
    return existing, False


def _replayed(out_trade_no: str, *, provider: str, kind: str, amount: int) -> GatewayPayment | None:
    existing = GatewayPayment.objects.filter(out_trade_no=out_trade_no).first()
    if existing is not None and (existing.provider, existing.kind, existing.amount) != (provider, kind, amount):
        raise payments_error(PaymentsError.OUT_TRADE_NO_REUSED)
    return existing


def _ask(payment: GatewayPayment, values: dict[str, str], call: Any, *, queried: bool = False) -> GatewayAnswer | None:
    """One call to the provider; ``None`` when it did not answer (the outcome is unknown)."""
    count_call(payment, queried=queried)
    try:
        return call()
    except ServiceError as error:
        if error.code != PaymentsError.GATEWAY_UNAVAILABLE:
            raise
        note_error(payment, code=error.code.value, message=error.message)
        return None


def _poll(payment: GatewayPayment, values: dict[str, str]) -> GatewayPayment:
    """Ask where the payment stands every PAYMENTS_POLL_INTERVAL_SECONDS, PAYMENTS_POLL_COUNT times at
    most, until it is settled; still open then: it stays pending (the reconciliation asks again)."""
    gateway = module_for(payment.provider)
    out_trade_no = payment.out_trade_no
    for _ in range(settings.PAYMENTS_POLL_COUNT):
        time.sleep(settings.PAYMENTS_POLL_INTERVAL_SECONDS)
        answer = _ask(payment, values, lambda: gateway.query(values, out_trade_no=out_trade_no), queried=True)
        if answer is not None:
            payment = answer_apply(payment, answer)
            if payment.status != PaymentStatus.PENDING:
                return payment
    return GatewayPayment.objects.get(pk=payment.pk)


def gateway_charge_code(
    *, provider: str, amount: int, out_trade_no: str, auth_code: str, description: str, reference: str = ""
) -> GatewayPayment:
    """Take ``amount`` fen with the payment code (付款码) on the client's phone: WeChat micropay or Alipay
    trade.pay (bar_code). Rule: a code of the wrong shape is refused before anything is written; a client
    still confirming, or a lost answer, is asked about a few times and then left pending, never reported
    failed while money may have moved; the same ``out_trade_no`` again returns the first payment and
    charges nothing."""
    check_provider(provider)
    check_amount(amount)
    check_number(out_trade_no, PaymentsError.INVALID_OUT_TRADE_NO)
    description = check_text(description, field="description", max_length=128, required=True, max_bytes=128)
    reference = check_text(reference, field="reference", max_length=100)
    auth_code = "".join((auth_code or "").split())
    gateway = module_for(provider)
    if not gateway.auth_code_valid(auth_code):
        raise payments_error(PaymentsError.INVALID_AUTH_CODE)
    replay = _replayed(out_trade_no, provider=provider, kind=PaymentKind.CODE, amount=amount)
    if replay is not None:
        return replay
    values = merchant_values(provider)
    payment, created = _payment_open(
        provider=provider,
        kind=PaymentKind.CODE,
        amount=amount,
        out_trade_no=out_trade_no,
        description=description,
        reference=reference,
    )
    if not created:
        return payment
    answer = _ask(
        payment,
        values,
        lambda: gateway.charge_code(
            values, out_trade_no=out_trade_no, amount=amount, auth_code=auth_code, description=description
        ),
    )
    if answer is not None:
        payment = answer_apply(payment, answer)
        if payment.status != PaymentStatus.PENDING or answer.outcome == Outcome.PAID:
            return payment
    return _poll(payment, values)


def gateway_charge_qr(
    *, provider: str, amount: int, out_trade_no: str, description: str, reference: str = "", notify_url: str
) -> GatewayPayment:
    """Open a QR payment of ``amount`` fen the client scans (WeChat NATIVE, Alipay precreate): the pending
    payment comes back with ``code_url``, the content of the QR code. Rule: it is settled by the provider's
    notification to ``notify_url`` (or by a query); a QR code the provider did not issue fails the payment
    at once (no one can pay a code never shown); the same ``out_trade_no`` again returns the first one."""
    check_provider(provider)
    check_amount(amount)
    check_number(out_trade_no, PaymentsError.INVALID_OUT_TRADE_NO)
    description = check_text(description, field="description", max_length=128, required=True, max_bytes=128)
    reference = check_text(reference, field="reference", max_length=100)
    if not notify_url.startswith(("http://", "https://")) or len(notify_url) > 256:
        raise payments_error(PaymentsError.INVALID_NOTIFY_URL)
    replay = _replayed(out_trade_no, provider=provider, kind=PaymentKind.QR, amount=amount)
    if replay is not None:
        return replay
    values = merchant_values(provider)
    payment, created = _payment_open(
        provider=provider,
        kind=PaymentKind.QR,
        amount=amount,
        out_trade_no=out_trade_no,
        description=description,
        reference=reference,
    )
    if not created:
        return payment
    gateway = module_for(provider)
    answer = _ask(
        payment,
        values,
        lambda: gateway.charge_qr(
            values,
            out_trade_no=out_trade_no,
            amount=amount,
            description=description,
            notify_url=notify_url,
            expire_minutes=settings.PAYMENTS_EXPIRE_MINUTES,
        ),
    )
    if answer is not None and answer.outcome == Outcome.CREATED:
        GatewayPayment.objects.filter(pk=payment.pk).update(code_url=answer.code_url)
        return GatewayPayment.objects.get(pk=payment.pk)
    payment.refresh_from_db()
    return payment_settle(
        payment=payment,
        status=PaymentStatus.FAILED,
        error_code=answer.error_code if answer is not None else payment.error_code,
        error_message=answer.error_message if answer is not None else payment.error_message,
    )


def gateway_payment_query(*, payment: GatewayPayment) -> GatewayPayment:
    """Ask the provider where a pending payment stands and settle it by the answer. Rule: a settled payment
    is returned as it is, without a call; no answer leaves it pending with the reason noted."""
    payment = GatewayPayment.objects.get(pk=payment.pk)
    if payment.status != PaymentStatus.PENDING:
        return payment
    values = merchant_values(payment.provider, enabled_only=False)
    gateway = module_for(payment.provider)
    answer = _ask(payment, values, lambda: gateway.query(values, out_trade_no=payment.out_trade_no), queried=True)
    if answer is None:
        return GatewayPayment.objects.get(pk=payment.pk)
    return answer_apply(payment, answer)


def gateway_payment_cancel(*, payment: GatewayPayment) -> GatewayPayment:
    """Cancel a pending payment the cashier abandons: a code payment is reversed (WeChat reverse, Alipay
    cancel: any money already taken goes back to the client), a QR order closed so it can no longer be
    paid. Rule: only a pending payment; if the provider refuses, a query decides (a payment that went
    through meanwhile comes back succeeded); still open after that is refused with the provider's reason."""
    payment = GatewayPayment.objects.get(pk=payment.pk)
    if payment.status != PaymentStatus.PENDING:
        raise payments_error(PaymentsError.NOT_PENDING)
    values = merchant_values(payment.provider, enabled_only=False)
    gateway = module_for(payment.provider)
    answer = None
    for attempt in range(max(1, settings.PAYMENTS_POLL_COUNT)):
        if attempt:
            time.sleep(settings.PAYMENTS_POLL_INTERVAL_SECONDS)
        count_call(payment)
        answer = gateway.cancel(values, out_trade_no=payment.out_trade_no, kind=payment.kind)
        if not answer.retry and answer.outcome != Outcome.UNKNOWN:
            break
    if answer is not None and answer.outcome == Outcome.ACCEPTED and not answer.retry:
        return payment_settle(payment=payment, status=PaymentStatus.CANCELLED, error_code="CANCELLED")
    state = _ask(payment, values, lambda: gateway.query(values, out_trade_no=payment.out_trade_no), queried=True)
    if state is not None and state.outcome == Outcome.NOT_FOUND:
        # Nothing exists at the provider that could still be paid.
        return payment_settle(payment=payment, status=PaymentStatus.CANCELLED, error_code=state.error_code)
    if state is not None:
        payment = answer_apply(payment, state)
    if payment.status != PaymentStatus.PENDING:
        return payment
    detail = f"{answer.error_code} {answer.error_message}".strip() if answer is not None else ""
    raise payments_error(PaymentsError.CANCEL_REFUSED, detail=detail)
