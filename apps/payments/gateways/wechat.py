"""WeChat Pay (API v2) through wechatpy: the only module that imports it.

Calls: micropay (付款码), unified order NATIVE (QR), order query, reverse (a code payment) or close
(a QR order), refund; and the pay notification's signature check. Answers are checked against our API
key (wechatpy checks only notifications), so a forged or corrupted answer counts as no answer.
"""

from __future__ import annotations

import datetime
import os
import re
import tempfile
import zoneinfo
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from xml.parsers.expat import ExpatError

import requests
import xmltodict
from django.conf import settings
from wechatpy.exceptions import InvalidSignatureException, WeChatPayException
from wechatpy.pay import WeChatPay
from wechatpy.pay.utils import calculate_signature, calculate_signature_hmac

from apps.payments.errors import PaymentsError, payments_error
from apps.payments.gateways import GatewayAnswer, GatewayNotice, Outcome, unavailable

# 付款码 of WeChat Pay: 18 digits starting with 10 to 15.
AUTH_CODE_RE = re.compile(r"^1[0-5]\d{16}$")

_BEIJING = zoneinfo.ZoneInfo("Asia/Shanghai")
# micropay answers that leave the outcome open: ask with an order query.
_ASK_AGAIN = frozenset({"USERPAYING", "SYSTEMERROR", "BANKERROR", "ORDERPAID"})
_TRADE_STATES = {
    "SUCCESS": Outcome.PAID,
    "REFUND": Outcome.PAID,  # it was paid; refunds are kept by us
    "NOTPAY": Outcome.PAYING,
    "USERPAYING": Outcome.PAYING,
    "CLOSED": Outcome.CLOSED,
    "REVOKED": Outcome.CLOSED,
    "PAYERROR": Outcome.FAILED,
}


def auth_code_valid(auth_code: str) -> bool:
    return bool(AUTH_CODE_RE.match(auth_code))


@contextmanager
def _client(values: Mapping[str, str], *, with_certificate: bool = False) -> Iterator[WeChatPay]:
    """A wechatpy client on the configured base URL; with the merchant's API certificate written to
    private temporary files while it is used (refunds and reversals are sent with it)."""
    paths: list[str] = []
    try:
        cert = key = None
        if with_certificate:
            if not (values.get("cert_pem") and values.get("cert_key_pem")):
                raise payments_error(PaymentsError.CERTIFICATE_REQUIRED)
            for pem in (values["cert_pem"], values["cert_key_pem"]):
                handle, path = tempfile.mkstemp(prefix="wxpay-", suffix=".pem")  # created 0600
                with os.fdopen(handle, "w") as file:
                    file.write(pem)
                paths.append(path)
            cert, key = paths
        client = WeChatPay(
            appid=values["app_id"],
            api_key=values["api_key"],
            mch_id=values["mch_id"],
            sub_mch_id=values.get("sub_mch_id") or None,
            mch_cert=cert,
            mch_key=key,
            timeout=settings.WECHATPAY_TIMEOUT_SECONDS,
        )
        client.API_BASE_URL = settings.WECHATPAY_API_BASE
        yield client
    finally:
        for path in paths:
            os.unlink(path)


def _signature_ok(data: Mapping[str, Any], api_key: str) -> bool:
    fields = {k: v for k, v in data.items() if k != "sign"}
    sign = data.get("sign") or ""
    if fields.get("sign_type") == "HMAC-SHA256":
        return bool(sign) and sign == calculate_signature_hmac(fields, api_key)
    return bool(sign) and sign == calculate_signature(fields, api_key)


def _call(values: Mapping[str, str], do: Any, *, with_certificate: bool = False) -> dict[str, Any]:
    """Run ``do(client)`` and return the answer's fields, whatever its result code, once its signature
    verified. A protocol-level refusal (return_code FAIL: our request was not accepted) comes back as
    ``{"return_code": "FAIL", "return_msg": …}``. No answer, or one that does not verify: unavailable."""
    with _client(values, with_certificate=with_certificate) as client:
        try:
            data = do(client)
        except WeChatPayException as exc:
            if exc.response is None or exc.return_code is None:  # an HTTP error status, or no answer at all
                status = exc.response.status_code if exc.response is not None else ""
                raise unavailable(f"WeChat Pay HTTP error {status}")
            data = _parse(exc.response.content)
        except requests.RequestException as exc:
            raise unavailable(f"WeChat Pay not reached: {type(exc).__name__}")
        except (KeyError, TypeError, ValueError) as exc:  # wechatpy reading an answer of an unexpected shape
            raise unavailable(f"WeChat Pay answer unreadable: {type(exc).__name__}")
    if not isinstance(data, dict):
        raise unavailable("WeChat Pay answer is not XML")
    if data.get("return_code") != "SUCCESS":
        return {"return_code": "FAIL", "return_msg": str(data.get("return_msg") or "")}
    if not _signature_ok(data, values["api_key"]):
        raise unavailable("WeChat Pay answer signature does not verify")
    return dict(data)


def _parse(body: bytes | str) -> dict[str, Any] | None:
    try:
        parsed = xmltodict.parse(body)
    except (ExpatError, xmltodict.ParsingInterrupted, ValueError):
        return None
    data = parsed.get("xml") if isinstance(parsed, dict) else None
    return dict(data) if isinstance(data, dict) else None


def _fen(value: Any) -> int | None:
    text = str(value or "")
    return int(text) if text.isdigit() else None


def _time(value: Any) -> datetime.datetime | None:
    """time_end (yyyyMMddHHmmss, Beijing time) as an aware datetime."""
    try:
        return datetime.datetime.strptime(str(value), "%Y%m%d%H%M%S").replace(tzinfo=_BEIJING)
    except ValueError:
        return None


def _refusal(data: Mapping[str, Any], outcome: Outcome = Outcome.FAILED) -> GatewayAnswer:
    if data.get("return_code") != "SUCCESS":
        return GatewayAnswer(outcome, error_code="FAIL", error_message=str(data.get("return_msg") or "")[:255])
    return GatewayAnswer(
        outcome,
        error_code=str(data.get("err_code") or "")[:64],
        error_message=str(data.get("err_code_des") or "")[:255],
    )


def _paid(data: Mapping[str, Any]) -> GatewayAnswer:
    return GatewayAnswer(
        Outcome.PAID,
        transaction_id=str(data.get("transaction_id") or ""),
        amount=_fen(data.get("total_fee")),
        paid_at=_time(data.get("time_end")),
    )


def charge_code(
    values: Mapping[str, str], *, out_trade_no: str, amount: int, auth_code: str, description: str
) -> GatewayAnswer:
    """micropay: take ``amount`` with the client's payment code."""
    data = _call(
        values,
        lambda c: c.micropay.create(
            body=description,
            total_fee=amount,
            auth_code=auth_code,
            client_ip=settings.WECHATPAY_CLIENT_IP,
            out_trade_no=out_trade_no,
        ),
    )
    if data.get("return_code") == "SUCCESS" and data.get("result_code") == "SUCCESS":
        return _paid(data)
    if data.get("err_code") == "USERPAYING":
        return GatewayAnswer(Outcome.PAYING, error_code="USERPAYING")
    if data.get("err_code") in _ASK_AGAIN:
        return _refusal(data, Outcome.UNKNOWN)
    return _refusal(data)


def charge_qr(
    values: Mapping[str, str],
    *,
    out_trade_no: str,
    amount: int,
    description: str,
    notify_url: str,
    expire_minutes: int,
) -> GatewayAnswer:
    """unified order, trade_type NATIVE: a code_url for the QR code the client scans."""
    start = datetime.datetime.now(tz=_BEIJING)
    data = _call(
        values,
        lambda c: c.order.create(
            trade_type="NATIVE",
            body=description,
            total_fee=amount,
            notify_url=notify_url,
            client_ip=settings.WECHATPAY_CLIENT_IP,
            out_trade_no=out_trade_no,
            product_id=out_trade_no,
            time_start=start,
            time_expire=start + datetime.timedelta(minutes=expire_minutes),
        ),
    )
    if data.get("return_code") == "SUCCESS" and data.get("result_code") == "SUCCESS" and data.get("code_url"):
        return GatewayAnswer(Outcome.CREATED, code_url=str(data["code_url"]))
    if data.get("err_code") == "SYSTEMERROR":
        return _refusal(data, Outcome.UNKNOWN)
    return _refusal(data)


def query(values: Mapping[str, str], *, out_trade_no: str) -> GatewayAnswer:
    """order query: where the payment stands."""
    data = _call(values, lambda c: c.order.query(out_trade_no=out_trade_no))
    if data.get("return_code") == "SUCCESS" and data.get("result_code") == "SUCCESS":
        state = str(data.get("trade_state") or "")
        outcome = _TRADE_STATES.get(state, Outcome.UNKNOWN)
        if outcome == Outcome.PAID:
            return _paid(data)
        return GatewayAnswer(outcome, error_code=state, error_message=str(data.get("trade_state_desc") or "")[:255])
    if data.get("err_code") == "ORDERNOTEXIST":
        return _refusal(data, Outcome.NOT_FOUND)
    return _refusal(data, Outcome.UNKNOWN)


def cancel(values: Mapping[str, str], *, out_trade_no: str, kind: str) -> GatewayAnswer:
    """Reverse a code payment (撤销: WeChat gives back any money taken) or close a QR order."""
    if kind == "code":
        data = _call(values, lambda c: c.order.reverse(out_trade_no=out_trade_no), with_certificate=True)
    else:
        data = _call(values, lambda c: c.order.close(out_trade_no=out_trade_no))
    if data.get("return_code") == "SUCCESS" and data.get("result_code") == "SUCCESS":
        return GatewayAnswer(Outcome.ACCEPTED, retry=data.get("recall") == "Y")
    answer = _refusal(data)
    if data.get("recall") == "Y" or data.get("err_code") == "SYSTEMERROR":
        return GatewayAnswer(Outcome.UNKNOWN, error_code=answer.error_code, error_message=answer.error_message)
    return answer


def refund(
    values: Mapping[str, str], *, out_trade_no: str, total: int, amount: int, out_refund_no: str, reason: str
) -> GatewayAnswer:
    """Refund ``amount`` of the payment (sent with the merchant certificate)."""
    data = _call(
        values,
        lambda c: c.refund.apply(
            total_fee=total,
            refund_fee=amount,
            out_refund_no=out_refund_no,
            out_trade_no=out_trade_no,
            refund_desc=reason or None,
        ),
        with_certificate=True,
    )
    if data.get("return_code") == "SUCCESS" and data.get("result_code") == "SUCCESS":
        return GatewayAnswer(Outcome.ACCEPTED, refund_id=str(data.get("refund_id") or ""))
    if data.get("err_code") in {"SYSTEMERROR", "BIZERR_NEED_RETRY", "FREQUENCY_LIMITED"}:
        return _refusal(data, Outcome.UNKNOWN)
    return _refusal(data)


def parse_notification(values: Mapping[str, str], *, body: bytes, headers: Mapping[str, str]) -> GatewayNotice:
    """The pay result notification, once its signature verified with our API key."""
    data = _parse(body)
    if data is None:
        raise payments_error(PaymentsError.NOTIFICATION_INVALID)
    if data.get("sign_type") == "HMAC-SHA256":
        if not _signature_ok(data, values["api_key"]):
            raise payments_error(PaymentsError.SIGNATURE_INVALID)
    else:
        client = WeChatPay(appid=values["app_id"], api_key=values["api_key"], mch_id=values["mch_id"])
        try:
            data = client.parse_payment_result(body)
        except InvalidSignatureException:
            raise payments_error(PaymentsError.SIGNATURE_INVALID)
    if data.get("appid") != values["app_id"] or data.get("mch_id") != values["mch_id"]:
        raise payments_error(PaymentsError.SIGNATURE_INVALID, detail="another merchant's notification")
    transaction_id = str(data.get("transaction_id") or "")
    out_trade_no = str(data.get("out_trade_no") or "")
    if data.get("return_code") != "SUCCESS" or not transaction_id or not out_trade_no:
        raise payments_error(PaymentsError.NOTIFICATION_INVALID)
    result = str(data.get("result_code") or "")
    return GatewayNotice(
        dedupe_key=f"{transaction_id}:pay:{result}",
        out_trade_no=out_trade_no,
        transaction_id=transaction_id,
        amount=_fen(data.get("total_fee")),
        outcome=Outcome.PAID if result == "SUCCESS" else Outcome.PAYING,
        paid_at=_time(data.get("time_end")),
    )


def notification_reply(*, ok: bool, message: str = "") -> tuple[bytes, str]:
    """The XML WeChat Pay expects back: SUCCESS stops its retries, FAIL asks it to send again."""
    code = "SUCCESS" if ok else "FAIL"
    text = "OK" if ok else (message or "FAIL").replace("]]>", "")
    body = f"<xml><return_code><![CDATA[{code}]]></return_code><return_msg><![CDATA[{text}]]></return_msg></xml>"
    return body.encode(), "application/xml"
