"""Alibaba Cloud SMS (dysmsapi ``SendSms``), the production SMS backend for mainland China
(``SMS_BACKEND=apps.messaging.sms_aliyun.AliyunSmsBackend``).

A request is an RPC call signed with signature version 1.0: HMAC-SHA1, keyed with the access key
secret plus ``&``, over ``GET&%2F&`` and the percent-encoded canonical query (parameters sorted by
name, names and values percent-encoded per RFC 3986). Providers in China only send approved
templates, so the text goes out as the one variable (``ALIYUN_SMS_TEMPLATE_PARAM``) of a notification
template (``ALIYUN_SMS_TEMPLATE_CODE``). Every failure leaves this module as ``SmsError``."""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json
import uuid
from collections.abc import Mapping
from urllib.error import HTTPError, URLError
from urllib.parse import quote
from urllib.request import Request, urlopen

from django.conf import settings

from apps.messaging.sms import SmsError

API_VERSION = "2017-05-25"


def percent_encode(value: str) -> str:
    """RFC 3986 encoding as the API wants it: only A-Z a-z 0-9 - _ . ~ stay as they are."""
    return quote(value, safe="-_.~")


def canonical_query(params: Mapping[str, str]) -> str:
    return "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in sorted(params.items()))


def rpc_signature(params: Mapping[str, str], secret: str, *, method: str = "GET") -> str:
    """Signature version 1.0 of a request's parameters (without ``Signature`` itself)."""
    string_to_sign = f"{method}&{percent_encode('/')}&{percent_encode(canonical_query(params))}"
    digest = hmac.new(f"{secret}&".encode(), string_to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def provider_number(e164: str) -> str:
    """The number as SendSms takes it: mainland numbers without +86, others with their country code."""
    digits = e164.strip().removeprefix("+")
    if digits.startswith("86") and len(digits) == 13:
        return digits[2:]
    return digits


class AliyunSmsBackend:
    def __init__(self) -> None:
        self.key_id = settings.ALIYUN_SMS_ACCESS_KEY_ID
        self.secret = settings.ALIYUN_SMS_ACCESS_KEY_SECRET
        if not (self.key_id and self.secret and settings.ALIYUN_SMS_SIGN_NAME and settings.ALIYUN_SMS_TEMPLATE_CODE):
            raise SmsError("Alibaba Cloud SMS is not configured (ALIYUN_SMS_* settings)")

    def signed_params(self, *, to: str, body: str, now: datetime.datetime | None = None) -> dict[str, str]:
        now = now or datetime.datetime.now(datetime.UTC)
        params = {
            "AccessKeyId": self.key_id,
            "Action": "SendSms",
            "Format": "JSON",
            "PhoneNumbers": provider_number(to),
            "RegionId": settings.ALIYUN_SMS_REGION,
            "SignName": settings.ALIYUN_SMS_SIGN_NAME,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": uuid.uuid4().hex,
            "SignatureVersion": "1.0",
            "TemplateCode": settings.ALIYUN_SMS_TEMPLATE_CODE,
            "TemplateParam": json.dumps({settings.ALIYUN_SMS_TEMPLATE_PARAM: body}, ensure_ascii=False),
            "Timestamp": now.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": API_VERSION,
        }
        params["Signature"] = rpc_signature(params, self.secret)
        return params

    def send(self, *, to: str, body: str) -> None:
        url = f"{settings.ALIYUN_SMS_ENDPOINT.rstrip('/')}/?{canonical_query(self.signed_params(to=to, body=body))}"
        if not url.startswith(("https://", "http://")):
            raise SmsError(f"ALIYUN_SMS_ENDPOINT is not an http(s) URL: {settings.ALIYUN_SMS_ENDPOINT!r}")
        try:
            with urlopen(Request(url, method="GET"), timeout=settings.ALIYUN_SMS_TIMEOUT_SECONDS) as response:  # noqa: S310
                raw = response.read()
        except HTTPError as exc:  # the API answers refusals (a bad signature, a bad number) with 4xx and JSON
            raw = exc.read()
            if not raw:
                raise SmsError(f"HTTP {exc.code}")
        except (URLError, TimeoutError, OSError) as exc:
            raise SmsError(f"{exc.__class__.__name__}: {exc}")
        try:
            answer = json.loads(raw)
        except ValueError:
            raise SmsError(f"unreadable answer: {raw[:100]!r}")
        code = answer.get("Code") if isinstance(answer, dict) else None
        if code != "OK":
            message = answer.get("Message", "") if isinstance(answer, dict) else ""
            raise SmsError(f"{code}: {message}")
