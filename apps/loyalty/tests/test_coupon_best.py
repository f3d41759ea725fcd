"""What each kind of coupon takes off a draft bill, why one does not apply, and the best combination."""

from __future__ import annotations

import datetime

import pytest

from apps.core.errors import ServiceError
from apps.loyalty.errors import LoyaltyError
from apps.loyalty.models import CouponKind
from apps.loyalty.services.coupon_pricing import DraftLine, coupon_best, coupon_quote
from apps.loyalty.tests.coupon_helpers import (
    TODAY,
    a_product,
    a_service,
    a_template,
    give,
    other_line,
    product_line,
    salon_day_fixture,  # noqa: F401  (registers the salon_day fixture)
    service_line,
)
from apps.loyalty.tests.helpers import a_client

pytestmark = pytest.mark.usefixtures("salon_day")


@pytest.fixture
def shop(in_alpha):
    """A client, two services and two products."""
    return {
        "client": a_client(),
        "cut": a_service("Women's cut", 12800),
        "colour": a_service("Full colour", 38800),
        "shampoo": a_product("Repair shampoo", 9800),
        "mask": a_product("Hair mask", 6800),
    }


def only(options):
    assert len(options) == 1
    return options[0].discount, options[0].reason_if_not_applicable


# --- each kind ---------------------------------------------------------------------------------


def test_money_off_applies_from_the_minimum_spend(shop):
    # given 满300减50
    give(a_template(CouponKind.MONEY_OFF, value=5000, min_spend=30000), shop["client"])
    # when / then: a ¥388 bill gets ¥50 off; a bill of exactly ¥300 too; ¥128 is below the threshold
    assert only(coupon_quote(client=shop["client"], lines=[service_line(shop["colour"])])) == (5000, None)
    assert only(coupon_quote(client=shop["client"], lines=[other_line(30000)])) == (5000, None)
    assert only(coupon_quote(client=shop["client"], lines=[service_line(shop["cut"])])) == (
        0,
        LoyaltyError.COUPON_MIN_SPEND,
    )


def test_money_off_on_named_items_never_exceeds_them(shop):
    # given ¥50 off the shampoo
    give(a_template(CouponKind.MONEY_OFF, value=5000, eligible_products=[shop["shampoo"]]), shop["client"])
    # when the bill has the shampoo at a promotional ¥30 and a cut
    lines = [product_line(shop["shampoo"], amount=3000), service_line(shop["cut"])]
    # then only the shampoo's ¥30 comes off
    assert only(coupon_quote(client=shop["client"], lines=lines)) == (3000, None)
    assert only(coupon_quote(client=shop["client"], lines=[service_line(shop["cut"])])) == (
        0,
        LoyaltyError.COUPON_NO_ELIGIBLE_ITEM,
    )


def test_percentage_takes_its_share_of_the_whole_bill_rounded_half_up(shop):
    # given 20% off (八折) for one client, 10% off for another
    give(a_template(CouponKind.PERCENTAGE, value=20), shop["client"])
    other = a_client("李娜", "13900139000")
    give(a_template(CouponKind.PERCENTAGE, value=10, name="10% off"), other)
    lines = [service_line(shop["cut"]), product_line(shop["shampoo"])]
    # then 20% of ¥226 is ¥45.20
    assert only(coupon_quote(client=shop["client"], lines=lines)) == (4520, None)
    # and 10% of ¥123.45 is ¥12.345, rounded half up to ¥12.35; 10% of ¥123.44 to ¥12.34
    assert only(coupon_quote(client=other, lines=[other_line(12345)])) == (1235, None)
    assert only(coupon_quote(client=other, lines=[other_line(12344)])) == (1234, None)


def test_percentage_is_capped_by_the_largest_discount(shop):
    give(a_template(CouponKind.PERCENTAGE, value=20, max_discount=3000), shop["client"])
    lines = [service_line(shop["cut"]), product_line(shop["shampoo"])]
    assert only(coupon_quote(client=shop["client"], lines=lines)) == (3000, None)


def test_percentage_on_named_services_counts_only_those(shop):
    give(a_template(CouponKind.PERCENTAGE, value=20, eligible_services=[shop["colour"]]), shop["client"])
    lines = [service_line(shop["cut"]), service_line(shop["colour"]), product_line(shop["shampoo"])]
    # 20% of the colour's ¥388
    assert only(coupon_quote(client=shop["client"], lines=lines)) == (7760, None)


def test_service_trial_charges_the_trial_price_for_one_session(shop):
    # given a ¥10 trial of the cut or the colour
    give(
        a_template(CouponKind.SERVICE_TRIAL, value=1000, eligible_services=[shop["cut"], shop["colour"]]),
        shop["client"],
    )
    # when two colours and a cut are on the bill
    lines = [service_line(shop["cut"]), service_line(shop["colour"], quantity=2)]
    # then one colour session costs ¥10: ¥388 − ¥10 off
    assert only(coupon_quote(client=shop["client"], lines=lines)) == (37800, None)
    assert only(coupon_quote(client=shop["client"], lines=[service_line(shop["cut"])])) == (11800, None)
    assert only(coupon_quote(client=shop["client"], lines=[product_line(shop["shampoo"])])) == (
        0,
        LoyaltyError.COUPON_NO_ELIGIBLE_ITEM,
    )


def test_service_trial_above_the_price_takes_nothing_off(shop):
    give(a_template(CouponKind.SERVICE_TRIAL, value=20000, eligible_services=[shop["cut"]]), shop["client"])
    assert only(coupon_quote(client=shop["client"], lines=[service_line(shop["cut"])])) == (0, None)


def test_product_discount_takes_its_percent_of_the_eligible_products(shop):
    # given 30% off the shampoo
    give(a_template(CouponKind.PRODUCT_DISCOUNT, value=30, eligible_products=[shop["shampoo"]]), shop["client"])
    lines = [product_line(shop["shampoo"], quantity=2), product_line(shop["mask"]), service_line(shop["cut"])]
    # then 30% of 2 × ¥98
    assert only(coupon_quote(client=shop["client"], lines=lines)) == (5880, None)
    assert only(coupon_quote(client=shop["client"], lines=[product_line(shop["mask"])])) == (
        0,
        LoyaltyError.COUPON_NO_ELIGIBLE_ITEM,
    )


def test_gift_applies_without_taking_money_off(shop):
    give(a_template(CouponKind.GIFT, gift="Travel-size conditioner", min_spend=10000), shop["client"])
    [option] = coupon_quote(client=shop["client"], lines=[service_line(shop["cut"])])
    assert (option.discount, option.applicable, option.coupon.template.gift) == (0, True, "Travel-size conditioner")
    assert only(coupon_quote(client=shop["client"], lines=[other_line(9999)])) == (0, LoyaltyError.COUPON_MIN_SPEND)
    # and the best combination never spends a gift for nothing
    assert coupon_best(client=shop["client"], lines=[service_line(shop["cut"])]) == ([], 0)


# --- refusals --------------------------------------------------------------------------------------


def test_expired_and_not_yet_valid_coupons_name_their_reason(shop, salon_day):
    # given a coupon valid for 30 days from today, and one valid only from the 20th
    give(a_template(valid_days=30), shop["client"])
    later = a_template(valid_days=None, valid_from=datetime.date(2025, 3, 20), valid_until=datetime.date(2025, 4, 30))
    give(later, shop["client"])
    lines = [other_line(20000)]
    # then today only the first applies
    reasons = {
        o.coupon.template_id: o.reason_if_not_applicable for o in coupon_quote(client=shop["client"], lines=lines)
    }
    assert reasons[later.pk] == LoyaltyError.COUPON_NOT_YET_VALID
    # and after 30 days the first has expired (its last day was 8 April)
    salon_day(datetime.date(2025, 4, 9))
    options = {o.coupon.template_id: o for o in coupon_quote(client=shop["client"], lines=lines)}
    assert options[later.pk].discount == 5000
    assert [o.reason_if_not_applicable for o in options.values() if o.coupon.template_id != later.pk] == [
        LoyaltyError.COUPON_EXPIRED
    ]
    # and on its last day it still applied
    salon_day(datetime.date(2025, 4, 8))
    assert all(o.applicable for o in coupon_quote(client=shop["client"], lines=lines))


@pytest.mark.parametrize(
    "line",
    [
        DraftLine("service", None, 100, 1),
        DraftLine("product", 1, -1, 1),
        DraftLine("other", None, 100, 0),
        DraftLine("voucher", None, 100, 1),
        DraftLine("other", None, True, 1),
    ],
)
def test_a_malformed_line_is_refused(shop, line):
    with pytest.raises(ServiceError) as refused:
        coupon_quote(client=shop["client"], lines=[line])
    assert refused.value.code == LoyaltyError.COUPON_INVALID_LINE


def test_the_quote_lists_usable_coupons_first_in_few_queries(shop, django_assert_max_num_queries):
    small = give(a_template(value=1000, name="¥10 off"), shop["client"])
    big = give(a_template(value=3000, name="¥30 off"), shop["client"])
    unusable = give(a_template(value=2000, min_spend=99900, name="满999减20"), shop["client"])
    # coupons, eligible services, eligible products (django-tenants sets the search path before each)
    with django_assert_max_num_queries(6):
        options = coupon_quote(client=shop["client"], lines=[other_line(10000)])
    assert [(o.coupon, o.discount) for o in options] == [(big, 3000), (small, 1000), (unusable, 0)]


# --- the best combination --------------------------------------------------------------------------


def test_stackable_coupons_together_beat_a_single_one(shop):
    single = give(a_template(value=5000, name="¥50 off"), shop["client"])
    stack = a_template(value=3000, name="¥30 off, combines", stackable=True, one_per_bill=False)
    first, second = give(stack, shop["client"], key="a"), give(stack, shop["client"], key="b")
    coupons, total = coupon_best(client=shop["client"], lines=[other_line(20000)])
    assert (coupons, total) == ([first, second], 6000)
    assert single not in coupons


def test_a_non_stackable_coupon_is_never_combined(shop):
    single = give(a_template(value=8000, name="¥80 off"), shop["client"])
    stack = a_template(value=3000, name="¥30 off, combines", stackable=True, one_per_bill=False)
    give(stack, shop["client"], key="a")
    give(stack, shop["client"], key="b")
    assert coupon_best(client=shop["client"], lines=[other_line(20000)]) == ([single], 8000)


def test_one_per_bill_keeps_one_coupon_of_a_template(shop):
    # given two ¥30 coupons of a one-per-bill template (one expiring sooner) and a ¥20 stackable one
    thirty = a_template(value=3000, name="¥30 off", stackable=True, one_per_bill=True)
    later = give(thirty, shop["client"], key="later")
    sooner = give(thirty, shop["client"], key="sooner", valid_from=TODAY - datetime.timedelta(days=10))
    twenty = give(a_template(value=2000, name="¥20 off", stackable=True), shop["client"])
    # then one ¥30 (the one expiring first) and the ¥20
    coupons, total = coupon_best(client=shop["client"], lines=[other_line(20000)])
    assert (coupons, total) == ([sooner, twenty], 5000)
    assert later not in coupons


def test_the_total_never_exceeds_the_subtotal(shop):
    stack = a_template(value=3000, name="¥30 off", stackable=True, one_per_bill=False)
    first = give(stack, shop["client"], key="a", valid_from=TODAY - datetime.timedelta(days=1))
    second = give(stack, shop["client"], key="b")
    # a ¥40 bill: both together take it all
    assert coupon_best(client=shop["client"], lines=[other_line(4000)]) == ([first, second], 4000)
    # a ¥25 bill: one is enough (the one expiring first), the other is kept
    assert coupon_best(client=shop["client"], lines=[other_line(2500)]) == ([first], 2500)


def test_equal_discounts_use_the_coupon_expiring_first_then_the_oldest(shop):
    template = a_template(value=5000)
    later = give(template, shop["client"], key="later")
    sooner = give(template, shop["client"], key="sooner", valid_from=TODAY - datetime.timedelta(days=3))
    assert coupon_best(client=shop["client"], lines=[other_line(20000)]) == ([sooner], 5000)
    same_day = give(template, shop["client"], key="same", valid_from=TODAY - datetime.timedelta(days=3))
    assert coupon_best(client=shop["client"], lines=[other_line(20000)]) == ([sooner], 5000)
    assert same_day.pk > sooner.pk and later.pk < sooner.pk


def test_no_usable_coupon_gives_nothing(shop):
    give(a_template(value=5000, min_spend=50000), shop["client"])
    assert coupon_best(client=shop["client"], lines=[other_line(20000)]) == ([], 0)
