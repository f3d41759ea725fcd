"""WeChat Pay and Alipay tenders through the orders API, against the fake providers: 200 when paid, 202
while the client confirms, 400 when refused (the gateway's reason), replays charging once, refusals that
change nothing, and two cashiers charging one bill at the same moment."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django_tenants.utils import schema_context

from apps.core.errors import ServiceError
from apps.payments.models import GatewayPayment, MerchantAccount
from apps.payments.testing.server import FAILURE, USER_PAYING, Scenario
from apps.pos.errors import PosError
from apps.pos.models import Bill, Tender
from apps.pos.services.gateway_tenders import GatewayTenderResult
from apps.pos.tests.bills_support import api_client, till_make, wallet_of
from apps.pos.tests.gateway_support import CODES, connect, facial_bill, gateway, gateway_pay, takes_gateways
from tests.races import race, salon_for_races

TOTAL = 26820
INVALID_CODE = "This is not a valid payment code: scan it again."
NO_CODE = "Scan the client's payment code, or show a QR code to scan."


@pytest.fixture
def setup(alpha, fake_wechat, payment_key_pairs):
    with schema_context(alpha.schema):
        till = till_make()
        takes_gateways(till)
        connect("wechat", fake_wechat, payment_key_pairs)
        bill = facial_bill(till)
    return {"till": till, "desk": api_client(alpha, till.desk), "alpha": alpha, "bill": bill, "fake": fake_wechat}


def _pay(s, payments: list[dict[str, Any]], key: str = "tablet-1") -> Any:
    url = f"/api/v1/orders/{s['bill'].pk}/pay/"
    return s["desk"].post(url, {"payments": payments}, content_type="application/json", HTTP_IDEMPOTENCY_KEY=key)


def _nothing_paid(s) -> None:
    with schema_context(s["alpha"].schema):
        bill = Bill.objects.get(pk=s["bill"].pk)
        assert (bill.status, bill.paid_total) == ("open", 0)
        assert not Tender.objects.filter(bill=bill).exists()
        assert not GatewayPayment.objects.exists()
        wallet = wallet_of(s["till"].member)
        assert (wallet.principal, wallet.bonus) == (100_000, 20_000)
    assert s["fake"].ledger.movements == []


def test_a_payment_code_pays_the_order_and_a_replay_charges_nothing(setup):
    payments = [{"method": "wechat", "amount": TOTAL, "auth_code": CODES["wechat"]}]

    paid = _pay(setup, payments)
    again = _pay(setup, payments)

    assert paid.status_code == 200, paid.content
    body = paid.json()
    assert (body["status"], body["paid_total"], body["due"]) == ("paid", TOTAL, 0)
    assert body["gateway"]["status"] == "succeeded"
    assert [(t["method"], t["amount"], t["status"]) for t in body["tenders"]] == [("wechat", TOTAL, "succeeded")]
    assert again.status_code == 200
    assert again.json()["tenders"] == body["tenders"]
    with schema_context(setup["alpha"].schema):
        number = Tender.objects.get(bill=setup["bill"]).out_trade_no
    assert setup["fake"].ledger.charges(number) == 1


def test_a_client_confirming_is_answered_202_and_the_refresh_settles_it(setup):
    setup["fake"].scenario(CODES["wechat"], Scenario(kind=USER_PAYING, pending_queries=3))

    waiting = _pay(setup, [{"method": "wechat", "amount": TOTAL, "auth_code": CODES["wechat"]}])

    assert waiting.status_code == 202, waiting.content
    body = waiting.json()
    assert (body["status"], body["due"], body["gateway"]["status"]) == ("open", TOTAL, "pending")
    url = f"/api/v1/orders/{setup['bill'].pk}/tenders/{body['gateway']['tender']}/refresh/"
    answered = setup["desk"].post(url)
    assert answered.status_code == 200, answered.content
    assert (answered.json()["status"], answered.json()["gateway"]["status"]) == ("paid", "succeeded")


def test_a_refused_code_is_answered_400_with_the_gateways_reason_and_the_stored_value_kept(setup):
    setup["fake"].scenario(CODES["wechat"], Scenario(kind=FAILURE, error_message="二维码已过期，请刷新再试"))

    refused = _pay(
        setup,
        [
            {"method": "stored_value", "amount": 20000},
            {"method": "wechat", "amount": 6820, "auth_code": CODES["wechat"]},
        ],
    )

    assert refused.status_code == 400, refused.content
    body = refused.json()
    assert (body["code"], body["detail"]) == ("gateway_payment_failed", "二维码已过期，请刷新再试")
    assert (body["order"]["status"], body["order"]["paid_total"], body["order"]["due"]) == ("open", 20000, 6820)
    assert [(t["method"], t["status"]) for t in body["order"]["tenders"]] == [
        ("stored_value", "succeeded"),
        ("wechat", "failed"),
    ]
    # the client leaves: a manager voids the order, which gives the stored value back
    boss = api_client(setup["alpha"], setup["till"].manager)
    voided = boss.post(
        f"/api/v1/orders/{setup['bill'].pk}/void/", {"reason": "client left"}, content_type="application/json"
    )
    assert voided.status_code == 200, voided.content
    assert (voided.json()["status"], voided.json()["paid_total"], voided.json()["refunded_total"]) == (
        "voided",
        20000,
        20000,
    )
    with schema_context(setup["alpha"].schema):
        wallet = wallet_of(setup["till"].member)
        assert (wallet.principal, wallet.bonus) == (100_000, 20_000)


def test_a_qr_code_is_answered_with_its_address_and_can_be_cancelled(setup):
    shown = _pay(setup, [{"method": "wechat", "amount": TOTAL, "qr": True}])

    assert shown.status_code == 202, shown.content
    gateway_body = shown.json()["gateway"]
    assert gateway_body["code_url"].startswith("weixin://")
    url = f"/api/v1/orders/{setup['bill'].pk}/tenders/{gateway_body['tender']}/cancel/"
    cancelled = setup["desk"].post(url)
    assert cancelled.status_code == 200, cancelled.content
    assert (cancelled.json()["status"], cancelled.json()["due"], cancelled.json()["gateway"]["status"]) == (
        "open",
        TOTAL,
        "failed",
    )


@pytest.mark.parametrize(
    ("payment", "expected"),
    [
        ({"method": "wechat", "amount": TOTAL, "auth_code": "12345"}, {"auth_code": [INVALID_CODE]}),
        ({"method": "wechat", "amount": TOTAL}, {"auth_code": [NO_CODE]}),
        ({"method": "wechat", "amount": 100, "auth_code": CODES["wechat"]}, {"code": "tenders_do_not_sum"}),
        (
            {"method": "alipay", "amount": TOTAL, "auth_code": CODES["alipay"]},
            {"payments": ["The salon's merchant account for this gateway is not set up or is off."]},
        ),
    ],
)
def test_bad_gateway_payments_are_answered_400_and_change_nothing(setup, payment, expected):
    response = _pay(setup, [payment])

    assert response.status_code == 400, response.content
    body = response.json()
    assert {k: body.get(k) for k in expected} == expected, body
    _nothing_paid(setup)


def test_a_switched_off_account_is_answered_400_with_a_clear_message(setup):
    with schema_context(setup["alpha"].schema):
        MerchantAccount.objects.filter(provider="wechat").update(is_enabled=False)

    response = _pay(setup, [{"method": "wechat", "amount": TOTAL, "auth_code": CODES["wechat"]}])

    assert response.status_code == 400
    assert response.json() == {"payments": ["The salon's merchant account for this gateway is not set up or is off."]}
    _nothing_paid(setup)


# --- two cashiers at once ------------------------------------------------------------------------------------


@pytest.fixture
def race_salon(two_salons: Any, django_db_blocker: Any) -> Iterator[str]:
    with django_db_blocker.unblock(), salon_for_races("till-gw-race") as schema:
        yield schema


def test_two_cashiers_charging_one_bill_by_wechat_at_once_charge_it_once(race_salon, fake_wechat, payment_key_pairs):
    # given a bill of ¥268.20 in a salon that takes WeChat Pay
    with schema_context(race_salon):
        till = till_make()
        takes_gateways(till)
        connect("wechat", fake_wechat, payment_key_pairs)
        bill = facial_bill(till)
        desks = [till.desk, till.manager]
    codes = [CODES["wechat"], "134567890123456780"]

    # when two cashiers scan a payment code for it at the same moment
    def work(i: int) -> Any:
        return gateway_pay(bill, gateway("wechat", TOTAL), by=desks[i], key=f"till-{i}", code=codes[i])

    outcomes = race(race_salon, 2, work)

    # then one charge went through and the other was refused before reaching the gateway
    paid = [o for o in outcomes if isinstance(o, GatewayTenderResult)]
    refused = [o for o in outcomes if not isinstance(o, GatewayTenderResult)]
    assert len(paid) == 1 and paid[0].status == "succeeded", outcomes
    assert len(refused) == 1 and isinstance(refused[0], ServiceError), outcomes
    assert refused[0].code in (PosError.GATEWAY_PAYMENT_IN_PROGRESS, PosError.BILL_ALREADY_PAID)
    with schema_context(race_salon):
        assert Bill.objects.get(pk=bill.pk).paid_total == TOTAL
        assert Tender.objects.filter(bill=bill).count() == 1
        assert GatewayPayment.objects.count() == 1
    assert sum(1 for m in fake_wechat.ledger.movements if m.what == "charge") == 1
    assert sum(m.amount for m in fake_wechat.ledger.movements) == TOTAL


def test_a_refund_part_the_gateway_refused_is_shown_on_the_order_and_given_back_in_cash(
    setup, django_capture_on_commit_callbacks
):
    from apps.pos.models import RefundTender
    from apps.pos.services.cash import cash_session_open

    # given a paid order whose ¥50 refund the gateway refused
    assert _pay(setup, [{"method": "wechat", "amount": TOTAL, "auth_code": CODES["wechat"]}]).status_code == 200
    boss = api_client(setup["alpha"], setup["till"].manager)
    url = f"/api/v1/orders/{setup['bill'].pk}"
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        refunded = boss.post(
            f"{url}/refund/",
            {"amount": 5000, "reason": "towel burn"},
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY="r-1",
        )
    assert refunded.status_code == 201, refunded.content
    part_id = refunded.json()["tenders"][0]["part"]
    assert refunded.json()["tenders"][0]["status"] == "pending"
    with schema_context(setup["alpha"].schema):
        out_refund_no = RefundTender.objects.get(pk=part_id).out_refund_no
        setup["fake"].scenario(out_refund_no, Scenario(kind=FAILURE, error_message="商户余额不足"))
        for callback in callbacks:
            callback()
    # when the order is read
    order = boss.get(f"{url}/").json()
    # then the refund says which part failed and why
    assert [
        (p["method"], p["amount"], p["status"], p["failure_message"], p["attempts"], p["given_in_cash_at"])
        for p in order["refunds"][0]["tenders"]
    ] == [("wechat", 5000, "failed", "商户余额不足", 1, None)]
    # the front desk may not settle it; with no drawer open it cannot go out in cash
    desk_try = setup["desk"].post(f"{url}/refund-parts/{part_id}/cash/")
    assert desk_try.status_code == 403
    no_drawer = boss.post(f"{url}/refund-parts/{part_id}/cash/")
    assert (no_drawer.status_code, no_drawer.json()["code"]) == (409, "cash_session_required")
    # when the manager gives it back in cash out of an open drawer
    with schema_context(setup["alpha"].schema):
        cash_session_open(location=setup["bill"].location, opening_float=20_000, acting_user=setup["till"].manager)
    given = boss.post(f"{url}/refund-parts/{part_id}/cash/")
    # then
    assert given.status_code == 200, given.content
    part = given.json()["refunds"][0]["tenders"][0]
    assert (part["status"], part["given_in_cash_at"] is not None) == ("failed", True)
    again = boss.post(f"{url}/refund-parts/{part_id}/resend/")
    assert (again.status_code, again.json()["code"], again.json()["detail"]) == (
        409,
        "refund_part_not_failed",
        "Only a WeChat Pay or Alipay refund the gateway refused can be sent again or given back in cash.",
    )
    assert boss.post(f"/api/v1/orders/{setup['bill'].pk}/refund-parts/999999/cash/").status_code == 404
