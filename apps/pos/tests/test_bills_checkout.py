"""Paying bills (POS-2): each tender, split tenders, what a paid bill sets off (exact on every ledger),
refusals that change nothing, replays, and the gateway hook."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.utils import translation

from apps.core.errors import ServiceError
from apps.crm.models import PurchaseLine
from apps.crm.services.clients import client_create
from apps.loyalty.errors import LoyaltyError
from apps.loyalty.models import (
    CourseCard,
    CourseCardBalance,
    CourseRedemption,
    PointsEntry,
    ReferralReward,
    TopUpRule,
    WalletEntry,
)
from apps.loyalty.services import _common as loyalty_common
from apps.loyalty.services.settings import loyalty_settings_update
from apps.pos.errors import PosError
from apps.pos.models import Bill, BillLine, BillStatus, Tender, TenderMethod, TenderStatus
from apps.pos.services import bills as services
from apps.pos.services import refunds
from apps.pos.services.checkout import TenderRequest, bill_tender_settle
from apps.pos.services.till_settings import pos_settings_update
from apps.pos.signals import bill_paid
from apps.pos.tests.bills_support import (
    cash,
    course_card_for,
    ledger_balanced,
    member_bill,
    one,
    pay,
    points_earned,
    stored_value,
    till_make,
    walk_in_bill,
    wallet_of,
)


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


@pytest.fixture
def till(in_alpha):
    return till_make()


def _three_lines(till, bill):
    """A facial by Li (¥268.20 for gold), a cut by Wang (¥108, gold's tier price), two shampoos (¥196)."""
    services.bill_line_add(bill=bill, item=till.facial, staff=one(till.li), acting_user=till.desk)
    services.bill_line_add(bill=bill, item=till.cut, staff=one(till.wang), acting_user=till.desk)
    services.bill_line_add(bill=bill, item=till.shampoo, quantity=2, acting_user=till.desk)
    bill.refresh_from_db()
    return bill


def _untouched(till, bill, *, principal=100_000, bonus=20_000, points=500):
    """Nothing happened: the bill is open with nothing paid, no tender, the wallet as seeded."""
    bill.refresh_from_db()
    wallet = wallet_of(till.member)
    assert (bill.status, bill.paid_total, bill.change_given) == ("open", 0, 0)
    assert not Tender.objects.filter(bill=bill).exists()
    assert (wallet.principal, wallet.bonus, wallet.points) == (principal, bonus, points)
    assert not WalletEntry.objects.filter(reference=f"bill:{bill.pk}").exists()
    assert not PurchaseLine.objects.filter(visit_reference=f"bill:{bill.pk}").exists()


# --- tenders ------------------------------------------------------------------------------------------


def test_cash_with_change(till):
    # given a walk-in's facial (¥298)
    bill = walk_in_bill(till)
    services.bill_line_add(bill=bill, item=till.facial, staff=one(till.li), acting_user=till.desk)
    # when the client hands over ¥300
    payment = pay(bill, cash(29800, tendered=30000), by=till.desk)
    # then the bill is paid with ¥2 change, by the front desk
    bill = payment.bill
    assert (bill.status, bill.paid_total, bill.change_given, bill.closed_by_id) == ("paid", 29800, 200, till.desk.pk)
    tender = Tender.objects.get(bill=bill)
    assert (tender.method, tender.amount, tender.tendered, tender.change, tender.status) == (
        "cash",
        29800,
        30000,
        200,
        "succeeded",
    )
    assert bill.paid_at is not None
    assert not PurchaseLine.objects.exists()  # a walk-in has no history


def test_split_cash_and_stored_value_is_exact_on_every_ledger(till, monkeypatch):
    # given a gold member's three-line bill of ¥572.20 and a counter on tier evaluations
    evaluations = []
    from apps.loyalty.services import tiers

    original = tiers.tier_on_spend
    monkeypatch.setattr(
        tiers, "tier_on_spend", lambda *, client: evaluations.append(client.pk) or original(client=client)
    )
    bill = _three_lines(till, member_bill(till))
    assert bill.total == 26820 + 10800 + 19600
    # when it is paid ¥200 in cash and ¥372.20 from stored value
    payment = pay(bill, cash(20000), stored_value(37220), by=till.desk)
    # then the bill is paid
    assert payment.completed and payment.bill.paid_total == 57220
    # stored value: ¥372.20 drawn in proportion from ¥1,000 principal and ¥200 bonus (bonus part rounded half up)
    wallet = wallet_of(till.member)
    entry = WalletEntry.objects.get(reference=f"bill:{bill.pk}")
    assert (entry.kind, entry.amount, entry.principal_delta, entry.bonus_delta) == ("payment", -37220, -31017, -6203)
    assert (wallet.principal, wallet.bonus) == (100_000 - 31017, 20_000 - 6203)
    # points: ¥572.20 × 1 point per yuan × gold's 1.5 = 858, in one earning
    assert points_earned(bill) == 858
    assert wallet.points == 500 + 858
    # the client's history: one line per bill line, the lead technician, the tenders
    history = list(PurchaseLine.objects.filter(visit_reference=f"bill:{bill.pk}").order_by("id"))
    assert [(p.item_name, p.amount, p.kind, p.quantity, p.staff_id) for p in history] == [
        ("Facial", 26820, "service", 1, till.li.pk),
        ("Women's cut", 10800, "service", 1, till.wang.pk),
        ("Repair shampoo", 19600, "product", 2, None),
    ]
    with translation.override("zh-hans"):  # the salon's language, whoever took the payment
        paid_by = f"{TenderMethod.CASH.label} + {TenderMethod.STORED_VALUE.label}"
    assert {p.tender for p in history} == {paid_by}
    # the tier was evaluated once for the bill, not once per line
    assert evaluations == [till.member.pk]
    assert ledger_balanced(till.member)


def test_points_pay_by_their_value_and_earn_nothing_on_what_they_paid(till):
    bill = member_bill(till)
    services.bill_line_add(bill=bill, item=till.shampoo, acting_user=till.desk)  # ¥98
    # when 300 points (¥3.00 at 100 points per ¥1) and ¥95 cash pay it
    pay(bill, TenderRequest(method="points", points=300), cash(9500), by=till.desk)
    tender = Tender.objects.get(bill=bill, method="points")
    assert (tender.amount, tender.points) == (300, 300)
    redeem = PointsEntry.objects.get(reference=f"bill:{bill.pk}", kind="redeem")
    assert redeem.points == -300
    # points are earned on the ¥95 of cash only: 95 × 1.5 = 142
    assert points_earned(bill) == 142
    assert wallet_of(till.member).points == 500 - 300 + 142
    assert ledger_balanced(till.member)


def test_points_that_are_not_worth_the_amount_are_refused(till):
    loyalty_settings_update(acting_user=None, points_value_fen=150)  # 100 points take ¥1.50 off
    bill = member_bill(till)
    services.bill_line_add(bill=bill, item=till.shampoo, acting_user=till.desk)
    with pytest.raises(ServiceError) as raised:
        pay(bill, TenderRequest(method="points", points=100, amount=100), cash(9700), by=till.desk)
    assert raised.value.code == PosError.POINTS_AMOUNT_MISMATCH
    assert raised.value.extra == {"points": 100, "value": 150}
    _untouched(till, bill)


def test_a_course_card_session_pays_for_a_service_line(till):
    card = course_card_for(till, till.member)
    bill = member_bill(till)
    facial = services.bill_line_add(bill=bill, item=till.facial, staff=one(till.li), acting_user=till.desk)
    services.bill_line_add(bill=bill, item=till.shampoo, acting_user=till.desk)
    # when the facial is paid by one session of the card and the shampoo in cash
    pay(bill, TenderRequest(method="course_card", course_card=card, bill_line=facial), cash(9800), by=till.desk)
    # then one session is used, recorded against Li at this location
    balance = CourseCardBalance.objects.get(card=card)
    assert (balance.sessions_total, balance.sessions_left) == (5, 4)
    session = CourseRedemption.objects.get(card=card, sessions=1)
    assert (session.staff_id, session.location_id, session.reference) == (
        till.li.pk,
        till.location.pk,
        f"bill:{bill.pk}",
    )
    tender = Tender.objects.get(bill=bill, method="course_card")
    assert (tender.amount, tender.bill_line_id, tender.course_card_id) == (26820, facial.pk, card.pk)
    # and points are earned on the cash only: 98 × 1.5 = 147
    assert points_earned(bill) == 147


def test_a_second_session_on_a_one_unit_line_is_refused(till):
    card = course_card_for(till, till.member)
    bill = member_bill(till)
    facial = services.bill_line_add(bill=bill, item=till.facial, acting_user=till.desk)
    session = TenderRequest(method="course_card", course_card=card, bill_line=facial)
    with pytest.raises(ServiceError) as raised:
        pay(bill, session, session, by=till.desk)
    assert raised.value.code == PosError.COURSE_LINE_COVERED
    assert CourseCardBalance.objects.get(card=card).sessions_left == 5


def test_a_top_up_line_credits_the_wallet_with_the_salons_rule(till):
    TopUpRule.objects.create(pay_amount=100_000, bonus_amount=20_000, name="充1000送200")
    bill = member_bill(till)
    line = services.bill_line_add(bill=bill, top_up_amount=100_000, acting_user=till.desk)
    pay(bill, cash(100_000), by=till.desk)
    line.refresh_from_db()
    assert line.top_up_bonus == 20_000
    top_up = WalletEntry.objects.get(idempotency_key=f"bill:{bill.pk}:line:{line.pk}")
    assert (top_up.kind, top_up.principal_delta, top_up.bonus_delta) == ("top_up", 100_000, 20_000)
    wallet = wallet_of(till.member)
    assert (wallet.principal, wallet.bonus) == (200_000, 40_000)
    assert points_earned(bill) == 0  # stored value earns points when it is spent
    assert PurchaseLine.objects.get(visit_reference=f"bill:{bill.pk}").kind == "top_up"


def test_stored_value_does_not_pay_for_a_top_up(till):
    bill = member_bill(till)
    services.bill_line_add(bill=bill, top_up_amount=50_000, acting_user=till.desk)
    with pytest.raises(ServiceError) as raised:
        pay(bill, stored_value(50_000), by=till.desk)
    assert raised.value.code == PosError.MEMBER_TENDERS_OVER_TOP_UP
    _untouched(till, bill)


def test_a_course_card_line_issues_the_card(till):
    bill = member_bill(till)
    line = services.bill_line_add(bill=bill, item=till.card_template, acting_user=till.desk)
    pay(bill, cash(120_000), by=till.desk)
    line.refresh_from_db()
    card = CourseCard.objects.get(pk=line.course_card_id)
    assert (card.client_id, card.price, card.reference, card.name) == (
        till.member.pk,
        120_000,
        f"bill:{bill.pk}",
        "Facial ×5",
    )
    assert CourseCardBalance.objects.get(card=card).sessions_left == 5


def test_the_one_time_code_when_the_salon_requires_it(till):
    loyalty_settings_update(acting_user=None, require_redemption_code=True)
    bill = member_bill(till)
    services.bill_line_add(bill=bill, item=till.shampoo, acting_user=till.desk)
    with pytest.raises(ServiceError) as raised:
        pay(bill, stored_value(9800), by=till.desk)
    assert raised.value.code == LoyaltyError.CODE_REQUIRED
    _untouched(till, bill)
    verified = loyalty_common.Verification(code_verified=True)
    pay(bill, TenderRequest(method="stored_value", amount=9800, verification=verified), by=till.desk, key="pay-2")
    assert Bill.objects.get(pk=bill.pk).status == BillStatus.PAID


def test_a_referred_clients_first_paid_bill_rewards_the_referrer_once(till):
    loyalty_settings_update(acting_user=None, referral_points=300)
    newcomer = client_create(name="张三", phone="+8613700001111", referrer=till.member, acting_user=None)
    for key in ("first", "second"):
        bill = services.bill_open(location=till.location, client=newcomer, acting_user=till.desk)
        services.bill_line_add(bill=bill, item=till.shampoo, acting_user=till.desk)
        pay(bill, cash(9800), by=till.desk, key=key)
    reward = ReferralReward.objects.get(referred=newcomer)
    assert (reward.referrer_id, reward.points) == (till.member.pk, 300)
    assert PointsEntry.objects.filter(wallet__client=till.member, kind="earn_referral").count() == 1


def test_bill_paid_is_sent_once_with_the_bill_lines_and_tenders(till):
    received = []

    def receiver(sender, **kwargs):
        received.append(kwargs)

    bill_paid.connect(receiver, dispatch_uid="test_bill_paid")
    try:
        bill = _three_lines(till, member_bill(till))
        payment = pay(bill, cash(20000), stored_value(37220), by=till.desk)
        pay(bill, cash(20000), stored_value(37220), by=till.desk)  # a replay sends nothing more
    finally:
        bill_paid.disconnect(dispatch_uid="test_bill_paid")
    assert len(received) == 1
    sent = received[0]
    assert sent["bill"].pk == bill.pk and sent["bill"].status == "paid"
    assert [line.pk for line in sent["lines"]] == list(BillLine.objects.filter(bill=bill).values_list("pk", flat=True))
    assert [t.pk for t in sent["tenders"]] == [t.pk for t in payment.tenders]
    assert sent["acting_user"] == till.desk
    assert [s.share for s in sent["lines"][0].staff_shares.all()] == [10000]


# --- refusals: nothing changed ------------------------------------------------------------------------


def test_amounts_that_do_not_add_up_are_refused(till):
    bill = _three_lines(till, member_bill(till))
    with pytest.raises(ServiceError) as raised:
        pay(bill, cash(20000), stored_value(30000), by=till.desk)
    assert raised.value.code == PosError.TENDERS_DO_NOT_SUM
    assert raised.value.extra == {"due": 57220, "entered": 50000}
    _untouched(till, bill)


def test_tenders_the_salon_has_not_enabled_are_refused(till):
    pos_settings_update(acting_user=None, accepts_stored_value=False)
    bill = _three_lines(till, member_bill(till))
    with pytest.raises(ServiceError) as raised:
        pay(bill, cash(20000), stored_value(37220), by=till.desk)
    assert raised.value.code == PosError.TENDER_NOT_ENABLED
    assert raised.value.message == "This salon does not take Stored value at the till."
    _untouched(till, bill)


def test_gateways_are_refused_until_they_are_connected(till):
    bill = walk_in_bill(till)
    services.bill_line_add(bill=bill, item=till.shampoo, acting_user=till.desk)
    wechat = TenderRequest(method="wechat", amount=9800)
    with pytest.raises(ServiceError) as off:
        pay(bill, wechat, by=till.desk)
    assert off.value.code == PosError.TENDER_NOT_ENABLED
    pos_settings_update(acting_user=None, accepts_wechat=True)
    with pytest.raises(ServiceError) as unconnected:
        pay(bill, wechat, by=till.desk)
    assert unconnected.value.code == PosError.TENDER_NOT_CONNECTED
    assert not Tender.objects.filter(bill=bill).exists()


def test_a_short_balance_is_refused(till):
    bill = member_bill(till)
    services.bill_line_add(bill=bill, item=till.card_template, acting_user=till.desk)  # ¥1,200: the whole balance
    services.bill_line_add(bill=bill, item=till.shampoo, acting_user=till.desk)
    with pytest.raises(ServiceError) as raised:
        pay(bill, stored_value(129_800), by=till.desk)
    assert raised.value.code == LoyaltyError.INSUFFICIENT_BALANCE
    _untouched(till, bill)


def test_member_tenders_need_a_client(till):
    bill = walk_in_bill(till)
    services.bill_line_add(bill=bill, item=till.shampoo, acting_user=till.desk)
    with pytest.raises(ServiceError) as raised:
        pay(bill, stored_value(9800), by=till.desk)
    assert raised.value.code == PosError.TENDER_NEEDS_CLIENT


def test_cash_handed_over_below_its_amount_is_refused(till):
    bill = walk_in_bill(till)
    services.bill_line_add(bill=bill, item=till.shampoo, acting_user=till.desk)
    with pytest.raises(ServiceError) as raised:
        pay(bill, cash(9800, tendered=5000), by=till.desk)
    assert raised.value.code == PosError.CASH_TENDERED_SHORT
    assert not Tender.objects.exists()


def test_a_paid_or_voided_bill_is_not_paid_again(till):
    paid = walk_in_bill(till)
    services.bill_line_add(bill=paid, item=till.shampoo, acting_user=till.desk)
    pay(paid, cash(9800), by=till.desk)
    with pytest.raises(ServiceError) as again:
        pay(paid, cash(9800), by=till.desk, key="other")
    assert (again.value.code, again.value.status) == (PosError.BILL_ALREADY_PAID, 409)
    voided = walk_in_bill(till)
    services.bill_line_add(bill=voided, item=till.shampoo, acting_user=till.desk)
    refunds.bill_void(bill=voided, reason="test", acting_user=till.manager)
    with pytest.raises(ServiceError) as closed:
        pay(voided, cash(9800), by=till.desk)
    assert (closed.value.code, closed.value.status) == (PosError.BILL_NOT_OPEN, 409)
    assert Tender.objects.filter(bill__in=[paid, voided]).count() == 1


def test_an_empty_bill_and_a_technician_cannot_be_paid(till):
    bill = walk_in_bill(till)
    with pytest.raises(ServiceError) as empty:
        pay(bill, cash(100), by=till.desk)
    assert empty.value.code == PosError.BILL_EMPTY
    services.bill_line_add(bill=bill, item=till.shampoo, acting_user=till.desk)
    with pytest.raises(ServiceError) as denied:
        pay(bill, cash(9800), by=till.li)
    assert (denied.value.code, denied.value.status) == (PosError.PERMISSION_DENIED, 403)


def test_a_tender_failing_after_another_leaves_every_ledger_as_it_was(till):
    # given a bill paid by stored value (which succeeds) and then by more points than the client holds
    bill = _three_lines(till, member_bill(till))
    too_many = TenderRequest(method="points", points=1000)
    # when the payment is tried: the stored value is taken, then the points fail
    with pytest.raises(ServiceError) as raised:
        pay(bill, stored_value(56220), too_many, by=till.desk)
    # then the whole payment is undone: the stored value is back, no ledger entry, no tender
    assert raised.value.code == LoyaltyError.INSUFFICIENT_POINTS
    _untouched(till, bill)
    assert not PointsEntry.objects.filter(reference=f"bill:{bill.pk}").exists()
    assert ledger_balanced(till.member)


# --- replays ------------------------------------------------------------------------------------------


def test_a_replay_returns_the_first_payment_and_doubles_nothing(till):
    bill = _three_lines(till, member_bill(till))
    first = pay(bill, cash(20000), stored_value(37220), by=till.desk, key="tablet-7")
    again = pay(bill, cash(20000), stored_value(37220), by=till.desk, key="tablet-7")
    assert again.is_replay and [t.pk for t in again.tenders] == [t.pk for t in first.tenders]
    assert Tender.objects.filter(bill=bill).count() == 2
    assert WalletEntry.objects.filter(reference=f"bill:{bill.pk}").count() == 1
    assert PointsEntry.objects.filter(reference=f"bill:{bill.pk}").count() == 1
    assert PurchaseLine.objects.filter(visit_reference=f"bill:{bill.pk}").count() == 3
    with pytest.raises(ServiceError) as reused:
        pay(bill, cash(57220), by=till.desk, key="tablet-7")
    assert (reused.value.code, reused.value.status) == (PosError.KEY_REUSED, 409)


# --- the gateway hook ---------------------------------------------------------------------------------


def test_a_settled_gateway_tender_completes_the_bill_once(till):
    # given a bill of ¥298 with ¥100 paid in cash while ¥198 by WeChat Pay waits for the client
    # (the row the gateway writes when it starts a payment)
    pos_settings_update(acting_user=None, accepts_wechat=True)
    bill = member_bill(till)
    services.bill_line_add(bill=bill, item=till.facial, acting_user=till.desk)
    bill.refresh_from_db()
    pending = Tender.objects.create(
        bill=bill,
        method=TenderMethod.WECHAT,
        amount=bill.total - 10000,
        idempotency_key=f"{bill.pk}:wx:1",
        out_trade_no=f"B{bill.pk}W1",
    )
    pay(bill, cash(10000), by=till.desk)
    assert Bill.objects.get(pk=bill.pk).status == "open"
    with pytest.raises(ServiceError) as held:
        services.bill_line_add(bill=bill, item=till.cut, acting_user=till.desk)
    assert held.value.code == PosError.BILL_HAS_PAYMENTS
    # when the gateway says it is paid, twice
    settled = bill_tender_settle(tender=pending, provider_transaction_id="4200001")
    again = bill_tender_settle(tender=pending, provider_transaction_id="4200001")
    # then the bill is paid once, with points earned once
    assert (settled.status, settled.paid_total, again.paid_total) == ("paid", 26820, 26820)
    assert Tender.objects.get(pk=pending.pk).status == TenderStatus.SUCCEEDED
    assert PointsEntry.objects.filter(reference=f"bill:{bill.pk}", kind="earn_spend").count() == 1
