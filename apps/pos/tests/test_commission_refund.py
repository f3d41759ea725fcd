"""Giving commission back when a paid bill is refunded (POS-4, POS-6): reversals in proportion to what was
refunded, exact over several partial refunds, idempotent, dated at the refund, and counted against the
month's volume of a tiered rule."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from django.db.models import Sum
from django.utils import translation

from apps.core.errors import ServiceError
from apps.pos.models import CommissionEntry, RefundStatus
from apps.pos.services.commission import (
    commission_record_for_bill,
    commission_reverse_for_refund,
    commission_rule_create,
)
from apps.pos.tests.factories_commission import (
    Line,
    bill_lines,
    paid_bill,
    product_make,
    refund_make,
    service_make,
    technician_make,
)

UTC = datetime.UTC
MARCH_5 = datetime.datetime(2026, 3, 5, 4, 0, tzinfo=UTC)
MARCH_6 = datetime.datetime(2026, 3, 6, 4, 0, tzinfo=UTC)
MARCH_9 = datetime.datetime(2026, 3, 9, 4, 0, tzinfo=UTC)
APRIL_1 = datetime.datetime(2026, 3, 31, 17, 0, tzinfo=UTC)  # 1 April 01:00 in Shanghai


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


@pytest.fixture
def shop(in_alpha):
    return SimpleNamespace(
        li=technician_make("Li"),
        wang=technician_make("Wang"),
        cut=service_make("Cut", price=3_333),
        gift=product_make("Gift", price=0),
    )


def rule(**values):
    return commission_rule_create(acting_user=None, **values)


def totals(**filters):
    return CommissionEntry.objects.filter(**filters).aggregate(
        basis=Sum("basis"), amount=Sum("amount"), quantity=Sum("quantity")
    )


@pytest.fixture
def three_cuts(shop):
    """Three cuts at ¥33.33 (¥99.99) shared 60/40 at 12.5 %: Li's part 5 999 earns 750, Wang's 4 000 earns 500."""
    rule(scope="default", method="percentage", rate_bp=1250)
    bill = paid_bill(
        lines=[Line(shop.cut, [(shop.li, 6_000, False), (shop.wang, 4_000, False)], quantity=3)], paid_at=MARCH_5
    )
    earned = commission_record_for_bill(bill=bill)
    assert [(e.basis, e.amount) for e in earned] == [(5_999, 750), (4_000, 500)]
    return SimpleNamespace(bill=bill, line=bill_lines(bill)[0], earned=earned)


def test_a_whole_refund_gives_back_exactly_what_was_earned(shop, three_cuts):
    # given the whole line refunded
    refund = refund_make(bill=three_cuts.bill, lines=[(three_cuts.line, 3, 9_999)], at=MARCH_9)
    # when
    reversals = commission_reverse_for_refund(refund=refund)
    # then
    assert [(r.kind, r.staff_id, r.basis, r.amount, r.quantity) for r in reversals] == [
        ("reversed", shop.li.pk, -5_999, -750, -3),
        ("reversed", shop.wang.pk, -4_000, -500, -3),
    ]
    assert [r.reverses_id for r in reversals] == [e.pk for e in three_cuts.earned]
    assert {(r.refund_id, r.rule_id, r.rate_bp, r.occurred_at, r.month) for r in reversals} == {
        (refund.pk, three_cuts.earned[0].rule_id, 1250, MARCH_9, datetime.date(2026, 3, 1))
    }
    assert totals(staff=shop.li) == {"basis": 0, "amount": 0, "quantity": 0}
    assert totals(staff=shop.wang) == {"basis": 0, "amount": 0, "quantity": 0}


def test_refunds_in_parts_add_up_to_the_whole(shop, three_cuts):
    # given one cut refunded, then the two others
    first = refund_make(bill=three_cuts.bill, lines=[(three_cuts.line, 1, 3_333)], at=MARCH_6)
    second = refund_make(bill=three_cuts.bill, lines=[(three_cuts.line, 2, 6_666)], at=MARCH_9)
    # when
    one = commission_reverse_for_refund(refund=first)
    two = commission_reverse_for_refund(refund=second)
    # then a third of each first (5 999 ÷ 3 = 1 999.67 → 2 000; 750 ÷ 3 = 250; 4 000 ÷ 3 → 1 333; 500 ÷ 3 → 167)
    assert [(r.basis, r.amount, r.quantity) for r in one] == [(-2_000, -250, -1), (-1_333, -167, -1)]
    # and the rest of it after, so that nothing is left
    assert [(r.basis, r.amount, r.quantity) for r in two] == [(-3_999, -500, -2), (-2_667, -333, -2)]
    assert totals(staff=shop.li) == {"basis": 0, "amount": 0, "quantity": 0}
    assert totals(staff=shop.wang) == {"basis": 0, "amount": 0, "quantity": 0}


def test_a_refund_of_part_of_the_amount_gives_back_that_part(shop, three_cuts):
    # given ¥10 given back on the line without any cut coming back
    refund = refund_make(bill=three_cuts.bill, lines=[(three_cuts.line, 0, 1_000)], at=MARCH_9)
    # when
    reversals = commission_reverse_for_refund(refund=refund)
    # then 1 000 / 9 999 of each: 5 999 → 600, 750 → 75; 4 000 → 400, 500 → 50
    assert [(r.basis, r.amount, r.quantity) for r in reversals] == [(-600, -75, 0), (-400, -50, 0)]


def test_a_line_that_cost_nothing_is_given_back_by_quantity(shop):
    # given ¥5 a unit on products and two free gifts sold by Li
    rule(scope="kind", line_kind="product", method="fixed", fixed_amount=500)
    bill = paid_bill(
        lines=[Line(shop.gift, [(shop.li, 10_000, False)], quantity=2), Line(shop.cut, [])], paid_at=MARCH_5
    )
    (earned,) = commission_record_for_bill(bill=bill)
    assert (earned.basis, earned.amount) == (0, 1_000)
    # and one gift brought back with the cut, which no staff member had a share of
    gift, cut = bill_lines(bill)
    refund = refund_make(bill=bill, lines=[(gift, 1, 0), (cut, 1, 3_333)], at=MARCH_9)
    # when
    (reversal,) = commission_reverse_for_refund(refund=refund)
    # then
    assert (reversal.basis, reversal.amount, reversal.quantity) == (0, -500, -1)


def test_reversing_twice_writes_nothing(shop, three_cuts):
    # given a reversed refund
    refund = refund_make(bill=three_cuts.bill, lines=[(three_cuts.line, 1, 3_333)], at=MARCH_9)
    assert len(commission_reverse_for_refund(refund=refund)) == 2
    # when
    again = commission_reverse_for_refund(refund=refund)
    # then
    assert again == []
    assert CommissionEntry.objects.filter(kind="reversed").count() == 2


@pytest.mark.parametrize("status", [RefundStatus.PENDING, RefundStatus.FAILED])
def test_a_refund_that_has_not_gone_through_is_refused(shop, three_cuts, status):
    refund = refund_make(bill=three_cuts.bill, lines=[(three_cuts.line, 3, 9_999)], at=MARCH_9, status=status)
    with pytest.raises(ServiceError) as refused:
        commission_reverse_for_refund(refund=refund)
    assert (refused.value.code.value, refused.value.status) == ("commission_refund_not_done", 409)
    assert refused.value.message == "Commission is given back once the refund has gone through."
    assert CommissionEntry.objects.filter(kind="reversed").count() == 0


def test_a_refund_of_lines_without_commission_writes_nothing(shop):
    # given a bill whose commission was never recorded
    bill = paid_bill(lines=[Line(shop.cut, [(shop.li, 10_000, False)])], paid_at=MARCH_5)
    refund = refund_make(bill=bill, lines=[(bill_lines(bill)[0], 1, 3_333)], at=MARCH_9)
    assert commission_reverse_for_refund(refund=refund) == []
    assert CommissionEntry.objects.count() == 0


def test_a_refund_next_month_counts_in_that_month(shop, three_cuts):
    refund = refund_make(bill=three_cuts.bill, lines=[(three_cuts.line, 3, 9_999)], at=APRIL_1)
    reversals = commission_reverse_for_refund(refund=refund)
    assert {(r.occurred_at, r.month) for r in reversals} == {(APRIL_1, datetime.date(2026, 4, 1))}
    assert totals(month=datetime.date(2026, 3, 1)) == {"basis": 9_999, "amount": 1_250, "quantity": 6}
    assert totals(month=datetime.date(2026, 4, 1)) == {"basis": -9_999, "amount": -1_250, "quantity": -6}


def test_a_refund_lowers_the_volume_that_tiers_see(shop):
    # given 10 % below ¥150 and 20 % from ¥150 of the month's volume; Li cut three times for ¥99.99
    rule(scope="default", method="tiered", tiers=[(0, 1000), (15_000, 2000)])
    bill = paid_bill(lines=[Line(shop.cut, [(shop.li, 10_000, False)], quantity=3)], paid_at=MARCH_5)
    (earned,) = commission_record_for_bill(bill=bill)
    assert (earned.volume, earned.amount) == (9_999, 1_000)
    # and two of them were refunded
    commission_reverse_for_refund(refund=refund_make(bill=bill, lines=[(bill_lines(bill)[0], 2, 6_666)], at=MARCH_6))
    # when Li does a ¥100 cut
    later = paid_bill(lines=[Line(shop.cut, [(shop.li, 10_000, False)], unit_price=10_000)], paid_at=MARCH_9)
    (entry,) = commission_record_for_bill(bill=later)
    # then her volume is 3 333 + 10 000, below the tier; the earlier entry keeps its rate
    assert (entry.volume, entry.rate_bp, entry.amount) == (13_333, 1000, 1_000)
