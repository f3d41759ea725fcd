"""The providers' SDKs behind one small interface. Each provider has ONE module here that calls its SDK
(``wechat`` through wechatpy, ``alipay`` through alipay-sdk-python) and turns every answer into a
:class:`GatewayAnswer`, and every network error, timeout or answer whose signature does not verify into
``PaymentsError.GATEWAY_UNAVAILABLE`` (the outcome is then unknown: ask again, never assume a failure).
Nothing outside this package imports an SDK."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from types import ModuleType

from apps.payments.errors import PaymentsError, payments_error


class Outcome(StrEnum):
    PAID = "paid"  # the money moved
    PAYING = "paying"  # the client is confirming on their phone (USERPAYING / WAIT_BUYER_PAY)
    UNKNOWN = "unknown"  # the provider says it had a system error: ask again
    FAILED = "failed"  # refused for good (expired code, not enough balance …): no money moved
    CLOSED = "closed"  # cancelled, closed or reversed: no money taken (or given back)
    NOT_FOUND = "not_found"  # the provider knows no such payment
    CREATED = "created"  # a QR order exists and waits to be scanned
    ACCEPTED = "accepted"  # a refund or a cancellation was accepted (a WeChat refund: now under way)
    PROCESSING = "processing"  # a refund under way at the provider: ask again later
    REFUNDED = "refunded"  # a refund went through: the money is back with the client


@dataclass(frozen=True)
class GatewayAnswer:
    outcome: Outcome
    transaction_id: str = ""
    amount: int | None = None  # fen, as the provider reports it
    paid_at: datetime.datetime | None = None
    code_url: str = ""
    refund_id: str = ""
    refunded_at: datetime.datetime | None = None
    error_code: str = ""
    error_message: str = ""
    retry: bool = False  # a cancellation the provider asks to send again


@dataclass(frozen=True)
class GatewayNotice:
    """A notification whose signature verified."""

    dedupe_key: str
    out_trade_no: str
    transaction_id: str
    amount: int | None
    outcome: Outcome  # PAID, CLOSED or PAYING (nothing to do)
    paid_at: datetime.datetime | None = None


@dataclass(frozen=True)
class GatewayRefundNotice:
    """A refund notification that decrypted (or verified) with the salon's key: what it says about which
    refund. ``answer`` is REFUNDED, FAILED or PROCESSING, with the refund id and time."""

    dedupe_key: str
    out_trade_no: str
    out_refund_no: str
    transaction_id: str
    total: int | None  # the payment's amount, fen
    amount: int | None  # the refund's amount, fen
    answer: GatewayAnswer


def unavailable(detail: str) -> Exception:
    return payments_error(PaymentsError.GATEWAY_UNAVAILABLE, detail=detail[:200])


def fen_to_amount(fen: int) -> str:
    """1880 -> "18.80", the yuan string Alipay expects."""
    whole, cents = divmod(int(fen), 100)
    return f"{whole}.{cents:02d}"


def amount_to_fen(value: object) -> int | None:
    """ "18.80" -> 1880; None for anything that is not an amount."""
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    if not amount.is_finite():
        return None
    fen = amount * 100
    return int(fen) if fen == fen.to_integral_value() else None


def module_for(provider: str) -> ModuleType:
    """The gateway module of ``provider`` (imported on first use: the SDKs are only needed when paying)."""
    if provider == "wechat":
        from apps.payments.gateways import wechat

        return wechat
    if provider == "alipay":
        from apps.payments.gateways import alipay

        return alipay
    raise payments_error(PaymentsError.INVALID_PROVIDER)
