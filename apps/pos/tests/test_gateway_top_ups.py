"""Stored-value top-ups paid by WeChat Pay and Alipay (``top_up_sell`` and ``POST /api/v1/clients/{id}/top-ups/``),
against the fake providers (real HTTP, real signatures): the client's payment code charged through the till's
gateway path, the wallet credited with the salon's top-up rule only once the gateway took the money, a client
still confirming settled later, a QR code settled by the notification, refusals that credit nothing, and
replays that charge once."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import timezone, translation
from django_tenants.utils import schema_context

from apps.core.errors import ServiceError
from apps.core.models import AuditEntry
from apps.loyalty.models import TopUpRule, WalletEntry
from apps.payments.models import GatewayPayment, MerchantAccount
from apps.payments.services import gateway_notification_handle, gateway_payments_reconcile
from apps.payments.testing.server import FAILURE, USER_PAYING, Scenario
from apps.pos.errors import PosError
from apps.pos.models import Bill, BillLine, BillStatus, Tender, TenderStatus
from apps.pos.services.gateway_tenders import gateway_tender_cancel, gateway_tender_refresh
from apps.pos.services.till_settings import pos_settings_update
from apps.pos.services.top_ups import TopUpSale, top_up_sell
from apps.pos.tests.bills_support import Till, api_client, till_make, wallet_of
from apps.pos.tests.gateway_support import CODES, connect, takes_gateways

AMOUNT = 100_000  # ¥1,000: the salon's rule gives ¥200 on top
BONUS = 20_000
# The member's wallet before: ¥1,000 principal and ¥200 bonus.
BEFORE = (100_000, 20_000)
AFTER = (200_000, 40_000)
NOTIFY = "http://alpha.localhost/payments/notify/{provider}/"
INVALID_CODE = "This is not a valid payment code: scan it again."
NO_CODE = "Scan the client's payment code, or show a QR code to scan."
CHARGE_CALLS = {"wechat": "pay/micropay", "alipay": "alipay.trade.pay"}


def _sell(till: Till, provider: str, *, key: str = "top-1", code: str | None = None, qr: bool = False) -> TopUpSale:
    return top_up_sell(
        client=till.member,
        amount=AMOUNT,
        method=provider,
        idempotency_key=key,
        acting_user=till.desk,
        auth_code="" if qr else (CODES[provider] if code is None else code),
        qr=qr,
        notify_url=NOTIFY.format(provider=provider) if qr else "",
    )


def _wallet(till: Till) -> tuple[int, int]:
    wallet = wallet_of(till.member)
    return (wallet.principal, wallet.bonus)


# --- the services ---------------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


@pytest.fixture
def till(provider):
    till = till_make()
    takes_gateways(till)
    TopUpRule.objects.create(pay_amount=AMOUNT, bonus_amount=BONUS)
    return till


def _credited_once(till: Till, bill: Bill) -> None:
    line = BillLine.objects.get(bill=bill)
    assert (line.kind, line.amount, line.top_up_bonus) == ("top_up", AMOUNT, BONUS)
    entry = WalletEntry.objects.get(reference=f"bill:{bill.pk}")
    assert (entry.kind, entry.principal_delta, entry.bonus_delta) == ("top_up", AMOUNT, BONUS)
    assert _wallet(till) == AFTER


def _nothing_credited(till: Till, bill: Bill) -> None:
    assert not WalletEntry.objects.filter(reference=f"bill:{bill.pk}").exists()
    assert BillLine.objects.get(bill=bill).top_up_bonus == 0
    assert _wallet(till) == BEFORE


def _nothing_written(till: Till, fake) -> None:
    assert not Bill.objects.exists()
    assert not Tender.objects.exists()
    assert not GatewayPayment.objects.exists()
    assert fake.ledger.calls == []
    assert _wallet(till) == BEFORE


def test_a_payment_code_top_up_credits_the_wallet_with_the_bonus_and_is_charged_once(provider, fake, till):
    # given a salon whose rule gives ¥200 on a ¥1,000 top-up
    # when the desk scans the client's payment code for a ¥1,000 top-up
    sale = _sell(till, provider)

    # then the gateway took ¥1,000 once, the bill is paid by that tender and the wallet has ¥1,200 more
    bill = Bill.objects.get()
    tender = Tender.objects.get(bill=bill)
    assert (sale.status, sale.bill.pk) == (TenderStatus.SUCCEEDED, bill.pk)
    assert (bill.status, bill.total, bill.paid_total, bill.client_id) == (
        BillStatus.PAID,
        AMOUNT,
        AMOUNT,
        till.member.pk,
    )
    assert (tender.method, tender.amount, tender.status) == (provider, AMOUNT, TenderStatus.SUCCEEDED)
    assert tender.provider_transaction_id
    assert fake.ledger.charged(tender.out_trade_no) == AMOUNT
    assert fake.ledger.charges(tender.out_trade_no) == 1
    _credited_once(till, bill)


def test_replaying_a_paid_top_up_charges_and_credits_nothing_again(provider, fake, till):
    # given a top-up paid by payment code
    first = _sell(till, provider)
    calls = len(fake.ledger.calls)

    # when the same request comes again (the tablet retried), even without the code
    again = _sell(till, provider, code="")

    # then it is the first sale: the gateway is not asked, nothing more is credited
    assert first.gateway is not None and again.gateway is not None
    assert again.gateway.is_replay
    assert (again.status, again.bill.pk, again.gateway.tender.pk) == (
        TenderStatus.SUCCEEDED,
        first.bill.pk,
        first.gateway.tender.pk,
    )
    assert len(fake.ledger.calls) == calls
    assert Bill.objects.count() == 1
    _credited_once(till, first.bill)


def test_a_client_confirming_is_pending_and_credited_only_when_the_reconciliation_finds_it_paid(provider, fake, till):
    # given a client who confirms on the phone only after a while
    fake.scenario(CODES[provider], Scenario(kind=USER_PAYING, pending_queries=3))

    # when the desk scans the code
    sale = _sell(till, provider)

    # then the top-up waits for the client: the bill open, nothing credited
    assert sale.status == TenderStatus.PENDING
    assert (sale.bill.status, sale.bill.paid_total) == (BillStatus.OPEN, 0)
    _nothing_credited(till, sale.bill)

    # when the reconciliation asks the gateway, which now has the money
    gateway_payments_reconcile(now=timezone.now() + datetime.timedelta(minutes=2))

    # then the tender is settled, the bill paid and the wallet credited with the bonus, once
    bill = Bill.objects.get(pk=sale.bill.pk)
    tender = Tender.objects.get(bill=bill)
    assert (tender.status, bill.status, bill.paid_total) == (TenderStatus.SUCCEEDED, BillStatus.PAID, AMOUNT)
    assert fake.ledger.charges(tender.out_trade_no) == 1
    _credited_once(till, bill)


def test_replaying_a_pending_top_up_asks_the_gateway_and_never_charges_twice(provider, fake, till):
    # given a top-up waiting for the client, who has confirmed since
    fake.scenario(CODES[provider], Scenario(kind=USER_PAYING, pending_queries=3))
    first = _sell(till, provider)
    assert first.status == TenderStatus.PENDING

    # when the tablet sends the same request again
    again = _sell(till, provider)

    # then the payment is asked about (not charged again) and the top-up is credited once
    assert (again.status, again.bill.pk) == (TenderStatus.SUCCEEDED, first.bill.pk)
    tender = Tender.objects.get(bill=first.bill)
    assert fake.ledger.charges(tender.out_trade_no) == 1
    assert [c for c in fake.ledger.calls if c in CHARGE_CALLS.values()] == [CHARGE_CALLS[provider]]
    assert Tender.objects.count() == 1
    _credited_once(till, first.bill)


def test_a_qr_top_up_is_credited_by_the_notification_once(provider, fake, till):
    # given a QR code shown for a ¥1,000 top-up
    sale = _sell(till, provider, qr=True)
    assert sale.status == TenderStatus.PENDING
    assert sale.gateway is not None and sale.gateway.code_url
    _nothing_credited(till, sale.bill)

    # when the client scans and pays it and the gateway's notification arrives, twice
    number = sale.gateway.tender.out_trade_no
    fake.pay_qr(number)
    body = fake.notification(number)
    gateway_notification_handle(provider=provider, body=body, headers={})
    gateway_notification_handle(provider=provider, body=body, headers={})

    # then the wallet is credited with the bonus, once
    bill = Bill.objects.get(pk=sale.bill.pk)
    assert (bill.status, bill.paid_total) == (BillStatus.PAID, AMOUNT)
    assert fake.ledger.charges(number) == 1
    _credited_once(till, bill)


def test_a_refused_code_credits_nothing_voids_the_top_up_and_its_replay_answers_the_same(provider, fake, till):
    # given a payment code the gateway refuses
    fake.scenario(CODES[provider], Scenario(kind=FAILURE, error_message="二维码已过期，请刷新再试"))

    # when the desk scans it
    sale = _sell(till, provider)

    # then the tender failed with the gateway's reason, the top-up's bill is voided and nothing is credited
    bill = Bill.objects.get()
    tender = Tender.objects.get(bill=bill)
    assert (sale.status, tender.status, tender.failure_message) == (
        TenderStatus.FAILED,
        TenderStatus.FAILED,
        "二维码已过期，请刷新再试",
    )
    assert (bill.status, bill.paid_total, bill.void_reason) == (
        BillStatus.VOIDED,
        0,
        "充值未支付：二维码已过期，请刷新再试",  # kept in the salon's language,
    )
    assert AuditEntry.objects.get(action="pos.bill_voided").actor_label == "system"
    assert fake.ledger.charged(tender.out_trade_no) == 0
    _nothing_credited(till, bill)

    # when the same request comes again: the same refusal, the gateway not asked again
    calls = len(fake.ledger.calls)
    again = _sell(till, provider)
    assert (again.status, again.bill.pk, again.bill.status) == (TenderStatus.FAILED, bill.pk, BillStatus.VOIDED)
    assert len(fake.ledger.calls) == calls
    _nothing_credited(till, bill)

    # and a new code under a new key is a new top-up, paid
    fake.scenario(CODES[provider], Scenario())
    paid = _sell(till, provider, key="top-2")
    assert (paid.status, paid.bill.status) == (TenderStatus.SUCCEEDED, BillStatus.PAID)
    assert _wallet(till) == AFTER


def test_a_client_who_gives_up_leaves_the_top_up_voided_and_nothing_credited(provider, fake, till):
    # given a client confirming on the phone, who gives up in the end
    fake.scenario(CODES[provider], Scenario(kind=USER_PAYING, pending_queries=3, then_paid=False))
    sale = _sell(till, provider)
    assert sale.status == TenderStatus.PENDING

    # when the till asks again
    tender = gateway_tender_refresh(tender=Tender.objects.get(bill=sale.bill))

    # then the tender failed and the top-up was not sold
    bill = Bill.objects.get(pk=sale.bill.pk)
    assert (tender.status, bill.status) == (TenderStatus.FAILED, BillStatus.VOIDED)
    assert fake.ledger.charged(tender.out_trade_no) == 0
    _nothing_credited(till, bill)


def test_a_cancelled_qr_top_up_is_voided_and_nothing_credited(provider, fake, till):
    sale = _sell(till, provider, qr=True)
    assert sale.gateway is not None

    tender = gateway_tender_cancel(tender=sale.gateway.tender, acting_user=till.desk)

    bill = Bill.objects.get(pk=sale.bill.pk)
    assert (tender.status, bill.status) == (TenderStatus.FAILED, BillStatus.VOIDED)
    _nothing_credited(till, bill)


def test_a_gateway_the_salon_does_not_take_is_refused_and_nothing_is_written(provider, fake, till):
    pos_settings_update(acting_user=till.owner, accepts_wechat=False, accepts_alipay=False)

    with pytest.raises(ServiceError) as refused:
        _sell(till, provider)

    assert (refused.value.code, refused.value.status) == (PosError.TENDER_NOT_ENABLED, 400)
    _nothing_written(till, fake)


def test_a_merchant_account_switched_off_is_refused_and_nothing_is_written(provider, fake, till):
    MerchantAccount.objects.filter(provider=provider).update(is_enabled=False)

    with pytest.raises(ServiceError) as refused:
        _sell(till, provider)

    assert (refused.value.code, str(refused.value.message)) == (
        PosError.GATEWAY_ACCOUNT_NOT_READY,
        "The salon's merchant account for this gateway is not set up or is off.",
    )
    _nothing_written(till, fake)


@pytest.mark.parametrize(
    ("code", "expected"),
    [("12345", PosError.GATEWAY_CODE_INVALID), ("", PosError.GATEWAY_CODE_REQUIRED)],
)
def test_an_invalid_or_missing_payment_code_is_refused_and_nothing_is_written(provider, fake, till, code, expected):
    with pytest.raises(ServiceError) as refused:
        _sell(till, provider, code=code)

    assert (refused.value.code, refused.value.status) == (expected, 400)
    _nothing_written(till, fake)


# --- the API --------------------------------------------------------------------------------------------------


@pytest.fixture
def api(alpha, fake_wechat, payment_key_pairs):
    with schema_context(alpha.schema):
        till = till_make()
        takes_gateways(till)
        connect("wechat", fake_wechat, payment_key_pairs)
        TopUpRule.objects.create(pay_amount=AMOUNT, bonus_amount=BONUS)
    return {"till": till, "desk": api_client(alpha, till.desk), "alpha": alpha, "fake": fake_wechat}


def _top_up(s, body: dict[str, Any], key: str = "tablet-1") -> Any:
    url = f"/api/v1/clients/{s['till'].member.pk}/top-ups/"
    return s["desk"].post(url, {"amount": AMOUNT, **body}, content_type="application/json", HTTP_IDEMPOTENCY_KEY=key)


def _api_wallet(s) -> tuple[int, int]:
    body = s["desk"].get(f"/api/v1/clients/{s['till'].member.pk}/wallet/").json()
    return (body["principal"], body["bonus"])


def test_api_a_payment_code_top_up_answers_201_with_the_wallet_credited_and_a_replay_charges_nothing(api):
    paid = _top_up(api, {"method": "wechat", "auth_code": CODES["wechat"]})
    again = _top_up(api, {"method": "wechat", "auth_code": CODES["wechat"]})

    assert paid.status_code == 201, paid.content
    body = paid.json()
    assert (body["principal"], body["bonus"], body["balance"]) == (200_000, 40_000, 240_000)
    assert (body["gateway"]["method"], body["gateway"]["status"], body["gateway"]["code_url"]) == (
        "wechat",
        "succeeded",
        "",
    )
    order = api["desk"].get(f"/api/v1/orders/{body['order']}/").json()
    assert (order["status"], order["paid_total"]) == ("paid", AMOUNT)
    assert [(t["method"], t["amount"], t["status"]) for t in order["tenders"]] == [("wechat", AMOUNT, "succeeded")]
    assert again.status_code == 201
    assert again.json() == body
    with schema_context(api["alpha"].schema):
        number = Tender.objects.get(bill_id=body["order"]).out_trade_no
    assert api["fake"].ledger.charges(number) == 1
    assert _api_wallet(api) == AFTER


def test_api_a_client_confirming_answers_202_and_the_refresh_credits_the_wallet(api):
    api["fake"].scenario(CODES["wechat"], Scenario(kind=USER_PAYING, pending_queries=3))

    waiting = _top_up(api, {"method": "wechat", "auth_code": CODES["wechat"]})

    assert waiting.status_code == 202, waiting.content
    body = waiting.json()
    assert (body["principal"], body["bonus"], body["gateway"]["status"]) == (*BEFORE, "pending")
    url = f"/api/v1/orders/{body['order']}/tenders/{body['gateway']['tender']}/refresh/"
    answered = api["desk"].post(url)
    assert answered.status_code == 200, answered.content
    assert (answered.json()["status"], answered.json()["gateway"]["status"]) == ("paid", "succeeded")
    assert _api_wallet(api) == AFTER


def test_api_a_qr_top_up_answers_202_with_the_code_to_show(api):
    shown = _top_up(api, {"method": "wechat", "qr": True})

    assert shown.status_code == 202, shown.content
    body = shown.json()
    assert body["gateway"]["status"] == "pending"
    assert body["gateway"]["code_url"].startswith("weixin://")
    assert _api_wallet(api) == BEFORE


def test_api_a_refused_code_answers_400_with_the_reason_and_credits_nothing(api):
    api["fake"].scenario(CODES["wechat"], Scenario(kind=FAILURE, error_message="余额不足"))

    refused = _top_up(api, {"method": "wechat", "auth_code": CODES["wechat"]})
    again = _top_up(api, {"method": "wechat", "auth_code": CODES["wechat"]})

    assert refused.status_code == 400, refused.content
    body = refused.json()
    assert (body["code"], body["detail"], body["gateway"]["status"]) == ("gateway_payment_failed", "余额不足", "failed")
    assert again.status_code == 400 and again.json() == body
    order = api["desk"].get(f"/api/v1/orders/{body['order']}/").json()
    assert (order["status"], order["paid_total"]) == ("voided", 0)
    assert _api_wallet(api) == BEFORE
    with schema_context(api["alpha"].schema):
        number = Tender.objects.get(bill_id=body["order"]).out_trade_no
    assert api["fake"].ledger.charged(number) == 0


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            {"method": "wechat", "auth_code": "12345"},
            {"auth_code": ["This is not a valid payment code: scan it again."]},
        ),
        ({"method": "wechat"}, {"auth_code": [NO_CODE]}),
        (
            {"method": "alipay", "auth_code": CODES["alipay"]},
            {"payments": ["The salon's merchant account for this gateway is not set up or is off."]},
        ),
    ],
)
def test_api_bad_gateway_top_ups_are_answered_400_and_write_nothing(api, body, expected):
    response = _top_up(api, body)

    assert (response.status_code, response.json()) == (400, expected)
    with schema_context(api["alpha"].schema):
        assert not Bill.objects.exists()
        assert not GatewayPayment.objects.exists()
    assert api["fake"].ledger.calls == []
    assert _api_wallet(api) == BEFORE


def test_api_a_gateway_the_salon_does_not_take_is_refused_and_writes_nothing(api):
    with schema_context(api["alpha"].schema):
        pos_settings_update(acting_user=api["till"].owner, accepts_wechat=False)

    response = _top_up(api, {"method": "wechat", "auth_code": CODES["wechat"]})

    assert (response.status_code, response.json()) == (
        400,
        {"payments": ["This salon does not take WeChat Pay at the till."]},
    )
    with schema_context(api["alpha"].schema):
        assert not Bill.objects.exists()
    assert _api_wallet(api) == BEFORE
