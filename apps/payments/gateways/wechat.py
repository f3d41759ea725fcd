"""WeChat Pay (API v2) through wechatpy: the only module that imports it.

Calls: micropay (付款码), unified order NATIVE (QR), order query, reverse (a code payment) or close
(a QR order), refund and refund query; the pay notification's signature check and the refund
notification's decryption. Answers are checked against our API key (wechatpy checks only notifications),
so a forged or corrupted answer counts as no answer.

TLS: WeChat Pay's server certificate is verified against ``WECHATPAY_CA_BUNDLE`` (the default bundle when
empty) on every call. ``secapi/*`` (refund, reverse) is sent with the merchant's API certificate (mutual
TLS); a server that refuses it (a TLS alert about our certificate) did nothing, which is
``certificate_rejected``, a definite refusal, not an unknown outcome.
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
from django.utils.translation import gettext_lazy
from wechatpy.exceptions import (
    InvalidAppIdException,
    InvalidMchIdException,
    InvalidSignatureException,
    WeChatPayException,
)
from wechatpy.pay import WeChatPay
from wechatpy.pay.utils import calculate_signature, calculate_signature_hmac

from apps.payments.errors import PaymentsError, payments_error
from apps.payments.gateways import GatewayAnswer, GatewayNotice, GatewayRefundNotice, Outcome, unavailable

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


# Refund states (refundquery's refund_status_$n, the refund notification's refund_status).
_REFUND_STATES = {
    "SUCCESS": Outcome.REFUNDED,
    "PROCESSING": Outcome.PROCESSING,
    "CHANGE": Outcome.FAILED,  # the client's bank card refused it: WeChat Pay keeps it for the merchant
    "REFUNDCLOSE": Outcome.FAILED,
}
# WeChat Pay gives no words for these: ours, shown to staff on the refund.
_REFUND_FAILURES = {
    "CHANGE": gettext_lazy(
        "WeChat Pay could not pay the refund into the client's account (a closed or frozen bank card); "
        "nothing was refunded: give the money back another way or handle it in the WeChat Pay merchant platform."
    ),
    "REFUNDCLOSE": gettext_lazy("WeChat Pay closed the refund without paying it; nothing was refunded."),
}
# TLS alerts WeChat Pay's server sends about OUR certificate (none sent, not issued by WeChat Pay, expired,
# revoked): it refused the merchant's API certificate and did nothing with the request.
_CERTIFICATE_REFUSED = frozenset(
    {
        "TLSV13_ALERT_CERTIFICATE_REQUIRED",
        "TLSV1_ALERT_UNKNOWN_CA",
        "SSLV3_ALERT_BAD_CERTIFICATE",
        "SSLV3_ALERT_CERTIFICATE_UNKNOWN",
        "SSLV3_ALERT_CERTIFICATE_EXPIRED",
        "SSLV3_ALERT_CERTIFICATE_REVOKED",
        "SSLV3_ALERT_UNSUPPORTED_CERTIFICATE",
    }
)
_SSL_REASON = re.compile(r"\[SSL: ([A-Z0-9_]+)\]")


def auth_code_valid(auth_code: str) -> bool:
    return bool(AUTH_CODE_RE.match(auth_code))


class _WeChatPay(WeChatPay):
    """wechatpy's client that verifies WeChat Pay's server certificate against ``WECHATPAY_CA_BUNDLE`` on
    every request (passed per request: a session default would lose to REQUESTS_CA_BUNDLE)."""

    def _request(self, method: str, url_or_endpoint: str, **kwargs: Any) -> Any:
        kwargs["verify"] = settings.WECHATPAY_CA_BUNDLE or True
        return super()._request(method, url_or_endpoint, **kwargs)


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
        client = _WeChatPay(
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
        except requests.exceptions.SSLError as exc:
            raise _tls_failure(exc)
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


def _tls_failure(exc: requests.exceptions.SSLError) -> Exception:
    """A TLS failure as our error: WeChat Pay refusing our certificate is a definite refusal (nothing was
    done); a server certificate that does not verify, or any other TLS error, leaves the outcome unknown."""
    reasons = set(_SSL_REASON.findall(str(exc)))
    if reasons & _CERTIFICATE_REFUSED:
        return payments_error(PaymentsError.CERTIFICATE_REJECTED, detail=", ".join(sorted(reasons)))
    if "CERTIFICATE_VERIFY_FAILED" in reasons:
        return unavailable("WeChat Pay's server certificate does not verify against WECHATPAY_CA_BUNDLE")
    return unavailable(f"WeChat Pay TLS error: {', '.join(sorted(reasons)) or type(exc).__name__}")


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


def _time(value: Any, layout: str = "%Y%m%d%H%M%S") -> datetime.datetime | None:
    """time_end (yyyyMMddHHmmss) or a refund's success time (yyyy-MM-dd HH:mm:ss), Beijing time, as an
    aware datetime."""
    try:
        return datetime.datetime.strptime(str(value), layout).replace(tzinfo=_BEIJING)
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


def refund_ready(values: Mapping[str, str]) -> None:
    """Refunds are sent with the merchant's API certificate: without one, refused before anything is
    written."""
    if not (values.get("cert_pem") and values.get("cert_key_pem")):
        raise payments_error(PaymentsError.CERTIFICATE_REQUIRED)


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
    """Apply for a refund of ``amount`` of the payment (secapi: sent with the merchant certificate). Accepted
    means under way, not done: :func:`refund_query` or the refund notification (to ``notify_url``) says
    how it ended. The same ``out_refund_no`` again is the same refund at WeChat Pay."""
    data = _call(
        values,
        lambda c: c.refund.apply(
            total_fee=total,
            refund_fee=amount,
            out_refund_no=out_refund_no,
            out_trade_no=out_trade_no,
            refund_desc=reason or None,
            notify_url=notify_url or None,
        ),
        with_certificate=True,
    )
    if data.get("return_code") == "SUCCESS" and data.get("result_code") == "SUCCESS":
        return GatewayAnswer(Outcome.ACCEPTED, refund_id=str(data.get("refund_id") or ""))
    if data.get("err_code") in {"SYSTEMERROR", "BIZERR_NEED_RETRY", "FREQUENCY_LIMITED"}:
        return _refusal(data, Outcome.UNKNOWN)
    return _refusal(data)


def _refund_answer(status: str, *, refund_id: Any, amount: Any, success_time: Any) -> GatewayAnswer:
    """A refund's state as WeChat Pay reports it: REFUNDED, PROCESSING, FAILED (CHANGE / REFUNDCLOSE, with
    our words for staff) or UNKNOWN."""
    outcome = _REFUND_STATES.get(status, Outcome.UNKNOWN)
    common: dict[str, Any] = {"refund_id": str(refund_id or ""), "amount": _fen(amount)}
    if outcome == Outcome.REFUNDED:
        return GatewayAnswer(outcome, refunded_at=_time(success_time, "%Y-%m-%d %H:%M:%S"), **common)
    if outcome == Outcome.FAILED:
        return GatewayAnswer(outcome, error_code=status, error_message=str(_REFUND_FAILURES[status]), **common)
    return GatewayAnswer(outcome, error_code="" if outcome == Outcome.PROCESSING else status[:64], **common)


def refund_query(values: Mapping[str, str], *, out_trade_no: str, out_refund_no: str) -> GatewayAnswer:
    """refundquery: where a refund stands. NOT_FOUND when WeChat Pay has no refund of that number (the
    application never arrived: it can be sent again)."""
    data = _call(values, lambda c: c.refund.query(out_refund_no=out_refund_no))
    if data.get("return_code") == "SUCCESS" and data.get("result_code") == "SUCCESS":
        if data.get("out_trade_no") and data.get("out_trade_no") != out_trade_no:
            return GatewayAnswer(Outcome.UNKNOWN, error_code="OUT_TRADE_NO", error_message="another payment's refund")
        for key, value in data.items():
            if key.startswith("out_refund_no_") and value == out_refund_no:
                n = key.removeprefix("out_refund_no_")
                return _refund_answer(
                    str(data.get(f"refund_status_{n}") or ""),
                    refund_id=data.get(f"refund_id_{n}"),
                    amount=data.get(f"refund_fee_{n}"),
                    success_time=data.get(f"refund_success_time_{n}"),
                )
        return GatewayAnswer(Outcome.UNKNOWN, error_code="REFUND_MISSING", error_message="refund not in the answer")
    if data.get("err_code") == "REFUNDNOTEXIST":
        return _refusal(data, Outcome.NOT_FOUND)
    return _refusal(data, Outcome.UNKNOWN)


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


def parse_refund_notification(
    values: Mapping[str, str], *, body: bytes, headers: Mapping[str, str]
) -> GatewayRefundNotice:
    """The refund result notification. Its outer XML is not signed: ``req_info`` is the proof, encrypted
    with (the MD5 of) our API key, and wechatpy decrypts it after checking the app id and merchant number
    are ours. One that does not decrypt into a refund's fields is refused as a forgery."""
    data = _parse(body)
    if data is None or data.get("return_code") != "SUCCESS" or not data.get("req_info"):
        raise payments_error(PaymentsError.NOTIFICATION_INVALID)
    client = WeChatPay(appid=values["app_id"], api_key=values["api_key"], mch_id=values["mch_id"])
    try:
        info = client.parse_refund_notify_result(body)
    except (InvalidAppIdException, InvalidMchIdException):
        raise payments_error(PaymentsError.SIGNATURE_INVALID, detail="another merchant's notification")
    except (ValueError, KeyError, TypeError, IndexError, ExpatError):  # not encrypted with our key
        raise payments_error(PaymentsError.SIGNATURE_INVALID)
    if not isinstance(info, dict):
        raise payments_error(PaymentsError.SIGNATURE_INVALID)
    status = str(info.get("refund_status") or "")
    refund_id = str(info.get("refund_id") or "")
    out_refund_no = str(info.get("out_refund_no") or "")
    out_trade_no = str(info.get("out_trade_no") or "")
    if not (status and refund_id and out_refund_no and out_trade_no):
        raise payments_error(PaymentsError.NOTIFICATION_INVALID)
    return GatewayRefundNotice(
        dedupe_key=f"{refund_id}:refund:{status}",
        out_trade_no=out_trade_no,
        out_refund_no=out_refund_no,
        transaction_id=str(info.get("transaction_id") or ""),
        total=_fen(info.get("total_fee")),
        amount=_fen(info.get("refund_fee")),
        answer=_refund_answer(
            status, refund_id=refund_id, amount=info.get("refund_fee"), success_time=info.get("success_time")
        ),
    )


def notification_reply(*, ok: bool, message: str = "") -> tuple[bytes, str]:
    """The XML WeChat Pay expects back: SUCCESS stops its retries, FAIL asks it to send again."""
    code = "SUCCESS" if ok else "FAIL"
    text = "OK" if ok else (message or "FAIL").replace("]]>", "")
    body = f"<xml><return_code><![CDATA[{code}]]></return_code><return_msg><![CDATA[{text}]]></return_msg></xml>"
    return body.encode(), "application/xml"
