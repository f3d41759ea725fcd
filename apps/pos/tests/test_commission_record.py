"""Recording commission when a bill is paid (POS-6): each kind of rule, which rule wins, the split of a
line between staff to the fen, tiers by monthly volume, the requested (点钟) bonus, idempotency, the
ledger's constraints and the number of statements per bill."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from django_tenants.utils import schema_context

from apps.core.db import salon_timezone
from apps.core.errors import ServiceError
from apps.pos.models import BillStatus, CommissionEntry, CommissionRule, LineKind
from apps.pos.selectors import bills as bill_selectors
from apps.pos.services.commission import (
    commission_record_for_bill,
    commission_rule_create,
    commission_rule_deactivate,
    shares_allocate,
)
from apps.pos.tests.factories_commission import (
    Line,
    bill_lines,
    course_card_make,
    level_make,
    package_make,
    paid_bill,
    product_category_make,
    product_make,
    service_category_make,
    service_make,
    technician_make,
)

UTC = datetime.UTC
MARCH_5 = datetime.datetime(2026, 3, 5, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai
MARCH_10 = datetime.datetime(2026, 3, 10, 4, 0, tzinfo=UTC)
APRIL_2 = datetime.datetime(2026, 4, 2, 4, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


@pytest.fixture
def shop(in_alpha):
    """Two levels, three technicians (Li senior, Wang stylist, Zhao without a level), services and products
    in and out of categories."""
    senior, stylist = level_make("Senior", 30), level_make("Stylist", 20)
    hair, care = service_category_make("Hair"), product_category_make("Care")
    return SimpleNamespace(
        senior=senior,
        stylist=stylist,
        hair=hair,
        care=care,
        li=technician_make("Li", level=senior),
        wang=technician_make("Wang", level=stylist),
        zhao=technician_make("Zhao"),
        cut=service_make("Cut", price=10_000, category=hair),
        colour=service_make("Colour", price=38_800, category=hair),
        facial=service_make("Facial", price=29_800),
        shampoo=product_make("Shampoo", price=12_800, category=care),
        spray=product_make("Spray", price=13_800),
    )


def rule(**values):
    values.setdefault("acting_user", None)
    return commission_rule_create(**values)


def figures(entries):
    return [(e.staff.name, e.line.name, e.basis, e.amount) for e in entries]


def test_percentage_of_the_line_amount_net_of_discount(shop):
    # given 10 % on services, and a cut of ¥100 with ¥10 off done by Li
    ten = rule(scope="kind", line_kind="service", method="percentage", rate_bp=1000)
    bill = paid_bill(lines=[Line(shop.cut, [(shop.li, 10_000, False)], discount=1_000)], paid_at=MARCH_5)
    # when
    (entry,) = commission_record_for_bill(bill=bill)
    # then
    assert (entry.kind, entry.staff_id, entry.basis, entry.amount, entry.quantity) == (
        "earned",
        shop.li.pk,
        9_000,
        900,
        1,
    )
    assert (entry.rule_id, entry.method, entry.rate_bp, entry.unit_amount, entry.volume) == (
        ten.pk,
        "percentage",
        1000,
        None,
        None,
    )
    assert (entry.bill_id, entry.location_id, entry.line_kind, entry.share) == (
        bill.pk,
        bill.location_id,
        "service",
        10_000,
    )
    assert (entry.occurred_at, entry.month) == (MARCH_5, datetime.date(2026, 3, 1))
    assert CommissionEntry.objects.get() == entry


def test_fixed_amount_per_unit_split_by_share(shop):
    # given ¥5 a unit on products, and three bottles sold by Li (60 %) and Wang (40 %)
    rule(scope="kind", line_kind="product", method="fixed", fixed_amount=500)
    bill = paid_bill(
        lines=[Line(shop.shampoo, [(shop.li, 6_000, False), (shop.wang, 4_000, False)], quantity=3)], paid_at=MARCH_5
    )
    # when
    entries = commission_record_for_bill(bill=bill)
    # then: 3 × ¥5 × 60 % and × 40 %; the volume is each one's part of ¥384
    assert figures(entries) == [("Li", "Shampoo", 23_040, 900), ("Wang", "Shampoo", 15_360, 600)]
    assert [(e.method, e.unit_amount, e.rate_bp, e.quantity) for e in entries] == [("fixed", 500, None, 3)] * 2


def test_a_60_40_split_is_exact_to_the_fen(shop):
    # given 10 % on services and a ¥100.01 line split 60/40
    rule(scope="default", method="percentage", rate_bp=1000)
    bill = paid_bill(
        lines=[Line(shop.cut, [(shop.li, 6_000, False), (shop.wang, 4_000, False)], unit_price=10_001)],
        paid_at=MARCH_5,
    )
    # when
    entries = commission_record_for_bill(bill=bill)
    # then 6000.6 → 6001 and 4000.4 → 4000 (together the line's 10 001); 600.1 → 600 and 400
    assert figures(entries) == [("Li", "Cut", 6_001, 600), ("Wang", "Cut", 4_000, 400)]
    assert sum(e.basis for e in entries) == 10_001


@pytest.mark.parametrize(
    ("amount", "shares", "parts"),
    [
        (10_001, [(1, 6_000), (2, 4_000)], {1: 6_001, 2: 4_000}),
        (101, [(1, 5_000), (2, 5_000)], {1: 51, 2: 50}),  # both round up: the later one gives the fen back
        (100, [(1, 3_334), (2, 3_333), (3, 3_333)], {1: 34, 2: 33, 3: 33}),  # the missing fen to the largest
        (100, [(1, 3_333), (2, 3_334), (3, 3_333)], {1: 33, 2: 34, 3: 33}),
        (2, [(1, 5_000), (2, 2_500), (3, 2_500)], {1: 1, 2: 1, 3: 0}),  # 1 + 0.5 + 0.5: one half gives way
        (0, [(1, 6_000), (2, 4_000)], {1: 0, 2: 0}),
        (999, [(1, 10_000)], {1: 999}),
        (1_000, [(1, 5_000), (2, 3_000)], {1: 500, 2: 300}),  # shares short of a whole: no settling
    ],
)
def test_shares_allocate(amount, shares, parts):
    assert shares_allocate(amount, shares) == parts
    if sum(s for _pk, s in shares) == 10_000:
        assert sum(parts.values()) == amount


def test_the_most_specific_rule_wins(shop):
    # given a rule at every level of precedence
    default = rule(name="default", scope="default", method="percentage", rate_bp=500)
    kind = rule(name="services", scope="kind", line_kind="service", method="percentage", rate_bp=800)
    hair = rule(name="hair", scope="service_category", service_category=shop.hair, method="percentage", rate_bp=1000)
    hair_stylist = rule(
        name="hair, stylist",
        scope="service_category",
        service_category=shop.hair,
        staff_level=shop.stylist,
        method="percentage",
        rate_bp=1100,
    )
    cut = rule(name="cut", scope="service", service=shop.cut, method="percentage", rate_bp=1200)
    cut_senior = rule(
        name="cut, senior",
        scope="service",
        service=shop.cut,
        staff_level=shop.senior,
        method="percentage",
        rate_bp=1500,
    )
    care = rule(name="care", scope="product_category", product_category=shop.care, method="fixed", fixed_amount=300)
    spray = rule(name="spray", scope="product", product=shop.spray, method="fixed", fixed_amount=700)
    bill = paid_bill(
        lines=[
            Line(shop.cut, [(shop.li, 10_000, False)]),  # service + level
            Line(shop.cut, [(shop.wang, 10_000, False)]),  # service beats category + level
            Line(shop.colour, [(shop.wang, 10_000, False)]),  # category + level
            Line(shop.colour, [(shop.zhao, 10_000, False)]),  # category
            Line(shop.facial, [(shop.zhao, 10_000, False)]),  # no category: the kind
            Line(shop.shampoo, [(shop.zhao, 10_000, False)]),  # product category
            Line(shop.spray, [(shop.zhao, 10_000, False)]),  # product
            Line(None, [(shop.zhao, 10_000, False)], unit_price=100_000),  # a top-up: the salon default
        ],
        paid_at=MARCH_5,
    )
    # when
    entries = commission_record_for_bill(bill=bill)
    # then
    assert [(e.line.position, e.rule_id, e.rate_bp, e.unit_amount, e.amount) for e in entries] == [
        (0, cut_senior.pk, 1500, None, 1_500),
        (1, cut.pk, 1200, None, 1_200),
        (2, hair_stylist.pk, 1100, None, 4_268),
        (3, hair.pk, 1000, None, 3_880),
        (4, kind.pk, 800, None, 2_384),
        (5, care.pk, None, 300, 300),
        (6, spray.pk, None, 700, 700),
        (7, default.pk, 500, None, 5_000),
    ]


def test_a_share_without_a_rule_still_records_its_volume(shop):
    # given only a product rule, and the salon default deactivated
    rule(scope="kind", line_kind="product", method="fixed", fixed_amount=500)
    default = rule(scope="default", method="percentage", rate_bp=500)
    commission_rule_deactivate(rule=default, acting_user=None)
    bill = paid_bill(lines=[Line(shop.cut, [(shop.li, 10_000, False)])], paid_at=MARCH_5)
    # when
    (entry,) = commission_record_for_bill(bill=bill)
    # then
    assert (entry.basis, entry.amount, entry.rule_id, entry.method, entry.rate_bp) == (10_000, 0, None, "", None)


def test_kinds_package_course_card_and_top_up(shop):
    # given a rule per kind of line
    rule(scope="kind", line_kind="package", method="percentage", rate_bp=300)
    rule(scope="kind", line_kind="course_card", method="percentage", rate_bp=200)
    rule(scope="kind", line_kind="top_up", method="fixed", fixed_amount=1_000)
    bill = paid_bill(
        lines=[
            Line(package_make("Bridal"), [(shop.li, 10_000, False)]),
            Line(course_card_make("Ten facials"), [(shop.wang, 10_000, False)]),
            Line(None, [(shop.zhao, 10_000, False)], unit_price=200_000),
        ],
        paid_at=MARCH_5,
    )
    # when
    entries = commission_record_for_bill(bill=bill)
    # then
    assert [(e.line_kind, e.basis, e.amount) for e in entries] == [
        (LineKind.PACKAGE, 50_000, 1_500),
        (LineKind.COURSE_CARD, 100_000, 2_000),
        (LineKind.TOP_UP, 200_000, 1_000),
    ]


def test_rules_apply_on_the_salon_local_day_of_payment(shop):
    # given 10 % until the end of March and 12 % from April (Shanghai dates)
    march = rule(
        scope="default", method="percentage", rate_bp=1000, valid_until=datetime.date(2026, 3, 31), name="March"
    )
    april = rule(scope="default", method="percentage", rate_bp=1200, valid_from=datetime.date(2026, 4, 1), name="April")
    # a bill paid on 31 March at 23:30 UTC, which is 1 April 07:30 in Shanghai, and one the evening before
    late = paid_bill(
        lines=[Line(shop.cut, [(shop.li, 10_000, False)])],
        paid_at=datetime.datetime(2026, 3, 31, 23, 30, tzinfo=UTC),
    )
    early = paid_bill(
        lines=[Line(shop.cut, [(shop.li, 10_000, False)])],
        paid_at=datetime.datetime(2026, 3, 31, 15, 59, tzinfo=UTC),  # 23:59 on 31 March in Shanghai
    )
    # when
    (late_entry,) = commission_record_for_bill(bill=late)
    (early_entry,) = commission_record_for_bill(bill=early)
    # then
    assert (late_entry.rule_id, late_entry.amount, late_entry.month) == (april.pk, 1_200, datetime.date(2026, 4, 1))
    assert (early_entry.rule_id, early_entry.amount, early_entry.month) == (march.pk, 1_000, datetime.date(2026, 3, 1))


def test_an_inactive_or_other_salons_rule_does_not_apply(shop, beta):
    # given a rule in beta and a deactivated one in alpha
    with schema_context(beta.schema):
        rule(scope="default", method="percentage", rate_bp=5_000)
    old = rule(scope="kind", line_kind="service", method="percentage", rate_bp=2_000)
    commission_rule_deactivate(rule=old, acting_user=None)
    bill = paid_bill(lines=[Line(shop.cut, [(shop.li, 10_000, False)])], paid_at=MARCH_5)
    # when
    (entry,) = commission_record_for_bill(bill=bill)
    # then
    assert (entry.amount, entry.rule_id) == (0, None)
    with schema_context(beta.schema):
        assert CommissionEntry.objects.count() == 0


def test_tiers_apply_to_the_whole_line_once_the_month_volume_reaches_them(shop):
    # given 10 % up to ¥200, 15 % from ¥200 and 20 % from ¥500 of the month's volume
    tiered = rule(
        scope="kind",
        line_kind="service",
        method="tiered",
        tiers=[(0, 1000), (20_000, 1500), (50_000, 2000)],
    )
    first = paid_bill(lines=[Line(shop.cut, [(shop.li, 10_000, False)], unit_price=15_000)], paid_at=MARCH_5)
    (entry,) = commission_record_for_bill(bill=first)
    assert (entry.volume, entry.rate_bp, entry.amount) == (15_000, 1000, 1_500)
    # when a bill crosses ¥200 with its first line and ¥500 with its second
    second = paid_bill(
        lines=[
            Line(shop.cut, [(shop.li, 10_000, False)], unit_price=10_000),
            Line(shop.colour, [(shop.li, 10_000, False)], unit_price=30_000),
        ],
        paid_at=MARCH_10,
    )
    crossing, beyond = commission_record_for_bill(bill=second)
    # then each line gets the rate of the tier its volume reached, on its whole amount (¥100 × 15 %, not
    # ¥50 × 10 % + ¥50 × 15 %)
    assert (crossing.volume, crossing.rate_bp, crossing.amount) == (25_000, 1500, 1_500)
    assert (beyond.volume, beyond.rate_bp, beyond.amount) == (55_000, 2000, 6_000)
    assert {crossing.rule_id, beyond.rule_id} == {tiered.pk}
    # and a new month starts again from the first tier
    april = paid_bill(lines=[Line(shop.cut, [(shop.li, 10_000, False)])], paid_at=APRIL_2)
    (fresh,) = commission_record_for_bill(bill=april)
    assert (fresh.volume, fresh.rate_bp, fresh.amount, fresh.month) == (10_000, 1000, 1_000, datetime.date(2026, 4, 1))


def test_the_month_volume_counts_every_line_and_only_ones_own(shop):
    # given tiers on services only, and Li selling ¥180 of products first; Wang sold ¥900 of services
    rule(scope="kind", line_kind="service", method="tiered", tiers=[(0, 1000), (20_000, 1500)])
    commission_record_for_bill(
        bill=paid_bill(lines=[Line(shop.spray, [(shop.li, 10_000, False)], unit_price=18_000)], paid_at=MARCH_5)
    )
    commission_record_for_bill(
        bill=paid_bill(lines=[Line(shop.cut, [(shop.wang, 10_000, False)], unit_price=90_000)], paid_at=MARCH_5)
    )
    # when Li does a ¥30 cut shared 50/50 with Wang
    bill = paid_bill(
        lines=[Line(shop.cut, [(shop.li, 5_000, False), (shop.wang, 5_000, False)], unit_price=3_000)],
        paid_at=MARCH_10,
    )
    li, wang = commission_record_for_bill(bill=bill)
    # then Li's volume is 18 000 + 1 500 (below the tier), Wang's 90 000 + 1 500
    assert (li.volume, li.rate_bp, li.amount) == (19_500, 1000, 150)
    assert (wang.volume, wang.rate_bp, wang.amount) == (91_500, 1500, 225)


def test_requested_bonus(shop):
    # given 10 % + 3 % when requested on services, ¥5 + ¥2 a unit when requested on products
    rule(scope="kind", line_kind="service", method="percentage", rate_bp=1000, requested_bonus_bp=300)
    rule(scope="kind", line_kind="product", method="fixed", fixed_amount=500, requested_bonus_amount=200)
    bill = paid_bill(
        lines=[
            Line(shop.cut, [(shop.li, 5_000, True), (shop.wang, 5_000, False)]),
            Line(shop.shampoo, [(shop.li, 10_000, True)], quantity=2),
        ],
        paid_at=MARCH_5,
    )
    # when
    entries = commission_record_for_bill(bill=bill)
    # then
    assert [(e.staff_id, e.is_requested, e.rate_bp, e.unit_amount, e.amount) for e in entries] == [
        (shop.li.pk, True, 1300, None, 650),
        (shop.wang.pk, False, 1000, None, 500),
        (shop.li.pk, True, None, 700, 1_400),
    ]


def test_recording_twice_writes_nothing(shop):
    # given a recorded bill
    rule(scope="default", method="percentage", rate_bp=1000)
    bill = paid_bill(lines=[Line(shop.cut, [(shop.li, 6_000, False), (shop.wang, 4_000, False)])], paid_at=MARCH_5)
    first = commission_record_for_bill(bill=bill)
    # when
    again = commission_record_for_bill(bill=bill)
    # then
    assert len(first) == 2 and again == []
    assert CommissionEntry.objects.count() == 2
    # and the unique constraint stands behind it
    share = bill_lines(bill)[0].staff_shares.order_by("id").first()
    duplicate = CommissionEntry.objects.get(line_staff=share)
    duplicate.pk = None
    with pytest.raises(IntegrityError, match="commission_entry_earned_once"), transaction.atomic():
        duplicate.save()


def test_an_unpaid_bill_is_refused_and_nothing_is_written(shop):
    # given an open bill
    rule(scope="default", method="percentage", rate_bp=1000)
    bill = paid_bill(lines=[Line(shop.cut, [(shop.li, 10_000, False)])], paid_at=MARCH_5)
    bill.status, bill.paid_at = BillStatus.OPEN, None
    # when / then
    with pytest.raises(ServiceError) as refused:
        commission_record_for_bill(bill=bill)
    assert (refused.value.code.value, refused.value.status) == ("commission_bill_not_paid", 409)
    assert refused.value.message == "Commission is recorded once the bill is paid."
    assert CommissionEntry.objects.count() == 0


def test_a_bill_without_staff_writes_nothing(shop):
    rule(scope="default", method="percentage", rate_bp=1000)
    bill = paid_bill(lines=[Line(shop.shampoo, [])], paid_at=MARCH_5)
    assert commission_record_for_bill(bill=bill) == []
    assert CommissionEntry.objects.count() == 0


def test_the_ledger_is_append_only(shop):
    # given an entry
    rule(scope="default", method="percentage", rate_bp=1000)
    (entry,) = commission_record_for_bill(
        bill=paid_bill(lines=[Line(shop.cut, [(shop.li, 10_000, False)])], paid_at=MARCH_5)
    )
    # when / then
    with pytest.raises(Exception, match="commission entries cannot be changed"), transaction.atomic():
        CommissionEntry.objects.filter(pk=entry.pk).update(amount=99_999)
    with pytest.raises(Exception, match="commission entries cannot be deleted"), transaction.atomic():
        CommissionEntry.objects.filter(pk=entry.pk).delete()
    assert CommissionEntry.objects.get().amount == 1_000


def test_the_database_refuses_an_entry_whose_signs_do_not_match_its_kind(shop):
    rule(scope="default", method="percentage", rate_bp=1000)
    (entry,) = commission_record_for_bill(
        bill=paid_bill(lines=[Line(shop.cut, [(shop.li, 10_000, False)])], paid_at=MARCH_5)
    )
    bad = CommissionEntry.objects.get(pk=entry.pk)
    bad.pk, bad.kind, bad.amount = None, "reversed", 100  # a reversal must be negative and name its refund
    with pytest.raises(IntegrityError, match="commission_entry_signs_match_kind"), transaction.atomic():
        bad.save()
    bad.kind, bad.amount, bad.rule = "earned", 5, None  # no rule, no commission
    with pytest.raises(IntegrityError, match="commission_entry_amount_needs_rule"), transaction.atomic():
        bad.save()


def test_a_three_line_bill_with_two_staff_takes_four_statements(shop):
    # given percentage, fixed and tiered rules and a bill of three lines shared by Li and Wang
    rule(scope="kind", line_kind="service", method="tiered", tiers=[(0, 1000), (20_000, 1500)])
    rule(
        scope="service_category", service_category=shop.hair, staff_level=shop.senior, method="percentage", rate_bp=1200
    )
    rule(scope="kind", line_kind="product", method="fixed", fixed_amount=500)
    bill = paid_bill(
        lines=[
            Line(shop.cut, [(shop.li, 6_000, True), (shop.wang, 4_000, False)]),
            Line(shop.facial, [(shop.wang, 10_000, False)]),
            Line(shop.shampoo, [(shop.li, 5_000, False), (shop.wang, 5_000, False)], quantity=2),
        ],
        paid_at=MARCH_5,
    )
    salon_timezone()  # a request carries the salon's zone; here it is read (and kept) once beforehand
    lines = bill_selectors.bill_lines(bill)  # as the payment read them, under the bill's lock
    # when
    with CaptureQueriesContext(connection) as queries:
        entries = commission_record_for_bill(bill=bill, lines=lines)
    # then: the staff locked with their levels, rules with their tiers, the month's volumes, one insert — not
    # counting the SET search_path django-tenants puts before each statement in tests
    statements = [q["sql"] for q in queries.captured_queries if not q["sql"].startswith("SET search_path")]
    assert [sql.split()[0] for sql in statements] == ["SELECT", "SELECT", "SELECT", "INSERT"]
    assert "FOR NO KEY UPDATE OF" in statements[0]
    assert [(e.staff.name, e.line.name, e.basis, e.amount) for e in entries] == [
        ("Li", "Cut", 6_000, 720),
        ("Wang", "Cut", 4_000, 400),
        ("Wang", "Facial", 29_800, 4_470),
        ("Li", "Shampoo", 12_800, 500),
        ("Wang", "Shampoo", 12_800, 500),
    ]
    assert CommissionRule.objects.count() == 3
