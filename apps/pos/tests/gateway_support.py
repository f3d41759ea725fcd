"""Helpers of the gateway tender tests: a till whose salon takes WeChat Pay and Alipay, its merchant
accounts connected to the fake providers."""

from __future__ import annotations

from typing import Any

from apps.payments.tests.support import CODES, connect
from apps.pos.models import Bill
from apps.pos.services import bills as services
from apps.pos.services.checkout import TenderRequest
from apps.pos.services.gateway_tenders import GatewayTenderResult, bill_pay_gateway
from apps.pos.services.till_settings import pos_settings_update
from apps.pos.tests.bills_support import Till, member_bill, one

__all__ = ["CODES", "connect", "facial_bill", "gateway", "gateway_pay", "takes_gateways"]


def takes_gateways(till: Till) -> None:
    pos_settings_update(acting_user=till.owner, accepts_wechat=True, accepts_alipay=True)


def gateway(provider: str, amount: int) -> TenderRequest:
    return TenderRequest(method=provider, amount=amount)


def facial_bill(till: Till) -> Bill:
    """A member's bill of one facial: ¥268.20 for gold."""
    bill = member_bill(till)
    services.bill_line_add(bill=bill, item=till.facial, staff=one(till.li), acting_user=till.desk)
    bill.refresh_from_db()
    return bill


def gateway_pay(
    bill: Bill, *tenders: TenderRequest, by: Any, key: str = "gw-1", code: str = "", qr: bool = False
) -> GatewayTenderResult:
    provider = next(t.method for t in tenders if t.method in ("wechat", "alipay"))
    return bill_pay_gateway(
        bill=bill,
        tenders=list(tenders),
        idempotency_key=key,
        acting_user=by,
        auth_code="" if qr else (code or CODES[provider]),
        qr=qr,
        notify_url=f"http://alpha.localhost/payments/notify/{provider}/",
    )
