"""A fake Alipay open-platform gateway on 127.0.0.1: it checks each request's RSA2 signature with the app
public key the test registered, and signs its answers and notifications with its own "Alipay private
key" (whose public half the salon enters as the Alipay public key), as the real gateway does. The RSA work
here uses ``cryptography``, not the SDK's ``rsa`` helpers, so a client that signs wrongly is caught.

Scenarios per payment code or merchant number (``fake.scenario(key, Scenario(kind=…))``): success, user
paying (10003 WAIT_BUYER_PAY, then paid or closed), failure (ACQ.PAYMENT_AUTH_CODE_INVALID by default),
timeout (charged, answer late), system error (charged, ACQ.SYSTEM_ERROR answered)."""

from __future__ import annotations

import base64
import datetime
import itertools
import json
import secrets
import zoneinfo
from dataclasses import dataclass, field
from decimal import Decimal
from urllib.parse import parse_qsl, urlencode

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from apps.payments.testing.server import (
    FAILURE,
    SYSTEM_ERROR,
    TIMEOUT,
    USER_PAYING,
    FakeServer,
    Movement,
    deliver,
    post,
)

_BEIJING = zoneinfo.ZoneInfo("Asia/Shanghai")
_numbers = itertools.count(1)


@dataclass(frozen=True)
class KeyPair:
    private_pem: str  # PKCS#1 ("BEGIN RSA PRIVATE KEY")
    public_pem: str  # SubjectPublicKeyInfo ("BEGIN PUBLIC KEY")


def key_pair() -> KeyPair:
    """A fresh 2048-bit RSA key pair, as Alipay's key tool makes for an app."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return KeyPair(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
        ).decode(),
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode(),
    )


def sign_content(params: dict[str, str], *, exclude: tuple[str, ...]) -> bytes:
    """Alipay's string to sign: the non-empty parameters but ``exclude``, sorted, k=v joined by &."""
    return "&".join(f"{k}={params[k]}" for k in sorted(params) if k not in exclude and params[k] != "").encode()


def rsa2_sign(private_pem: str, content: bytes) -> str:
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return base64.b64encode(key.sign(content, padding.PKCS1v15(), hashes.SHA256())).decode()


def rsa2_verify(public_pem: str, content: bytes, signature: str) -> bool:
    key = serialization.load_pem_public_key(public_pem.encode())
    assert isinstance(key, rsa.RSAPublicKey)
    try:
        key.verify(base64.b64decode(signature), content, padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError):
        return False
    return True


def yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


@dataclass
class App:
    app_id: str
    public_pem: str


@dataclass
class Trade:
    out_trade_no: str
    app_id: str
    total: int  # fen
    status: str  # NOT_SCANNED (a QR nobody scanned yet), WAIT_BUYER_PAY, TRADE_SUCCESS, TRADE_CLOSED
    trade_no: str = ""
    gmt_payment: str = ""
    notify_url: str = ""
    queries_left: int = 0
    then_paid: bool = True
    refunds: dict[str, int] = field(default_factory=dict)


class FakeAlipay(FakeServer):
    def __init__(self, keys: KeyPair | None = None) -> None:
        super().__init__()
        self.keys = keys or key_pair()  # the fake's own "Alipay" key pair
        self.apps: dict[str, App] = {}
        self.trades: dict[str, Trade] = {}

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/gateway.do"

    @property
    def alipay_public_key(self) -> str:
        """What a salon enters as the Alipay public key."""
        return self.keys.public_pem

    def add_app(self, *, app_id: str, app_public_key: str) -> App:
        app = App(app_id, app_public_key)
        with self.lock:
            self.apps[app_id] = app
        return app

    # --- what clients do ------------------------------------------------------------------------

    def _pay(self, trade: Trade) -> None:
        trade.status = "TRADE_SUCCESS"
        trade.trade_no = f"2026{next(_numbers):024d}"
        trade.gmt_payment = datetime.datetime.now(tz=_BEIJING).strftime("%Y-%m-%d %H:%M:%S")
        self.ledger.movements.append(Movement(trade.out_trade_no, trade.total, "charge"))

    def pay_qr(self, out_trade_no: str) -> Trade:
        """The client scans the QR code of this trade and pays."""
        with self.lock:
            trade = self.trades[out_trade_no]
            if trade.status in {"NOT_SCANNED", "WAIT_BUYER_PAY"}:
                self._pay(trade)
            return trade

    # --- notifications --------------------------------------------------------------------------

    def notification(self, out_trade_no: str, *, private_pem: str | None = None, total: int | None = None) -> bytes:
        """The asynchronous notification of the trade's status (form fields), signed RSA2 with the fake's
        Alipay private key (another key forges it; another total makes it disagree)."""
        with self.lock:
            trade = self.trades[out_trade_no]
            now = datetime.datetime.now(tz=_BEIJING).strftime("%Y-%m-%d %H:%M:%S")
            params = {
                "notify_time": now,
                "notify_type": "trade_status_sync",
                "notify_id": secrets.token_hex(16),
                "charset": "utf-8",
                "version": "1.0",
                "app_id": trade.app_id,
                "trade_no": trade.trade_no,
                "out_trade_no": trade.out_trade_no,
                "trade_status": trade.status,
                "total_amount": yuan(trade.total if total is None else total),
                "receipt_amount": yuan(trade.total),
                "buyer_logon_id": "159****5620",
                "subject": "美发",
                "gmt_create": now,
                "gmt_payment": trade.gmt_payment,
            }
        params["sign_type"] = "RSA2"
        content = sign_content(params, exclude=("sign", "sign_type"))
        params["sign"] = rsa2_sign(private_pem or self.keys.private_pem, content)
        return urlencode(params).encode()

    def send_notification(
        self,
        out_trade_no: str,
        *,
        times: int = 1,
        concurrently: bool = False,
        url: str = "",
        resolve: dict[str, str] | None = None,
    ) -> list[tuple[int, bytes]]:
        body = self.notification(out_trade_no)
        target = url or self.trades[out_trade_no].notify_url
        content_type = "application/x-www-form-urlencoded; charset=utf-8"
        return deliver(times, lambda: post(target, body, content_type, resolve=resolve), concurrently=concurrently)

    # --- the gateway ----------------------------------------------------------------------------

    def handle(self, path: str, query: str, body: bytes, headers: dict[str, str]) -> tuple[int, str, bytes, float]:
        params = dict(parse_qsl(query, keep_blank_values=True))
        params.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        method = params.get("method", "")
        name = method.replace(".", "_") + "_response"
        with self.lock:
            self.ledger.calls.append(method)
            app = self.apps.get(params.get("app_id", ""))
            if app is None:
                self.ledger.rejected.append(method)
                return self._answer(name, self._error("40002", "isv.invalid-app-id", "无效的AppID参数"))
            content = sign_content(params, exclude=("sign",))
            if params.get("sign_type") != "RSA2" or not rsa2_verify(app.public_pem, content, params.get("sign", "")):
                self.ledger.rejected.append(method)
                return self._answer(name, self._error("40002", "isv.invalid-signature", "验签出错"))
            try:
                biz = json.loads(params.get("biz_content") or "{}")
            except ValueError:
                return self._answer(name, self._error("40002", "isv.invalid-parameter", "参数无效"))
            action = {
                "alipay.trade.pay": self._pay_request,
                "alipay.trade.precreate": self._precreate,
                "alipay.trade.query": self._query,
                "alipay.trade.cancel": self._cancel,
                "alipay.trade.refund": self._refund,
            }.get(method)
            if action is None:
                return self._answer(name, self._error("40004", "isv.invalid-method", "不存在的方法名"))
            answer, delay = action(app, biz, params)
        return self._answer(name, answer, delay)

    def _answer(self, name: str, inner: dict[str, str], delay: float = 0.0) -> tuple[int, str, bytes, float]:
        """{"<method>_response": {...}, "sign": "<RSA2 of exactly that JSON text>"}."""
        text = json.dumps(inner, ensure_ascii=False, separators=(",", ":"))
        signature = rsa2_sign(self.keys.private_pem, text.encode())
        body = f'{{"{name}":{text},"sign":"{signature}"}}'
        return 200, "application/json;charset=utf-8", body.encode(), delay

    @staticmethod
    def _error(code: str, sub_code: str, sub_msg: str) -> dict[str, str]:
        msg = {"40002": "Invalid Arguments", "40004": "Business Failed", "20000": "Service Currently Unavailable"}
        return {"code": code, "msg": msg.get(code, "Error"), "sub_code": sub_code, "sub_msg": sub_msg}

    @staticmethod
    def _paid(trade: Trade) -> dict[str, str]:
        return {
            "code": "10000",
            "msg": "Success",
            "trade_no": trade.trade_no,
            "out_trade_no": trade.out_trade_no,
            "buyer_logon_id": "159****5620",
            "total_amount": yuan(trade.total),
            "receipt_amount": yuan(trade.total),
            "gmt_payment": trade.gmt_payment,
        }

    def _pay_request(self, app: App, biz: dict[str, str], params: dict[str, str]) -> tuple[dict[str, str], float]:
        out_trade_no = str(biz.get("out_trade_no") or "")
        if biz.get("scene") != "bar_code" or not biz.get("auth_code") or not out_trade_no:
            return self._error("40002", "isv.missing-parameter", "缺少必选参数"), 0.0
        existing = self.trades.get(out_trade_no)
        if existing is not None:
            if existing.status == "TRADE_SUCCESS":
                return self._paid(existing), 0.0
            return self._error("40004", "ACQ.TRADE_HAS_CLOSE", "交易已经关闭"), 0.0
        scenario = self.scenario_for(str(biz["auth_code"]), out_trade_no)
        if scenario.kind == FAILURE:
            code = scenario.error_code or "ACQ.PAYMENT_AUTH_CODE_INVALID"
            return self._error("40004", code, scenario.error_message or "支付失败，获取顾客账户信息失败"), 0.0
        total = int(Decimal(str(biz["total_amount"])) * 100)
        trade = Trade(out_trade_no, app.app_id, total, "WAIT_BUYER_PAY")
        self.trades[out_trade_no] = trade
        if scenario.kind == USER_PAYING:
            trade.queries_left, trade.then_paid = scenario.pending_queries, scenario.then_paid
            return {"code": "10003", "msg": " order success pay inprocess", "out_trade_no": out_trade_no}, 0.0
        self._pay(trade)
        if scenario.kind == SYSTEM_ERROR:
            return self._error("20000", "ACQ.SYSTEM_ERROR", "系统错误"), 0.0
        return self._paid(trade), (scenario.delay if scenario.kind == TIMEOUT else 0.0)

    def _precreate(self, app: App, biz: dict[str, str], params: dict[str, str]) -> tuple[dict[str, str], float]:
        out_trade_no = str(biz.get("out_trade_no") or "")
        if not out_trade_no or not biz.get("total_amount") or not biz.get("subject"):
            return self._error("40002", "isv.missing-parameter", "缺少必选参数"), 0.0
        scenario = self.scenario_for(out_trade_no)
        if scenario.kind == FAILURE:
            return self._error("40004", scenario.error_code or "ACQ.ACCESS_FORBIDDEN", "无权限使用接口"), 0.0
        if out_trade_no not in self.trades:
            total = int(Decimal(str(biz["total_amount"])) * 100)
            self.trades[out_trade_no] = Trade(
                out_trade_no, app.app_id, total, "NOT_SCANNED", notify_url=params.get("notify_url", "")
            )
        return {
            "code": "10000",
            "msg": "Success",
            "out_trade_no": out_trade_no,
            "qr_code": f"https://qr.alipay.com/bax{secrets.token_hex(12)}",
        }, 0.0

    def _query(self, app: App, biz: dict[str, str], params: dict[str, str]) -> tuple[dict[str, str], float]:
        trade = self.trades.get(str(biz.get("out_trade_no") or ""))
        if trade is None or trade.app_id != app.app_id or trade.status == "NOT_SCANNED":
            return self._error("40004", "ACQ.TRADE_NOT_EXIST", "交易不存在"), 0.0
        if trade.status == "WAIT_BUYER_PAY":
            if trade.queries_left > 0:
                trade.queries_left -= 1
            elif trade.then_paid:
                self._pay(trade)
            else:
                trade.status = "TRADE_CLOSED"
        if trade.status == "TRADE_SUCCESS":
            return {**self._paid(trade), "trade_status": "TRADE_SUCCESS"}, 0.0
        return {
            "code": "10000",
            "msg": "Success",
            "out_trade_no": trade.out_trade_no,
            "trade_no": trade.trade_no,
            "trade_status": trade.status,
            "total_amount": yuan(trade.total),
        }, 0.0

    def _cancel(self, app: App, biz: dict[str, str], params: dict[str, str]) -> tuple[dict[str, str], float]:
        trade = self.trades.get(str(biz.get("out_trade_no") or ""))
        if trade is None:
            return self._error("40004", "ACQ.TRADE_NOT_EXIST", "交易不存在"), 0.0
        action = "close"
        if trade.status == "TRADE_SUCCESS":  # cancelling a paid trade gives the money back
            action = "refund"
            self.ledger.movements.append(Movement(trade.out_trade_no, -trade.total, "reversal"))
        trade.status = "TRADE_CLOSED"
        return {
            "code": "10000",
            "msg": "Success",
            "out_trade_no": trade.out_trade_no,
            "trade_no": trade.trade_no,
            "retry_flag": "N",
            "action": action,
        }, 0.0

    def _refund(self, app: App, biz: dict[str, str], params: dict[str, str]) -> tuple[dict[str, str], float]:
        trade = self.trades.get(str(biz.get("out_trade_no") or ""))
        if trade is None or trade.status != "TRADE_SUCCESS":
            return self._error("40004", "ACQ.TRADE_STATUS_ERROR", "交易状态不合法"), 0.0
        number = str(biz.get("out_request_no") or trade.out_trade_no)
        amount = int(Decimal(str(biz.get("refund_amount"))) * 100)
        scenario = self.scenario_for(number)
        if number not in trade.refunds:
            if scenario.kind == FAILURE:
                return self._error("40004", scenario.error_code or "ACQ.SELLER_BALANCE_NOT_ENOUGH", "卖家余额不足"), 0.0
            if amount + sum(trade.refunds.values()) > trade.total:
                return self._error("40004", "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL", "退款金额超限"), 0.0
            trade.refunds[number] = amount
            self.ledger.movements.append(Movement(trade.out_trade_no, -amount, f"refund:{number}"))
        return {
            "code": "10000",
            "msg": "Success",
            "trade_no": trade.trade_no,
            "out_trade_no": trade.out_trade_no,
            "fund_change": "Y",
            "refund_fee": yuan(sum(trade.refunds.values())),
        }, (scenario.delay if scenario.kind == TIMEOUT else 0.0)

    def trade(self, out_trade_no: str) -> Trade | None:
        with self.lock:
            return self.trades.get(out_trade_no)
