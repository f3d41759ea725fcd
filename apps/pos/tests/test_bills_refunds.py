"""Refunds (POS-4): whole or partial, back to the tenders that paid, never above what was paid; points,
sessions, coupons and course cards given back; refusals that change nothing; every ledger balanced."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.utils import translation

from apps.core.errors import ServiceError
from apps.core.models import AuditEntry
from apps.crm.models import PurchaseLine
from apps.loyalty.errors import LoyaltyError
from apps.loyalty.models import CouponStatus, CourseCard, CourseCardBalance, CourseCardStatus, PointsEntry
from apps.loyalty.services.courses import course_session_redeem
from apps.pos.errors import PosError
from apps.pos.models import Bill, BillLine, Refund, RefundTender, Tender
from apps.pos.services import bill_coupons
from apps.pos.services import bills as services
from apps.pos.services.checkout import TenderRequest
from apps.pos.services.refunds import RefundLineRequest, bill_refund, units_refund_amount
from apps.pos.signals import bill_refunded
from apps.pos.tests.bills_support import (
    cash,
    coupon_for,
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


def _paid_split(till):
    """A member's bill of ¥572.20 (facial ¥268.20, cut ¥108, 2 × shampoo ¥196) paid ¥200 cash + ¥372.20
    stored value, 858 points earned."""
    bill = member_bill(till)
    services.bill_line_add(bill=bill, item=till.facial, staff=one(till.li), acting_user=till.desk)
    services.bill_line_add(bill=bill, item=till.cut, staff=one(till.wang), acting_user=till.desk)
    services.bill_line_add(bill=bill, item=till.shampoo, quantity=2, acting_user=till.desk)
    bill.refresh_from_db()
    pay(bill, cash(20000), stored_value(37220), by=till.desk)
    bill.refresh_from_db()
    return bill, list(BillLine.objects.filter(bill=bill).order_by("position"))


def _refund(bill, by, key="refund-1", **kwargs):
    return bill_refund(bill=bill, reason="client unhappy", idempotency_key=key, acting_user=by, **kwargs)


def test_a_full_refund_gives_everything_back(till):
    # given a paid split bill
    bill, lines = _paid_split(till)
    assert points_earned(bill) == 858
    # when every line is refunded
    refund = _refund(bill, till.manager, lines=[RefundLineRequest(line, line.quantity) for line in lines])
    # then ¥372.20 goes back to stored value first, then ¥200 to cash, the bill is refunded
    parts = {part.tender.method: part.amount for part in RefundTender.objects.filter(refund=refund)}
    assert parts == {"stored_value": 37220, "cash": 20000}
    bill.refresh_from_db()
    assert (bill.status, bill.refunded_total, refund.amount) == ("refunded", 57220, 57220)
    # the wallet is as before the bill, points earned are taken back
    wallet = wallet_of(till.member)
    assert (wallet.principal, wallet.bonus, wallet.points) == (100_000, 20_000, 500)
    reversal = PointsEntry.objects.get(kind="earn_reversal")
    assert reversal.points == -858
    # every line is refunded whole, the client's history nets to zero
    assert [(line.refunded_quantity, line.refunded_amount) for line in BillLine.objects.filter(bill=bill)] == [
        (1, 26820),
        (1, 10800),
        (2, 19600),
    ]
    history = PurchaseLine.objects.filter(visit_reference=f"bill:{bill.pk}")
    assert sum(p.amount for p in history) == 0
    assert history.count() == 6
    assert Tender.objects.get(bill=bill, method="cash").refunded_amount == 20000
    entry = AuditEntry.objects.get(action="pos.bill_refunded")
    assert (entry.actor_id, entry.data["amount"], entry.data["reason"]) == (till.manager.pk, 57220, "client unhappy")
    assert ledger_balanced(till.member)


def test_a_partial_refund_by_units(till):
    bill, lines = _paid_split(till)
    shampoo = lines[2]
    # when one of the two shampoos comes back
    refund = _refund(bill, till.manager, lines=[RefundLineRequest(shampoo, 1)])
    # then ¥98 goes back to stored value, the bill stays paid with ¥98 refunded
    assert refund.amount == 9800
    assert [(p.tender.method, p.amount) for p in refund.tender_parts.all()] == [("stored_value", 9800)]
    bill.refresh_from_db()
    assert (bill.status, bill.refunded_total) == ("paid", 9800)
    shampoo.refresh_from_db()
    assert (shampoo.refunded_quantity, shampoo.refunded_amount) == (1, 9800)
    # points: 858 × 98 / 572.20 rounded down = 146 taken back
    assert PointsEntry.objects.get(kind="earn_reversal").points == -146
    # the second shampoo: the rest of the line
    _refund(bill, till.manager, key="refund-2", lines=[RefundLineRequest(shampoo, 1)])
    shampoo.refresh_from_db()
    assert (shampoo.refunded_quantity, shampoo.refunded_amount) == (2, 19600)
    assert ledger_balanced(till.member)


def test_a_refund_by_amount_is_spread_over_the_lines(till):
    bill, lines = _paid_split(till)
    refund = _refund(bill, till.manager, amount=10000)
    shares = {rl.bill_line_id: rl.amount for rl in refund.lines.all()}
    # ¥100 over ¥268.20, ¥108 and ¥196 in proportion
    assert shares == {lines[0].pk: 4687, lines[1].pk: 1888, lines[2].pk: 3425}
    assert sum(shares.values()) == 10000
    assert [rl.quantity for rl in refund.lines.all()] == [0, 0, 0]


def test_nothing_is_refunded_above_what_was_paid(till):
    bill, lines = _paid_split(till)
    with pytest.raises(ServiceError) as too_much:
        _refund(bill, till.manager, amount=57221)
    assert too_much.value.code == PosError.REFUND_TOO_LARGE
    with pytest.raises(ServiceError) as too_many:
        _refund(bill, till.manager, lines=[RefundLineRequest(lines[2], 3)])
    assert too_many.value.code == PosError.REFUND_TOO_LARGE
    _refund(bill, till.manager, amount=57220)
    with pytest.raises(ServiceError) as again:
        _refund(bill, till.manager, key="refund-2", amount=100)
    assert again.value.code == PosError.REFUND_TOO_LARGE
    assert Refund.objects.count() == 1


def test_refunds_need_the_permission_a_reason_and_a_paid_bill(till):
    bill, _lines = _paid_split(till)
    with pytest.raises(ServiceError) as denied:
        _refund(bill, till.desk, amount=100)
    assert (denied.value.code, denied.value.status) == (PosError.PERMISSION_DENIED, 403)
    with pytest.raises(ServiceError) as no_reason:
        bill_refund(bill=bill, reason="", idempotency_key="r", amount=100, acting_user=till.manager)
    assert no_reason.value.code == PosError.REASON_REQUIRED
    open_bill = walk_in_bill(till)
    with pytest.raises(ServiceError) as unpaid:
        _refund(open_bill, till.manager, amount=100)
    assert (unpaid.value.code, unpaid.value.status) == (PosError.REFUND_NOT_PAID, 409)
    assert not Refund.objects.exists()
    assert wallet_of(till.member).principal == 100_000 - 31017


def test_a_replayed_refund_gives_back_once(till):
    bill, _lines = _paid_split(till)
    first = _refund(bill, till.manager, amount=5000)
    again = _refund(bill, till.manager, amount=5000)
    assert again.pk == first.pk
    assert Bill.objects.get(pk=bill.pk).refunded_total == 5000


def test_points_come_back_whole_only(till):
    bill = member_bill(till)
    services.bill_line_add(bill=bill, item=till.shampoo, acting_user=till.desk)
    pay(bill, TenderRequest(method="points", points=300), cash(9500), by=till.desk)
    # a ¥2 refund cannot give back part of a ¥3 points redemption: it goes to cash
    small = _refund(bill, till.manager, amount=200)
    assert [(p.tender.method, p.amount) for p in small.tender_parts.all()] == [("cash", 200)]
    # the rest (¥96) covers the points whole (¥3) and ¥93 of cash
    rest = _refund(bill, till.manager, key="refund-2", amount=9600)
    assert sorted((p.tender.method, p.amount) for p in rest.tender_parts.all()) == [("cash", 9300), ("points", 300)]
    assert wallet_of(till.member).points == 500  # 300 back, the 142 earned taken back
    assert ledger_balanced(till.member)


def test_a_session_paid_line_gets_its_session_back(till):
    card = course_card_for(till, till.member)
    bill = member_bill(till)
    facial = services.bill_line_add(bill=bill, item=till.facial, staff=one(till.li), acting_user=till.desk)
    services.bill_line_add(bill=bill, item=till.shampoo, acting_user=till.desk)
    pay(bill, TenderRequest(method="course_card", course_card=card, bill_line=facial), cash(9800), by=till.desk)
    refund = _refund(bill, till.manager, lines=[RefundLineRequest(facial, 1)])
    assert [(p.tender.method, p.amount) for p in refund.tender_parts.all()] == [("course_card", 26820)]
    assert CourseCardBalance.objects.get(card=card).sessions_left == 5


def test_a_sold_course_card_is_voided_unless_used(till):
    bill = member_bill(till)
    line = services.bill_line_add(bill=bill, item=till.card_template, acting_user=till.desk)
    pay(bill, cash(120_000), by=till.desk)
    line.refresh_from_db()
    card = CourseCard.objects.get(pk=line.course_card_id)
    course_session_redeem(card=card, service=till.facial, idempotency_key="used-once")
    with pytest.raises(ServiceError) as used:
        _refund(bill, till.manager, lines=[RefundLineRequest(line, 1)])
    assert used.value.code == PosError.REFUND_COURSE_CARD_USED
    assert CourseCard.objects.get(pk=card.pk).status == CourseCardStatus.ACTIVE
    second = member_bill(till)
    line2 = services.bill_line_add(bill=second, item=till.card_template, acting_user=till.desk)
    pay(second, cash(120_000), by=till.desk)
    line2.refresh_from_db()
    _refund(second, till.manager, lines=[RefundLineRequest(line2, 1)])
    assert CourseCard.objects.get(pk=line2.course_card_id).status == CourseCardStatus.VOIDED


def test_a_top_up_is_not_refunded_from_the_bill(till):
    bill = member_bill(till)
    line = services.bill_line_add(bill=bill, top_up_amount=50_000, acting_user=till.desk)
    pay(bill, cash(50_000), by=till.desk)
    with pytest.raises(ServiceError) as raised:
        _refund(bill, till.manager, lines=[RefundLineRequest(line, 1)])
    assert raised.value.code == PosError.REFUND_TOP_UP
    with pytest.raises(ServiceError) as by_amount:
        _refund(bill, till.manager, amount=100)
    assert by_amount.value.code == PosError.REFUND_TOO_LARGE


def test_a_full_refund_gives_the_coupon_back(till):
    bill = member_bill(till)
    services.bill_line_add(bill=bill, item=till.facial, acting_user=till.desk)
    coupon = coupon_for(till.member, value=3000)
    bill_coupons.bill_coupon_apply(bill=bill, coupon=coupon, acting_user=till.desk)
    pay(bill, cash(23820), by=till.desk)
    _refund(bill, till.manager, amount=10000)
    coupon.refresh_from_db()
    assert coupon.status == CouponStatus.REDEEMED  # a partial refund keeps it used
    _refund(bill, till.manager, key="refund-2", amount=13820)
    coupon.refresh_from_db()
    assert (coupon.status, coupon.redeemed_reference) == (CouponStatus.AVAILABLE, "")


def test_a_refund_after_a_failed_payment_leaves_every_ledger_balanced(till):
    # given a payment that failed half-way (stored value taken, then too many points)
    bill = member_bill(till)
    services.bill_line_add(bill=bill, item=till.facial, acting_user=till.desk)
    with pytest.raises(ServiceError) as failed:
        pay(bill, stored_value(20000), TenderRequest(method="points", points=6820), by=till.desk, key="try-1")
    assert failed.value.code == LoyaltyError.INSUFFICIENT_POINTS
    # when it is paid properly, then refunded whole
    pay(bill, stored_value(20000), TenderRequest(method="points", points=300), cash(6520), by=till.desk, key="try-2")
    _refund(bill, till.manager, amount=26820)
    # then the wallet, its ledger and the points are exactly as before the visit
    wallet = wallet_of(till.member)
    assert (wallet.principal, wallet.bonus, wallet.points) == (100_000, 20_000, 500)
    assert ledger_balanced(till.member)
    bill.refresh_from_db()
    assert (bill.paid_total, bill.refunded_total, bill.status) == (26820, 26820, "refunded")
    assert sum(t.refunded_amount for t in Tender.objects.filter(bill=bill)) == 26820


def test_a_refund_failing_half_way_gives_nothing_back(till):
    # given a bill paid by stored value and a session of a card that was voided since
    card = course_card_for(till, till.member)
    bill = member_bill(till)
    facial = services.bill_line_add(bill=bill, item=till.facial, acting_user=till.desk)
    shampoo = services.bill_line_add(bill=bill, item=till.shampoo, acting_user=till.desk)
    pay(bill, TenderRequest(method="course_card", course_card=card, bill_line=facial), stored_value(9800), by=till.desk)
    CourseCard.objects.filter(pk=card.pk).update(status=CourseCardStatus.VOIDED)
    before = wallet_of(till.member)
    # when both lines are refunded: the stored value would go back, the session cannot
    with pytest.raises(ServiceError) as raised:
        _refund(bill, till.manager, lines=[RefundLineRequest(facial, 1), RefundLineRequest(shampoo, 1)])
    assert raised.value.code == LoyaltyError.COURSE_CARD_NOT_ACTIVE
    # then nothing was given back
    after = wallet_of(till.member)
    assert (after.principal, after.bonus) == (before.principal, before.bonus)
    assert not Refund.objects.exists()
    assert Bill.objects.get(pk=bill.pk).refunded_total == 0


def test_bill_refunded_is_sent_with_the_refund(till):
    received = []

    def receiver(sender, **kwargs):
        received.append(kwargs)

    bill, lines = _paid_split(till)
    bill_refunded.connect(receiver, dispatch_uid="test_bill_refunded")
    try:
        refund = _refund(bill, till.manager, lines=[RefundLineRequest(lines[0], 1)])
    finally:
        bill_refunded.disconnect(dispatch_uid="test_bill_refunded")
    assert len(received) == 1
    sent = received[0]
    assert (sent["bill"].pk, sent["refund"].pk, sent["acting_user"]) == (bill.pk, refund.pk, till.manager)
    assert [(rl.bill_line_id, rl.quantity, rl.amount) for rl in sent["lines"]] == [(lines[0].pk, 1, 26820)]
    assert [(t.tender.method, t.amount) for t in sent["tenders"]] == [("stored_value", 26820)]


def test_unit_amounts_add_up_to_the_line(till):
    line = BillLine(amount=1000, quantity=3, refunded_quantity=0, refunded_amount=0)
    first = units_refund_amount(line, 1)
    line.refunded_quantity, line.refunded_amount = 1, first
    second = units_refund_amount(line, 2)
    assert (first, second, first + second) == (333, 667, 1000)
