"""One bill paid four ways at once through the orders API — cash with change, stored value, points and a
WeChat Pay payment code charged at the fake WeChat Pay (real HTTP, real signatures) — exact on every
ledger the payment touches: the bill and its tenders, the wallet and its entries, the points (redeemed and
earned), the shelf, the commission of the technician and of the seller, the client's history. Then the
gateway's notification arrives (and again, duplicated) through the real notify address and the till sends
the same request again with the same Idempotency-Key: nothing changes anywhere."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client as HttpClient
from django_tenants.utils import schema_context

from apps.crm.models import PurchaseLine
from apps.inventory.models import StockLevel, StockMovement
from apps.loyalty.models import PointsEntry, WalletEntry
from apps.payments.models import GatewayNotification, GatewayPayment
from apps.pos.models import Bill, CommissionEntry, CommissionMethod, CommissionScope, Tender
from apps.pos.services import bills as services
from apps.pos.services.commission import commission_rule_create
from apps.pos.tests.bills_support import member_bill, one, till_make, wallet_of
from apps.pos.tests.gateway_support import CODES, connect, takes_gateways
from tests.fixtures import api_token

FACIAL = 26820  # Li's facial at the gold price (90 % of ¥298)
SHAMPOOS = 19600  # two shampoos at ¥98 (no member price on products)
TOTAL = FACIAL + SHAMPOOS  # ¥464.20
CASH, HANDED, STORED, POINTS = 9920, 10000, 24000, 500  # 500 points are worth ¥5.00
WECHAT = TOTAL - CASH - STORED - POINTS  # ¥120.00


@pytest.fixture
def setup(alpha, fake_wechat, payment_key_pairs):
    with schema_context(alpha.schema):
        till = till_make()
        takes_gateways(till)
        connect("wechat", fake_wechat, payment_key_pairs)
        # the senior technician earns 15 % on facials; whoever sells the shampoo ¥5 a bottle
        commission_rule_create(
            scope=CommissionScope.SERVICE,
            service=till.facial,
            staff_level=till.senior,
            method=CommissionMethod.PERCENTAGE,
            rate_bp=1500,
            acting_user=None,
        )
        commission_rule_create(
            scope=CommissionScope.PRODUCT,
            product=till.shampoo,
            method=CommissionMethod.FIXED,
            fixed_amount=500,
            acting_user=None,
        )
        bill = member_bill(till)
        services.bill_line_add(bill=bill, item=till.facial, staff=one(till.li), acting_user=till.desk)
        services.bill_line_add(bill=bill, item=till.shampoo, quantity=2, staff=one(till.wang), acting_user=till.desk)
        bill.refresh_from_db()
        assert (bill.total, StockLevel.objects.get(location=till.location, product=till.shampoo).quantity) == (
            TOTAL,
            100,
        )
    desk = HttpClient(
        HTTP_HOST=alpha.host,
        HTTP_AUTHORIZATION=f"Bearer {api_token(alpha, till.desk.username)}",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    return {"till": till, "bill": bill, "desk": desk, "alpha": alpha, "fake": fake_wechat}


PAYMENTS = [
    {"method": "cash", "amount": CASH, "tendered": HANDED},
    {"method": "stored_value", "amount": STORED},
    {"method": "wechat", "amount": WECHAT, "auth_code": CODES["wechat"]},
    {"method": "points", "amount": POINTS, "points": POINTS},
]


def _pay(s: dict[str, Any]) -> Any:
    return s["desk"].post(
        f"/api/v1/orders/{s['bill'].pk}/pay/",
        {"payments": PAYMENTS},
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="four-ways-1",
    )


def _everything(s: dict[str, Any]) -> dict[str, Any]:
    """What the payment wrote, everywhere, to compare before and after the replays."""
    bill, till = s["bill"], s["till"]
    reference = f"bill:{bill.pk}"
    with schema_context(s["alpha"].schema):
        row = Bill.objects.get(pk=bill.pk)
        wallet = wallet_of(till.member)
        return {
            "bill": (row.status, row.paid_total, row.change_given, row.paid_at),
            "tenders": list(Tender.objects.filter(bill=bill).order_by("id").values_list("id", "method", "amount")),
            "wallet": (wallet.principal, wallet.bonus, wallet.points),
            "wallet entries": WalletEntry.objects.filter(wallet=wallet).count(),
            "points entries": PointsEntry.objects.filter(wallet=wallet).count(),
            "movements": StockMovement.objects.filter(reference=reference).count(),
            "on hand": StockLevel.objects.get(location=till.location, product=till.shampoo).quantity,
            "commission": CommissionEntry.objects.filter(bill=bill).count(),
            "purchases": PurchaseLine.objects.filter(visit_reference=reference).count(),
            "gateway payments": GatewayPayment.objects.count(),
        }


def test_one_bill_paid_by_cash_stored_value_wechat_and_points_at_once(setup):
    s, till, bill = setup, setup["till"], setup["bill"]

    # when the front desk takes the four tenders in one request, the client's WeChat payment code scanned
    response = _pay(s)

    # then the bill is paid, with the change from the cash
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["total"], body["paid_total"], body["due"], body["change_given"]) == (
        "paid",
        TOTAL,
        TOTAL,
        0,
        HANDED - CASH,
    )
    assert body["gateway"]["status"] == "succeeded"
    # each tender succeeded for its amount, the gateway's taken last
    assert [
        (t["method"], t["amount"], t["status"], t["tendered"], t["change"], t["points"]) for t in body["tenders"]
    ] == [
        ("cash", CASH, "succeeded", HANDED, 80, 0),
        ("stored_value", STORED, "succeeded", 0, 0, 0),
        ("points", POINTS, "succeeded", 0, 0, POINTS),
        ("wechat", WECHAT, "succeeded", 0, 0, 0),
    ]
    reference = f"bill:{bill.pk}"
    with schema_context(s["alpha"].schema):
        row = Bill.objects.get(pk=bill.pk)
        assert (row.status, row.paid_total, row.change_given) == ("paid", TOTAL, 80)
        assert row.paid_at is not None
        wechat = Tender.objects.get(bill=bill, method="wechat")
        assert wechat.provider_transaction_id
        # the fake charged the payment code once, for the gateway's part only
        assert s["fake"].ledger.charged(wechat.out_trade_no) == WECHAT
        assert s["fake"].ledger.charges(wechat.out_trade_no) == 1
        assert GatewayPayment.objects.get().out_trade_no == wechat.out_trade_no

        # the wallet paid ¥240 in proportion (¥1,000 principal, ¥200 bonus: 5 to 1), one entry for the bill
        wallet = wallet_of(till.member)
        assert (wallet.principal, wallet.bonus) == (80_000, 16_000)
        entries = list(WalletEntry.objects.filter(reference=reference))
        assert [
            (e.kind, e.amount, e.principal_delta, e.bonus_delta, e.principal_after, e.bonus_after) for e in entries
        ] == [("payment", -STORED, -20_000, -4_000, 80_000, 16_000)]
        # 500 points redeemed; 688 earned on the ¥459.20 not paid by points (×1.5 for gold, rounded down)
        points = list(PointsEntry.objects.filter(reference=reference).order_by("id"))
        assert [(p.kind, p.points, p.balance_after) for p in points] == [
            ("redeem", -POINTS, 0),
            ("earn_spend", 688, 688),
        ]
        assert wallet.points == 688

        # two shampoos left the shelf, in one movement
        assert StockLevel.objects.get(location=till.location, product=till.shampoo).quantity == 98
        movements = list(StockMovement.objects.filter(reference=reference))
        assert [(m.product_id, m.kind, m.quantity, m.quantity_after, m.location_id) for m in movements] == [
            (till.shampoo.pk, "sale", -2, 98, till.location.pk)
        ]

        # Li earned 15 % of the facial, Wang ¥5 a bottle
        earned = sorted(CommissionEntry.objects.filter(bill=bill).values_list("staff_id", "kind", "basis", "amount"))
        assert earned == sorted([(till.li.pk, "earned", FACIAL, 4023), (till.wang.pk, "earned", SHAMPOOS, 1000)])

        # the client's history has both lines, paid by the four tenders
        history = PurchaseLine.objects.filter(client=till.member, visit_reference=reference).order_by("id")
        assert [(p.item_name, p.kind, p.quantity, p.amount, p.staff_id, p.tender) for p in history] == [
            ("Facial", "service", 1, FACIAL, till.li.pk, "现金 + 储值 + 积分 + 微信支付"),
            ("Repair shampoo", "product", 2, SHAMPOOS, till.wang.pk, "现金 + 储值 + 积分 + 微信支付"),
        ]
    before = _everything(s)
    assert before["tenders"] and before["commission"] == 2 and before["purchases"] == 2

    # when WeChat Pay's notification of the payment arrives at the notify address, then again (a duplicate)
    with schema_context(s["alpha"].schema):
        number = Tender.objects.get(bill=bill, method="wechat").out_trade_no
    notification = s["fake"].notification(number)
    notified = [
        HttpClient(HTTP_HOST=s["alpha"].host).post("/payments/notify/wechat/", notification, content_type="text/xml")
        for _ in range(2)
    ]
    # and the till sends the same payment again with the same Idempotency-Key
    again = _pay(s)

    # then WeChat Pay is told SUCCESS each time, the notification is kept once and nothing else changed
    for answer in notified:
        assert answer.status_code == 200
        assert b"<return_code><![CDATA[SUCCESS]]></return_code>" in answer.content
    with schema_context(s["alpha"].schema):
        assert GatewayNotification.objects.count() == 1
    assert again.status_code == 200, again.content
    assert (again.json()["status"], again.json()["paid_total"]) == ("paid", TOTAL)
    assert again.json()["tenders"] == body["tenders"]
    assert _everything(s) == before
    assert s["fake"].ledger.charges(number) == 1
    assert len(s["fake"].ledger.movements) == 1
