"""Local stand-ins for the providers' HTTP APIs, served on 127.0.0.1 in a thread, so that tests drive the
real SDK and the real request signing. Each checks what the real API checks (credentials, access token,
signature) and answers the way the real API answers."""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _answer(self, status: int, payload: dict[str, Any]) -> None:
        raw = json.dumps(payload, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def do_GET(self) -> None:
        self._dispatch("GET", b"")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self._dispatch("POST", self.rfile.read(length))

    def _dispatch(self, method: str, body: bytes) -> None:
        parts = urlsplit(self.path)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        with self.server.lock:
            status, payload = self.server.api.handle(method, parts.path, query, body)
        self._answer(status, payload)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    api: Any
    lock: threading.Lock


@contextmanager
def serving(api: Any) -> Iterator[str]:
    """Serve ``api`` (an object with ``handle(method, path, query, body) -> (status, payload)``) on a free
    port of 127.0.0.1; yields the base URL ``http://127.0.0.1:<port>``."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.api = api
    server.lock = threading.Lock()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@dataclass
class FakeWeChatApi:
    """The official account API's ``cgi-bin/token`` and ``cgi-bin/message/template/send``."""

    appid: str
    secret: str
    templates: set[str]
    unsubscribed: set[str] = field(default_factory=set)
    reject_every_token: bool = False
    token_fetches: int = 0
    sends: list[dict[str, Any]] = field(default_factory=list)
    delivered: list[dict[str, Any]] = field(default_factory=list)
    valid_token: str = ""
    _numbers: Any = field(default_factory=lambda: itertools.count(1))

    def expire_token(self) -> None:
        self.valid_token = ""

    def handle(self, method: str, path: str, query: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        if method == "GET" and path == "/cgi-bin/token":
            self.token_fetches += 1
            if query.get("grant_type") != "client_credential" or query.get("appid") != self.appid:
                return 200, {"errcode": 40013, "errmsg": "invalid appid"}
            if query.get("secret") != self.secret:
                return 200, {"errcode": 40125, "errmsg": "invalid appsecret"}
            self.valid_token = f"TOKEN-{next(self._numbers)}"
            return 200, {"access_token": self.valid_token, "expires_in": 7200}
        if method == "POST" and path == "/cgi-bin/message/template/send":
            message = json.loads(body.decode("utf-8"))
            self.sends.append({"access_token": query.get("access_token"), "message": message})
            if self.reject_every_token or not self.valid_token or query.get("access_token") != self.valid_token:
                return 200, {"errcode": 40001, "errmsg": "invalid credential, access_token is invalid or not latest"}
            if message.get("template_id") not in self.templates:
                return 200, {"errcode": 40037, "errmsg": "invalid template_id"}
            data = message.get("data")
            if not isinstance(data, dict) or not all(isinstance(v, dict) and "value" in v for v in data.values()):
                return 200, {"errcode": 47001, "errmsg": "data format error"}
            if message.get("touser") in self.unsubscribed:
                return 200, {"errcode": 43004, "errmsg": "require subscribe"}
            self.delivered.append(message)
            return 200, {"errcode": 0, "errmsg": "ok", "msgid": len(self.delivered)}
        return 404, {"errcode": -1, "errmsg": "not found"}


def _encode(value: str) -> str:
    return quote(value, safe="-_.~")


def aliyun_signature(params: dict[str, str], secret: str) -> str:
    """Signature version 1.0 recomputed the way Alibaba Cloud's servers do (independent of our adapter)."""
    canonical = "&".join(f"{_encode(k)}={_encode(params[k])}" for k in sorted(params))
    to_sign = "GET&%2F&" + _encode(canonical)
    return base64.b64encode(hmac.new(f"{secret}&".encode(), to_sign.encode(), hashlib.sha1).digest()).decode()


@dataclass
class FakeAliyunSms:
    """dysmsapi's ``SendSms``: checks the key, the signature, the nonce and the template; answers like the API."""

    key_id: str
    secret: str
    sign_name: str
    template_code: str
    refuse_numbers: set[str] = field(default_factory=set)
    requests: list[dict[str, str]] = field(default_factory=list)
    sent: list[dict[str, str]] = field(default_factory=list)
    nonces: set[str] = field(default_factory=set)

    def handle(self, method: str, path: str, query: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        self.requests.append(query)
        if method != "GET" or path != "/" or query.get("Action") != "SendSms":
            return 404, {"Code": "InvalidAction.NotFound", "Message": "Specified api is not found"}
        if query.get("AccessKeyId") != self.key_id:
            return 404, {"Code": "InvalidAccessKeyId.NotFound", "Message": "Specified access key is not found."}
        signature = query.pop("Signature", "")
        expected = aliyun_signature(query, self.secret)
        if query.get("SignatureMethod") != "HMAC-SHA1" or query.get("SignatureVersion") != "1.0":
            return 400, {"Code": "InvalidSignatureMethod", "Message": "Specified signature method is not supported."}
        if not hmac.compare_digest(signature, expected):
            return 400, {
                "Code": "SignatureDoesNotMatch",
                "Message": "Specified signature is not matched with our calculation.",
            }
        nonce = query.get("SignatureNonce", "")
        if not nonce or nonce in self.nonces:
            return 400, {"Code": "SignatureNonceUsed", "Message": "Specified signature nonce was used already."}
        self.nonces.add(nonce)
        if query.get("Version") != "2017-05-25" or query.get("Format") != "JSON":
            return 400, {"Code": "InvalidVersion", "Message": "Specified parameter Version is not valid."}
        if query.get("SignName") != self.sign_name:
            return 200, {"Code": "isv.SMS_SIGNATURE_ILLEGAL", "Message": "该账号下找不到对应签名"}
        if query.get("TemplateCode") != self.template_code:
            return 200, {"Code": "isv.SMS_TEMPLATE_ILLEGAL", "Message": "该账号下找不到对应模板"}
        if query.get("PhoneNumbers") in self.refuse_numbers:
            return 200, {"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发号码天级流控Permits:10"}
        self.sent.append(query)
        return 200, {"Code": "OK", "Message": "OK", "BizId": f"{len(self.sent)}^0", "RequestId": "R-1"}
