"""A fake WeChat Pay (API v2) on 127.0.0.1: it checks each request's signature with the merchant's API key
(MD5 or HMAC-SHA256, as the request says) and signs its answers and notifications with it, as the real
service does. Signing here is written from WeChat Pay's rules, not with wechatpy, so a client that signs
wrongly is caught.

Scenarios per payment code or merchant number (``fake.scenario(key, Scenario(kind=…))``): success, user
paying (USERPAYING for N queries, then paid or PAYERROR), failure (AUTHCODEEXPIRE by default), timeout
(charged, answer late), system error (charged, SYSTEMERROR answered). Per refund number: success (refunded
at once), processing (PROCESSING for N refund queries, then SUCCESS or ``refund_status`` CHANGE /
REFUNDCLOSE), failure (NOTENOUGH), timeout, system error. ``fake.ledger`` records what moved.

With ``WeChatPayTLS`` (what the ``fake_wechat`` fixture uses) it serves HTTPS only, and ``secapi/*`` (refund,
reverse) needs the merchant's API certificate issued by the fake's "Tenpay" CA, as the real service does:
a request without one, or with another certificate, fails at TLS and is listed in
``fake.ledger.certificate_refused``.

Refund notifications are built as WeChat Pay sends them: ``req_info`` is the refund's fields as XML,
AES-256-ECB encrypted (PKCS#7) with the lower-case hex MD5 of the API key, base64 encoded.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import itertools
import secrets
import xml.etree.ElementTree as ET
import zoneinfo
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from apps.payments.testing.server import (
    FAILURE,
    PROCESSING,
    SYSTEM_ERROR,
    TIMEOUT,
    USER_PAYING,
    FakeServer,
    Movement,
    deliver,
    post,
    server_context,
)
from apps.payments.testing.tls import WeChatPayTLS

_BEIJING = zoneinfo.ZoneInfo("Asia/Shanghai")
_numbers = itertools.count(1)


def sign(fields: dict[str, str], api_key: str, sign_type: str = "MD5") -> str:
    """WeChat Pay v2: non-empty fields but sign, sorted, k=v joined by &, then &key=<API key>; MD5 or
    HMAC-SHA256 (keyed with the API key), upper-case hex."""
    text = "&".join(f"{k}={fields[k]}" for k in sorted(fields) if k != "sign" and fields[k] != "")
    text += f"&key={api_key}"
    if sign_type == "HMAC-SHA256":
        return hmac.new(api_key.encode(), text.encode(), hashlib.sha256).hexdigest().upper()
    return hashlib.md5(text.encode()).hexdigest().upper()  # noqa: S324 - WeChat Pay v2's own algorithm


def to_xml(fields: dict[str, str]) -> bytes:
    root = ET.Element("xml")
    for key, value in fields.items():
        ET.SubElement(root, key).text = str(value)
    return ET.tostring(root, encoding="utf-8")


def from_xml(body: bytes) -> dict[str, str]:
    root = ET.fromstring(body)  # noqa: S314 - our own client's requests
    return {child.tag: (child.text or "") for child in root}


def encrypt_req_info(fields: dict[str, str], api_key: str) -> str:
    """WeChat Pay v2's refund notification ``req_info``: the fields as ``<root>…</root>``, AES-256-ECB with
    PKCS#7 padding under the lower-case hex MD5 of the API key (32 ASCII bytes), base64."""
    root = ET.Element("root")
    for key, value in fields.items():
        ET.SubElement(root, key).text = str(value)
    plain = ET.tostring(root, encoding="utf-8")
    secret = hashlib.md5(api_key.encode()).hexdigest().encode()  # noqa: S324 - WeChat Pay v2's own scheme
    padder = padding.PKCS7(128).padder()
    padded = padder.update(plain) + padder.finalize()
    encryptor = Cipher(algorithms.AES(secret), modes.ECB()).encryptor()  # noqa: S305 - WeChat Pay v2's own scheme
    return base64.b64encode(encryptor.update(padded) + encryptor.finalize()).decode()


@dataclass
class Merchant:
    app_id: str
    mch_id: str
    api_key: str


@dataclass
class Order:
    out_trade_no: str
    mch_id: str
    total_fee: int
    trade_type: str  # MICROPAY or NATIVE
    state: str  # SUCCESS, USERPAYING, NOTPAY, PAYERROR, CLOSED, REVOKED, REFUND
    transaction_id: str = ""
    time_end: str = ""
    notify_url: str = ""
    code_url: str = ""
    queries_left: int = 0
    then_paid: bool = True
    refunds: list[str] = field(default_factory=list)  # refund numbers, in the order asked


# A refund that ended this way gave nothing back (CHANGE: the client's card refused it, left for the
# merchant to settle by hand; REFUNDCLOSE: closed).
REFUND_FAILED = frozenset({"CHANGE", "REFUNDCLOSE"})


@dataclass
class RefundRecord:
    out_refund_no: str
    out_trade_no: str
    amount: int  # fen
    refund_id: str
    status: str  # PROCESSING, SUCCESS, CHANGE, REFUNDCLOSE
    final_status: str = "SUCCESS"  # how a PROCESSING refund ends
    queries_left: int = 0  # refund queries answered PROCESSING before it ends
    success_time: str = ""
    notify_url: str = ""


class FakeWeChatPay(FakeServer):
    def __init__(self, tls: WeChatPayTLS | None = None) -> None:
        context = None
        if tls is not None:
            context = server_context(
                cert_file=tls.server_cert_file, key_file=tls.server_key_file, client_ca_file=tls.merchant_ca_file
            )
        super().__init__(tls=context, client_certificate_paths=("/secapi/",))
        self.merchants: dict[str, Merchant] = {}
        self.orders: dict[str, Order] = {}
        self.refunds: dict[str, RefundRecord] = {}

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}/"

    def add_merchant(self, *, app_id: str, mch_id: str, api_key: str) -> Merchant:
        merchant = Merchant(app_id, mch_id, api_key)
        with self.lock:
            self.merchants[mch_id] = merchant
        return merchant

    # --- what clients do ------------------------------------------------------------------------

    def _pay(self, order: Order) -> None:
        """The money moves (under the lock)."""
        order.state = "SUCCESS"
        order.transaction_id = f"42000{next(_numbers):023d}"
        order.time_end = datetime.datetime.now(tz=_BEIJING).strftime("%Y%m%d%H%M%S")
        self.ledger.movements.append(Movement(order.out_trade_no, order.total_fee, "charge"))

    def pay_qr(self, out_trade_no: str) -> Order:
        """The client scans the QR code of this order and pays."""
        with self.lock:
            order = self.orders[out_trade_no]
            if order.state == "NOTPAY":
                self._pay(order)
            return order

    # --- notifications --------------------------------------------------------------------------

    def notification(self, out_trade_no: str, *, api_key: str | None = None, total_fee: int | None = None) -> bytes:
        """The pay result notification of a paid order, signed with the merchant's API key (another key
        forges it; another amount makes it disagree with the order)."""
        with self.lock:
            order = self.orders[out_trade_no]
            merchant = self.merchants[order.mch_id]
            fields = {
                "appid": merchant.app_id,
                "mch_id": merchant.mch_id,
                "nonce_str": secrets.token_hex(16),
                "return_code": "SUCCESS",
                "result_code": "SUCCESS",
                "openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
                "is_subscribe": "N",
                "trade_type": order.trade_type,
                "bank_type": "CMC",
                "total_fee": str(order.total_fee if total_fee is None else total_fee),
                "cash_fee": str(order.total_fee),
                "fee_type": "CNY",
                "transaction_id": order.transaction_id,
                "out_trade_no": order.out_trade_no,
                "time_end": order.time_end,
            }
        fields["sign"] = sign(fields, api_key or merchant.api_key)
        return to_xml(fields)

    def send_notification(
        self,
        out_trade_no: str,
        *,
        times: int = 1,
        concurrently: bool = False,
        url: str = "",
        resolve: dict[str, str] | None = None,
    ) -> list[tuple[int, bytes]]:
        """POST the notification to the order's notify_url (or ``url``), ``times`` times."""
        body = self.notification(out_trade_no)
        target = url or self.orders[out_trade_no].notify_url
        return deliver(times, lambda: post(target, body, "text/xml", resolve=resolve), concurrently=concurrently)

    def refund_notification(
        self, out_refund_no: str, *, api_key: str | None = None, refund_fee: int | None = None
    ) -> bytes:
        """The refund result notification of a refund that ended (SUCCESS, CHANGE or REFUNDCLOSE): the outer
        XML is not signed, ``req_info`` is encrypted with the merchant's API key (another key forges it;
        another ``refund_fee`` makes it disagree with the refund)."""
        with self.lock:
            record = self.refunds[out_refund_no]
            assert record.status != "PROCESSING", "WeChat Pay notifies a refund once it ended"
            order = self.orders[record.out_trade_no]
            merchant = self.merchants[order.mch_id]
            info = {
                "transaction_id": order.transaction_id,
                "out_trade_no": order.out_trade_no,
                "refund_id": record.refund_id,
                "out_refund_no": record.out_refund_no,
                "total_fee": str(order.total_fee),
                "settlement_total_fee": str(order.total_fee),
                "refund_fee": str(record.amount if refund_fee is None else refund_fee),
                "settlement_refund_fee": str(record.amount if refund_fee is None else refund_fee),
                "refund_status": record.status,
                "refund_recv_accout": "支付用户的零钱",
                "refund_account": "REFUND_SOURCE_UNSETTLED_FUNDS",
                "refund_request_source": "API",
            }
            if record.success_time:
                info["success_time"] = record.success_time
            fields = {
                "return_code": "SUCCESS",
                "appid": merchant.app_id,
                "mch_id": merchant.mch_id,
                "nonce_str": secrets.token_hex(16),
                "req_info": encrypt_req_info(info, api_key or merchant.api_key),
            }
        return to_xml(fields)

    def send_refund_notification(
        self,
        out_refund_no: str,
        *,
        times: int = 1,
        concurrently: bool = False,
        url: str = "",
        resolve: dict[str, str] | None = None,
    ) -> list[tuple[int, bytes]]:
        """POST the refund notification to the refund's notify_url (or ``url``), ``times`` times."""
        body = self.refund_notification(out_refund_no)
        target = url or self.refunds[out_refund_no].notify_url
        return deliver(times, lambda: post(target, body, "text/xml", resolve=resolve), concurrently=concurrently)

    def finish_refund(self, out_refund_no: str, status: str = "SUCCESS") -> RefundRecord:
        """A refund under way ends now (SUCCESS gives the money back; CHANGE / REFUNDCLOSE give nothing)."""
        with self.lock:
            record = self.refunds[out_refund_no]
            if record.status == "PROCESSING":
                self._refund_end(record, status)
            return record

    def refund(self, out_refund_no: str) -> RefundRecord | None:
        with self.lock:
            return self.refunds.get(out_refund_no)

    # --- the API --------------------------------------------------------------------------------

    def handle(self, path: str, query: str, body: bytes, headers: dict[str, str]) -> tuple[int, str, bytes, float]:
        try:
            fields = from_xml(body)
        except ET.ParseError:
            return self._fail("XML格式错误")
        endpoint = path.strip("/")
        with self.lock:
            self.ledger.calls.append(endpoint)
            merchant = self.merchants.get(fields.get("mch_id", ""))
            if merchant is None or fields.get("appid") != merchant.app_id:
                self.ledger.rejected.append(endpoint)
                return self._fail("appid和mch_id不匹配")
            if fields.get("sign") != sign(fields, merchant.api_key, fields.get("sign_type") or "MD5"):
                self.ledger.rejected.append(endpoint)
                return self._fail("签名错误")
            action = {
                "pay/micropay": self._micropay,
                "pay/orderquery": self._orderquery,
                "pay/unifiedorder": self._unifiedorder,
                "pay/closeorder": self._closeorder,
                "secapi/pay/reverse": self._reverse,
                "secapi/pay/refund": self._refund,
                "pay/refundquery": self._refundquery,
            }.get(endpoint)
            if action is None:
                return self._fail("未知接口")
            answer, delay = action(merchant, fields)
        answer.update(
            {"return_code": "SUCCESS", "return_msg": "OK", "appid": merchant.app_id, "mch_id": merchant.mch_id}
        )
        answer["nonce_str"] = secrets.token_hex(16)
        answer["sign"] = sign(answer, merchant.api_key, fields.get("sign_type") or "MD5")
        return 200, "text/xml", to_xml(answer), delay

    @staticmethod
    def _fail(message: str) -> tuple[int, str, bytes, float]:
        """A refusal of the request itself: return_code FAIL, unsigned (as WeChat Pay does)."""
        return 200, "text/xml", to_xml({"return_code": "FAIL", "return_msg": message}), 0.0

    @staticmethod
    def _error(code: str, message: str = "") -> dict[str, str]:
        return {"result_code": "FAIL", "err_code": code, "err_code_des": message or code}

    def _paid_fields(self, order: Order) -> dict[str, str]:
        return {
            "result_code": "SUCCESS",
            "openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
            "trade_type": order.trade_type,
            "bank_type": "CMC",
            "total_fee": str(order.total_fee),
            "cash_fee": str(order.total_fee),
            "fee_type": "CNY",
            "transaction_id": order.transaction_id,
            "out_trade_no": order.out_trade_no,
            "time_end": order.time_end,
        }

    def _micropay(self, merchant: Merchant, fields: dict[str, str]) -> tuple[dict[str, str], float]:
        out_trade_no = fields["out_trade_no"]
        if out_trade_no in self.orders:
            order = self.orders[out_trade_no]
            if order.state == "SUCCESS":
                return self._paid_fields(order), 0.0
            return self._error("OUT_TRADE_NO_USED", "商户订单号重复"), 0.0
        scenario = self.scenario_for(fields.get("auth_code", ""), out_trade_no)
        if scenario.kind == FAILURE:
            return self._error(scenario.error_code or "AUTHCODEEXPIRE", scenario.error_message or "二维码已过期"), 0.0
        order = Order(out_trade_no, merchant.mch_id, int(fields["total_fee"]), "MICROPAY", "USERPAYING")
        self.orders[out_trade_no] = order
        if scenario.kind == USER_PAYING:
            order.queries_left, order.then_paid = scenario.pending_queries, scenario.then_paid
            return self._error("USERPAYING", "需要用户输入支付密码"), 0.0
        self._pay(order)
        if scenario.kind == SYSTEM_ERROR:
            return self._error("SYSTEMERROR", "系统超时"), 0.0
        return self._paid_fields(order), (scenario.delay if scenario.kind == TIMEOUT else 0.0)

    def _orderquery(self, merchant: Merchant, fields: dict[str, str]) -> tuple[dict[str, str], float]:
        order = self.orders.get(fields.get("out_trade_no", ""))
        if order is None or order.mch_id != merchant.mch_id:
            return self._error("ORDERNOTEXIST", "此交易订单号不存在"), 0.0
        if order.state == "USERPAYING":
            if order.queries_left > 0:
                order.queries_left -= 1
            elif order.then_paid:
                self._pay(order)
            else:
                order.state = "PAYERROR"
        if order.state in {"SUCCESS", "REFUND"}:
            return {**self._paid_fields(order), "trade_state": order.state, "trade_state_desc": "支付成功"}, 0.0
        return {
            "result_code": "SUCCESS",
            "out_trade_no": order.out_trade_no,
            "trade_state": order.state,
            "trade_state_desc": order.state,
        }, 0.0

    def _unifiedorder(self, merchant: Merchant, fields: dict[str, str]) -> tuple[dict[str, str], float]:
        out_trade_no = fields["out_trade_no"]
        scenario = self.scenario_for(out_trade_no)
        if fields.get("trade_type") != "NATIVE" or not fields.get("notify_url") or not fields.get("product_id"):
            return self._error("PARAM_ERROR", "参数错误"), 0.0
        if scenario.kind == FAILURE:
            return self._error(scenario.error_code or "NOAUTH", scenario.error_message or "商户无此接口权限"), 0.0
        order = self.orders.get(out_trade_no)
        if order is None:
            order = Order(
                out_trade_no,
                merchant.mch_id,
                int(fields["total_fee"]),
                "NATIVE",
                "NOTPAY",
                notify_url=fields["notify_url"],
                code_url=f"weixin://wxpay/bizpayurl?pr={secrets.token_urlsafe(6)}",
            )
            self.orders[out_trade_no] = order
        return {
            "result_code": "SUCCESS",
            "trade_type": "NATIVE",
            "prepay_id": f"wx{secrets.token_hex(15)}",
            "code_url": order.code_url,
        }, 0.0

    def _closeorder(self, merchant: Merchant, fields: dict[str, str]) -> tuple[dict[str, str], float]:
        order = self.orders.get(fields.get("out_trade_no", ""))
        if order is None:
            return self._error("ORDERNOTEXIST", "订单不存在"), 0.0
        if order.state == "SUCCESS":
            return self._error("ORDERPAID", "订单已支付"), 0.0
        order.state = "CLOSED"
        return {"result_code": "SUCCESS"}, 0.0

    def _reverse(self, merchant: Merchant, fields: dict[str, str]) -> tuple[dict[str, str], float]:
        order = self.orders.get(fields.get("out_trade_no", ""))
        if order is None:
            return {**self._error("ORDERNOTEXIST", "订单不存在"), "recall": "N"}, 0.0
        if order.state in {"SUCCESS", "REFUND"}:  # reversing a paid order gives the money back
            self.ledger.movements.append(Movement(order.out_trade_no, -order.total_fee, "reversal"))
        order.state = "REVOKED"
        return {"result_code": "SUCCESS", "recall": "N"}, 0.0

    def _refund_end(self, record: RefundRecord, status: str) -> None:
        """A refund ends (under the lock): SUCCESS gives the money back to the client."""
        record.status = status
        if status == "SUCCESS":
            record.success_time = datetime.datetime.now(tz=_BEIJING).strftime("%Y-%m-%d %H:%M:%S")
            movement = Movement(record.out_trade_no, -record.amount, f"refund:{record.out_refund_no}")
            self.ledger.movements.append(movement)

    def _refund(self, merchant: Merchant, fields: dict[str, str]) -> tuple[dict[str, str], float]:
        order = self.orders.get(fields.get("out_trade_no", ""))
        if order is None or order.mch_id != merchant.mch_id or order.state not in {"SUCCESS", "REFUND"}:
            return self._error("ORDERNOTEXIST", "订单不存在或未支付"), 0.0
        number, fee = fields["out_refund_no"], int(fields["refund_fee"])
        scenario = self.scenario_for(number)
        record = self.refunds.get(number)
        if record is None:
            if scenario.kind == FAILURE:
                return self._error(scenario.error_code or "NOTENOUGH", scenario.error_message or "余额不足"), 0.0
            taken = sum(self.refunds[n].amount for n in order.refunds if self.refunds[n].status not in REFUND_FAILED)
            if int(fields["total_fee"]) != order.total_fee or fee + taken > order.total_fee:
                return self._error("INVALID_REQUEST", "退款金额大于支付金额"), 0.0
            record = RefundRecord(
                number,
                order.out_trade_no,
                fee,
                refund_id=f"50000{next(_numbers):024d}",
                status="PROCESSING",
                notify_url=fields.get("notify_url", ""),
            )
            self.refunds[number] = record
            order.refunds.append(number)
            order.state = "REFUND"
            if scenario.kind == PROCESSING:
                record.queries_left, record.final_status = scenario.pending_queries, scenario.refund_status
            else:
                self._refund_end(record, "SUCCESS")
            if scenario.kind == SYSTEM_ERROR:
                return self._error("SYSTEMERROR", "系统超时"), 0.0
        elif record.amount != fee or record.out_trade_no != order.out_trade_no:
            return self._error("INVALID_REQUEST", "退款单号已用于其他退款"), 0.0
        return {
            "result_code": "SUCCESS",
            "transaction_id": order.transaction_id,
            "out_trade_no": order.out_trade_no,
            "out_refund_no": number,
            "refund_id": record.refund_id,
            "refund_fee": str(record.amount),
            "total_fee": str(order.total_fee),
            "cash_fee": str(order.total_fee),
        }, (scenario.delay if scenario.kind == TIMEOUT else 0.0)

    def _refundquery(self, merchant: Merchant, fields: dict[str, str]) -> tuple[dict[str, str], float]:
        """Refund query by refund number (or every refund of a payment): a refund under way moves on by one
        query each time, and ends as its scenario says."""
        if fields.get("out_refund_no"):
            record = self.refunds.get(fields["out_refund_no"])
            records = [record] if record is not None else []
        else:
            order = self.orders.get(fields.get("out_trade_no", ""))
            records = [self.refunds[n] for n in order.refunds] if order is not None else []
        records = [r for r in records if self.orders[r.out_trade_no].mch_id == merchant.mch_id]
        if not records:
            return self._error("REFUNDNOTEXIST", "退款订单查询失败"), 0.0
        order = self.orders[records[0].out_trade_no]
        answer = {
            "result_code": "SUCCESS",
            "transaction_id": order.transaction_id,
            "out_trade_no": order.out_trade_no,
            "total_fee": str(order.total_fee),
            "cash_fee": str(order.total_fee),
            "refund_count": str(len(records)),
        }
        for n, record in enumerate(records):
            if record.status == "PROCESSING":
                if record.queries_left > 0:
                    record.queries_left -= 1
                else:
                    self._refund_end(record, record.final_status)
            answer |= {
                f"out_refund_no_{n}": record.out_refund_no,
                f"refund_id_{n}": record.refund_id,
                f"refund_channel_{n}": "ORIGINAL",
                f"refund_fee_{n}": str(record.amount),
                f"refund_status_{n}": record.status,
                f"refund_account_{n}": "REFUND_SOURCE_UNSETTLED_FUNDS",
                f"refund_recv_accout_{n}": "支付用户的零钱",
            }
            if record.success_time:
                answer[f"refund_success_time_{n}"] = record.success_time
        return answer, 0.0

    def order(self, out_trade_no: str) -> Any:
        with self.lock:
            return self.orders.get(out_trade_no)


def api_key() -> str:
    """A fresh 32-character API key, as set in the WeChat Pay merchant platform."""
    return secrets.token_hex(16)


def api_certificate() -> tuple[str, str]:
    """A certificate and its key that WeChat Pay did not issue (self-signed): a valid pair our account
    checks accept, which the fake refuses at TLS. For one it accepts, see ``tls.merchant_certificate``."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Tenpay.com Root CA test merchant")])
    now = datetime.datetime.now(tz=datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=365))  # as in tls.py: whatever the test clock says
        .not_valid_after(now + datetime.timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    return (
        certificate.public_bytes(serialization.Encoding.PEM).decode(),
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode(),
    )
