"""Alipay (open platform, RSA2) through alipay-sdk-python: the only module that imports it.

Calls: alipay.trade.pay with scene bar_code (付款码), alipay.trade.precreate (QR), alipay.trade.query,
alipay.trade.cancel (closes an unpaid trade, gives back a paid one), alipay.trade.refund; and the
asynchronous notification's RSA2 check. The SDK signs every request with the salon's app private key and
verifies every answer with the Alipay public key the salon entered.

The SDK's own HTTP transport (``WebUtils.do_post``) connects to port 80/443 whatever port the gateway URL
names, and fails on a non-200 answer; :class:`_AlipayClient` keeps the SDK's signing and answer
verification and sends the request with ``requests`` instead, honouring the whole URL and the timeout.
"""

from __future__ import annotations

import datetime
import json
import re
import uuid
import zoneinfo
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

import requests
from alipay.aop.api.AlipayClientConfig import AlipayClientConfig
from alipay.aop.api.constant.CommonConstants import ALIPAY_SDK_PYTHON_VERSION, THREAD_LOCAL
from alipay.aop.api.DefaultAlipayClient import DefaultAlipayClient
from alipay.aop.api.exception.Exception import RequestException, ResponseException
from alipay.aop.api.request.AlipayTradeCancelRequest import AlipayTradeCancelRequest
from alipay.aop.api.request.AlipayTradePayRequest import AlipayTradePayRequest
from alipay.aop.api.request.AlipayTradePrecreateRequest import AlipayTradePrecreateRequest
from alipay.aop.api.request.AlipayTradeQueryRequest import AlipayTradeQueryRequest
from alipay.aop.api.request.AlipayTradeRefundRequest import AlipayTradeRefundRequest
from alipay.aop.api.util.SignatureUtils import get_sign_content, verify_with_rsa
from alipay.aop.api.util.WebUtils import url_encode
from django.conf import settings

from apps.payments.errors import PaymentsError, payments_error
from apps.payments.gateways import GatewayAnswer, GatewayNotice, Outcome, amount_to_fen, fen_to_amount, unavailable

# 付款码 of Alipay: 16 to 24 digits starting with 25 to 30.
AUTH_CODE_RE = re.compile(r"^(2[5-9]|30)\d{14,22}$")

_BEIJING = zoneinfo.ZoneInfo("Asia/Shanghai")
_SUCCESS = "10000"
_PAYING = "10003"
_UNAVAILABLE = "20000"
_TRADE_STATES = {
    "TRADE_SUCCESS": Outcome.PAID,
    "TRADE_FINISHED": Outcome.PAID,
    "WAIT_BUYER_PAY": Outcome.PAYING,
    "TRADE_CLOSED": Outcome.CLOSED,
}


def auth_code_valid(auth_code: str) -> bool:
    return bool(AUTH_CODE_RE.match(auth_code))


class _AlipayClient(DefaultAlipayClient):
    """The SDK client with a transport that honours the gateway URL's port and the timeout."""

    def __init__(self, config: AlipayClientConfig) -> None:
        super().__init__(config)
        self._config = config

    def execute(self, request: Any) -> str:
        THREAD_LOCAL.uuid = str(uuid.uuid1())
        query_string, params = self._DefaultAlipayClient__prepare_request(request)  # signs with RSA2
        charset = self._config.charset
        response = requests.post(
            f"{self._config.server_url}?{query_string}",
            data=url_encode(params, charset).encode(charset) if params else None,
            headers={
                "Content-type": f"application/x-www-form-urlencoded;charset={charset}",
                "User-Agent": ALIPAY_SDK_PYTHON_VERSION,
            },
            timeout=self._config.timeout,
        )
        if response.status_code != 200:
            raise ResponseException(f"invalid http status {response.status_code}")
        return str(self._DefaultAlipayClient__parse_response(response.content))  # verifies the signature


def _client(values: Mapping[str, str]) -> _AlipayClient:
    config = AlipayClientConfig()
    config.server_url = settings.ALIPAY_GATEWAY_URL
    config.app_id = values["app_id"]
    config.app_private_key = values["app_private_key"]
    config.alipay_public_key = values["alipay_public_key"]
    config.sign_type = "RSA2"
    config.timeout = settings.ALIPAY_TIMEOUT_SECONDS
    return _AlipayClient(config)


def _call(values: Mapping[str, str], request: Any) -> dict[str, Any]:
    """Send ``request`` and return the verified answer's fields. No answer, or one whose signature does not
    verify with the Alipay public key: unavailable (the outcome is unknown)."""
    try:
        content = _client(values).execute(request)
    except requests.RequestException as exc:
        raise unavailable(f"Alipay not reached: {type(exc).__name__}")
    except (RequestException, ResponseException) as exc:
        raise unavailable(f"Alipay answer refused: {str(exc)[:120]}")
    except (KeyError, TypeError, ValueError) as exc:  # the SDK reading an answer of an unexpected shape
        raise unavailable(f"Alipay answer unreadable: {type(exc).__name__}")
    try:
        data = json.loads(content)
    except ValueError:
        raise unavailable("Alipay answer is not JSON")
    if not isinstance(data, dict):
        raise unavailable("Alipay answer is not an object")
    return data


def _time(value: Any) -> datetime.datetime | None:
    try:
        return datetime.datetime.strptime(str(value), "%Y-%m-%d %H:%M:%S").replace(tzinfo=_BEIJING)
    except ValueError:
        return None


def _answer(data: Mapping[str, Any], outcome: Outcome) -> GatewayAnswer:
    return GatewayAnswer(
        outcome,
        error_code=str(data.get("sub_code") or data.get("code") or "")[:64],
        error_message=str(data.get("sub_msg") or data.get("msg") or "")[:255],
    )


def _system_error(data: Mapping[str, Any]) -> bool:
    return data.get("code") == _UNAVAILABLE or data.get("sub_code") in {"ACQ.SYSTEM_ERROR", "aop.ACQ.SYSTEM_ERROR"}


def _paid(data: Mapping[str, Any]) -> GatewayAnswer:
    return GatewayAnswer(
        Outcome.PAID,
        transaction_id=str(data.get("trade_no") or ""),
        amount=amount_to_fen(data.get("total_amount")),
        paid_at=_time(data.get("gmt_payment") or data.get("send_pay_date")),
    )


def charge_code(
    values: Mapping[str, str], *, out_trade_no: str, amount: int, auth_code: str, description: str
) -> GatewayAnswer:
    """alipay.trade.pay, scene bar_code: take ``amount`` with the client's payment code."""
    request = AlipayTradePayRequest()
    request.biz_content = {
        "out_trade_no": out_trade_no,
        "scene": "bar_code",
        "auth_code": auth_code,
        "subject": description,
        "total_amount": fen_to_amount(amount),
        "timeout_express": f"{settings.PAYMENTS_EXPIRE_MINUTES}m",
    }
    data = _call(values, request)
    if data.get("code") == _SUCCESS:
        return _paid(data)
    if data.get("code") == _PAYING:
        return GatewayAnswer(Outcome.PAYING, error_code="WAIT_BUYER_PAY")
    if _system_error(data):
        return _answer(data, Outcome.UNKNOWN)
    return _answer(data, Outcome.FAILED)


def charge_qr(
    values: Mapping[str, str],
    *,
    out_trade_no: str,
    amount: int,
    description: str,
    notify_url: str,
    expire_minutes: int,
) -> GatewayAnswer:
    """alipay.trade.precreate: a qr_code for the QR code the client scans."""
    request = AlipayTradePrecreateRequest()
    request.notify_url = notify_url
    request.biz_content = {
        "out_trade_no": out_trade_no,
        "subject": description,
        "total_amount": fen_to_amount(amount),
        "timeout_express": f"{expire_minutes}m",
    }
    data = _call(values, request)
    if data.get("code") == _SUCCESS and data.get("qr_code"):
        return GatewayAnswer(Outcome.CREATED, code_url=str(data["qr_code"]))
    return _answer(data, Outcome.UNKNOWN if _system_error(data) else Outcome.FAILED)


def query(values: Mapping[str, str], *, out_trade_no: str) -> GatewayAnswer:
    """alipay.trade.query: where the payment stands."""
    request = AlipayTradeQueryRequest()
    request.biz_content = {"out_trade_no": out_trade_no}
    data = _call(values, request)
    if data.get("code") == _SUCCESS:
        state = str(data.get("trade_status") or "")
        outcome = _TRADE_STATES.get(state, Outcome.UNKNOWN)
        if outcome == Outcome.PAID:
            return _paid(data)
        return GatewayAnswer(outcome, error_code=state)
    if data.get("sub_code") == "ACQ.TRADE_NOT_EXIST":
        return _answer(data, Outcome.NOT_FOUND)
    return _answer(data, Outcome.UNKNOWN)


def cancel(values: Mapping[str, str], *, out_trade_no: str, kind: str) -> GatewayAnswer:
    """alipay.trade.cancel, for either kind: an unpaid trade is closed (a QR code can no longer be paid), a
    paid one is given back to the client by Alipay."""
    request = AlipayTradeCancelRequest()
    request.biz_content = {"out_trade_no": out_trade_no}
    data = _call(values, request)
    if data.get("code") == _SUCCESS:
        return GatewayAnswer(Outcome.ACCEPTED, retry=data.get("retry_flag") == "Y")
    if data.get("retry_flag") == "Y" or _system_error(data):
        return _answer(data, Outcome.UNKNOWN)
    return _answer(data, Outcome.FAILED)


def refund_ready(values: Mapping[str, str]) -> None:
    """Alipay refunds need nothing beyond the account's keys."""
    return None


def refund(
    values: Mapping[str, str],
    *,
    out_trade_no: str,
    total: int,
    amount: int,
    out_refund_no: str,
    reason: str,
    notify_url: str = "",
) -> GatewayAnswer:
    """alipay.trade.refund of ``amount``; ``out_refund_no`` (out_request_no) makes a repeat harmless. Alipay
    answers a refund done (back to the client's balance or card) or refused; there is no refund
    notification to wait for, so ``notify_url`` is not used."""
    request = AlipayTradeRefundRequest()
    content: dict[str, Any] = {
        "out_trade_no": out_trade_no,
        "refund_amount": fen_to_amount(amount),
        "out_request_no": out_refund_no,
    }
    if reason:
        content["refund_reason"] = reason
    request.biz_content = content
    data = _call(values, request)
    if data.get("code") == _SUCCESS:
        return GatewayAnswer(Outcome.REFUNDED, refunded_at=_time(data.get("gmt_refund_pay")))
    return _answer(data, Outcome.UNKNOWN if _system_error(data) else Outcome.FAILED)


def parse_notification(values: Mapping[str, str], *, body: bytes, headers: Mapping[str, str]) -> GatewayNotice:
    """The asynchronous notification (form fields), once its RSA2 signature verified with the Alipay
    public key: every field but sign and sign_type, sorted, joined as k=v with &."""
    try:
        params = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=True))
    except (UnicodeDecodeError, ValueError):
        raise payments_error(PaymentsError.NOTIFICATION_INVALID)
    sign = params.pop("sign", "")
    sign_type = params.pop("sign_type", "")
    if not sign or sign_type != "RSA2":
        raise payments_error(PaymentsError.SIGNATURE_INVALID)
    try:
        verified = verify_with_rsa(values["alipay_public_key"], get_sign_content(params).encode("utf-8"), sign)
    except Exception:  # rsa.VerificationError, a malformed base64 signature …: forged either way
        verified = False
    if not verified:
        raise payments_error(PaymentsError.SIGNATURE_INVALID)
    if params.get("app_id") != values["app_id"]:
        raise payments_error(PaymentsError.SIGNATURE_INVALID, detail="another app's notification")
    trade_no = params.get("trade_no", "")
    out_trade_no = params.get("out_trade_no", "")
    status = params.get("trade_status", "")
    if not trade_no or not out_trade_no or not status:
        raise payments_error(PaymentsError.NOTIFICATION_INVALID)
    return GatewayNotice(
        dedupe_key=f"{trade_no}:{status}",
        out_trade_no=out_trade_no,
        transaction_id=trade_no,
        amount=amount_to_fen(params.get("total_amount")),
        outcome=_TRADE_STATES.get(status, Outcome.PAYING),
        paid_at=_time(params.get("gmt_payment")),
    )


def notification_reply(*, ok: bool, message: str = "") -> tuple[bytes, str]:
    """Alipay expects the plain word success; anything else makes it send the notification again."""
    return (b"success" if ok else b"fail"), "text/plain"
