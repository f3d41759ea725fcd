"""Coupons on bills (POS-1, LOY-6): loyalty's best suggestion, the discount spread over the eligible lines
within the CHECKs, coupons dropped when they stop applying, redeemed once when the bill is paid."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.utils import translation

from apps.core.errors import ServiceError
from apps.loyalty.errors import LoyaltyError
from apps.loyalty.models import Coupon, CouponKind, CouponStatus
from apps.pos.errors import PosError
from apps.pos.models import BillCoupon, BillLine
from apps.pos.services import bill_coupons
from apps.pos.services import bills as services
from apps.pos.tests.bills_support import cash, coupon_for, member_bill, pay, till_make, walk_in_bill


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


@pytest.fixture
def till(in_alpha):
    return till_make()


def _lines(bill):
    return [(line.name, line.discount, line.amount) for line in BillLine.objects.filter(bill=bill).order_by("position")]


def test_the_best_coupon_is_suggested_and_spread_over_the_lines(till):
    # given a member's bill: a facial (¥268.20) and two shampoos (¥196), and two coupons
    bill = member_bill(till)
    services.bill_line_add(bill=bill, item=till.facial, acting_user=till.desk)
    services.bill_line_add(bill=bill, item=till.shampoo, quantity=2, acting_user=till.desk)
    small = coupon_for(till.member, value=3000, min_spend=20_000)
    big = coupon_for(till.member, kind=CouponKind.PERCENTAGE, value=20, max_discount=5000)
    # when the till asks for the best
    advice = bill_coupons.bill_coupon_suggest(bill=bill)
    # then 20% off capped at ¥50 wins over ¥30 off
    assert ([c.pk for c in advice.best], advice.best_discount) == ([big.pk], 5000)
    assert {o.coupon.pk: o.discount for o in advice.options} == {big.pk: 5000, small.pk: 3000}
    # when it is applied: ¥50 spread in proportion over ¥268.20 and ¥196 (largest remainder takes the odd fen)
    bill = bill_coupons.bill_coupon_apply(bill=bill, coupon=big, acting_user=till.desk)
    assert _lines(bill) == [("Facial", 2889, 23931), ("Repair shampoo", 2111, 17489)]
    assert (bill.subtotal, bill.discount_total, bill.total) == (46420, 5000, 41420)
    assert BillCoupon.objects.get(bill=bill).discount == 5000


def test_a_product_discount_touches_only_its_products(till):
    bill = member_bill(till)
    services.bill_line_add(bill=bill, item=till.facial, acting_user=till.desk)
    services.bill_line_add(bill=bill, item=till.shampoo, acting_user=till.desk)
    coupon = coupon_for(till.member, kind=CouponKind.PRODUCT_DISCOUNT, value=50, eligible_products=[till.shampoo])
    bill = bill_coupons.bill_coupon_apply(bill=bill, coupon=coupon, acting_user=till.desk)
    assert _lines(bill) == [("Facial", 0, 26820), ("Repair shampoo", 4900, 4900)]


def test_a_trial_voucher_goes_on_the_dearest_eligible_service(till):
    bill = member_bill(till)
    services.bill_line_add(bill=bill, item=till.cut, acting_user=till.desk)  # ¥108 (gold)
    services.bill_line_add(bill=bill, item=till.facial, acting_user=till.desk)  # ¥268.20
    trial = coupon_for(till.member, kind=CouponKind.SERVICE_TRIAL, value=990, eligible_services=[till.cut, till.facial])
    bill = bill_coupons.bill_coupon_apply(bill=bill, coupon=trial, acting_user=till.desk)
    assert _lines(bill) == [("Women's cut", 0, 10800), ("Facial", 25830, 990)]


def test_a_coupon_that_stops_applying_is_taken_off(till):
    bill = member_bill(till)
    services.bill_line_add(bill=bill, item=till.facial, acting_user=till.desk)
    shampoo = services.bill_line_add(bill=bill, item=till.shampoo, acting_user=till.desk)
    coupon = coupon_for(till.member, value=3000, min_spend=30_000)
    bill_coupons.bill_coupon_apply(bill=bill, coupon=coupon, acting_user=till.desk)
    # when the shampoo goes, the bill (¥268.20) is below the ¥300 minimum
    services.bill_line_remove(line=shampoo, acting_user=till.desk)
    bill.refresh_from_db()
    assert not BillCoupon.objects.filter(bill=bill).exists()
    assert (bill.discount_total, bill.total) == (0, 26820)
    assert _lines(bill) == [("Facial", 0, 26820)]


def test_coupons_that_do_not_apply_or_combine_are_refused(till):
    bill = member_bill(till)
    services.bill_line_add(bill=bill, item=till.shampoo, acting_user=till.desk)
    over = coupon_for(till.member, value=3000, min_spend=50_000)
    with pytest.raises(ServiceError) as raised:
        bill_coupons.bill_coupon_apply(bill=bill, coupon=over, acting_user=till.desk)
    assert raised.value.code == LoyaltyError.COUPON_MIN_SPEND
    first = coupon_for(till.member, value=1000)
    second = coupon_for(till.member, value=1000)
    bill_coupons.bill_coupon_apply(bill=bill, coupon=first, acting_user=till.desk)
    with pytest.raises(ServiceError) as together:
        bill_coupons.bill_coupon_apply(bill=bill, coupon=second, acting_user=till.desk)
    assert together.value.code == PosError.COUPON_NOT_TOGETHER
    others = coupon_for(till.plain, value=1000)
    with pytest.raises(ServiceError) as foreign:
        bill_coupons.bill_coupon_apply(bill=bill, coupon=others, acting_user=till.desk)
    assert foreign.value.code == PosError.COUPON_NOT_CLIENTS
    walk_in = walk_in_bill(till)
    with pytest.raises(ServiceError) as no_client:
        bill_coupons.bill_coupon_apply(bill=walk_in, coupon=first, acting_user=till.desk)
    assert no_client.value.code == PosError.COUPON_NEEDS_CLIENT
    assert list(BillCoupon.objects.values_list("coupon_id", flat=True)) == [first.pk]


def test_stacked_coupons_never_take_a_line_below_zero(till):
    # given two stackable ¥80-off coupons restricted to the shampoo (¥98)
    bill = member_bill(till)
    services.bill_line_add(bill=bill, item=till.facial, acting_user=till.desk)
    services.bill_line_add(bill=bill, item=till.shampoo, acting_user=till.desk)
    values = {"value": 8000, "stackable": True, "one_per_bill": False, "eligible_products": [till.shampoo]}
    first, second = coupon_for(till.member, **values), coupon_for(till.member, **values)
    bill_coupons.bill_coupon_apply(bill=bill, coupon=first, acting_user=till.desk)
    # when the second would take the shampoo below zero, it only takes what is left of it
    bill = bill_coupons.bill_coupon_apply(bill=bill, coupon=second, acting_user=till.desk)
    assert _lines(bill) == [("Facial", 0, 26820), ("Repair shampoo", 9800, 0)]
    assert sorted(BillCoupon.objects.filter(bill=bill).values_list("discount", flat=True)) == [1800, 8000]


def test_paying_redeems_the_coupon_and_removing_it_is_possible_before(till):
    bill = member_bill(till)
    services.bill_line_add(bill=bill, item=till.facial, acting_user=till.desk)
    coupon = coupon_for(till.member, value=3000)
    kept = coupon_for(till.member, kind=CouponKind.PERCENTAGE, value=10)
    bill_coupons.bill_coupon_apply(bill=bill, coupon=kept, acting_user=till.desk)
    bill_coupons.bill_coupon_remove(bill=bill, coupon=kept, acting_user=till.desk)
    bill = bill_coupons.bill_coupon_apply(bill=bill, coupon=coupon, acting_user=till.desk)
    pay(bill, cash(23820), by=till.desk)
    coupon.refresh_from_db()
    kept.refresh_from_db()
    assert (coupon.status, coupon.discount, coupon.redeemed_reference) == (
        CouponStatus.REDEEMED,
        3000,
        f"bill:{bill.pk}",
    )
    assert kept.status == CouponStatus.AVAILABLE


def test_a_coupon_used_elsewhere_meanwhile_refuses_the_payment(till):
    bill = member_bill(till)
    services.bill_line_add(bill=bill, item=till.facial, acting_user=till.desk)
    coupon = coupon_for(till.member, value=3000)
    bill_coupons.bill_coupon_apply(bill=bill, coupon=coupon, acting_user=till.desk)
    Coupon.objects.filter(pk=coupon.pk).update(status=CouponStatus.VOIDED)
    with pytest.raises(ServiceError) as raised:
        pay(bill, cash(23820), by=till.desk)
    assert raised.value.code == LoyaltyError.COUPON_NOT_AVAILABLE
    bill.refresh_from_db()
    assert (bill.status, bill.paid_total) == ("open", 0)


def test_apply_best_replaces_the_coupons(till):
    bill = member_bill(till)
    services.bill_line_add(bill=bill, item=till.facial, acting_user=till.desk)
    small = coupon_for(till.member, value=1000)
    big = coupon_for(till.member, value=5000)
    bill_coupons.bill_coupon_apply(bill=bill, coupon=small, acting_user=till.desk)
    bill = bill_coupons.bill_coupons_apply_best(bill=bill, acting_user=till.desk)
    assert list(BillCoupon.objects.filter(bill=bill).values_list("coupon_id", "discount")) == [(big.pk, 5000)]
    assert bill.total == 26820 - 5000
