"""Packages at the till (CAT-3, POS-1, POS-8): a paid package line gives its holder a package card of the
package's services (sessions × the packages bought) and takes its products off the shelf; a refund before
any session is used voids the card and puts the products back; a package with services needs a client."""

from __future__ import annotations

import datetime
from collections.abc import Iterator

import pytest
from django.utils import translation

from apps.catalog import services as catalog
from apps.catalog.services.bundles import PackageItemSpec
from apps.core.db import salon_today
from apps.core.errors import ServiceError
from apps.crm.models import PurchaseLine
from apps.inventory.models import StockLevel, StockMovement
from apps.loyalty.models import CourseCard, CourseCardBalance, CourseCardStatus, CourseRedemption
from apps.loyalty.services.courses import course_session_redeem
from apps.pos.errors import PosError
from apps.pos.models import BillLine, Refund, Tender
from apps.pos.services import bills as services
from apps.pos.services.checkout import TenderRequest
from apps.pos.services.refunds import RefundLineRequest, bill_refund
from apps.pos.tests.bills_support import cash, member_bill, one, pay, till_make, walk_in_bill


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


@pytest.fixture
def till(in_alpha):
    till = till_make()
    # A facial uses a shampoo's worth of product when it is performed: a package's facials use none when sold.
    catalog.service_material_add(service=till.facial, product=till.shampoo, quantity=1, acting_user=None)
    till.glow = catalog.package_create(
        name="Glow",
        price=60000,
        validity_days=30,
        items=[PackageItemSpec(service=till.facial, quantity=2), PackageItemSpec(product=till.shampoo, quantity=1)],
        acting_user=None,
    )
    till.forever = catalog.package_create(
        name="Forever glow",
        price=50000,
        items=[PackageItemSpec(service=till.facial, quantity=2)],
        acting_user=None,
    )
    till.kit = catalog.package_create(
        name="Home kit", price=15000, items=[PackageItemSpec(product=till.shampoo, quantity=2)], acting_user=None
    )
    return till


def _on_hand(till) -> int:
    return int(StockLevel.objects.get(location=till.location, product=till.shampoo).quantity)


def _movements(bill) -> list[tuple[str, int]]:
    rows = StockMovement.objects.filter(reference=f"bill:{bill.pk}").order_by("id")
    return [(m.kind, int(m.quantity)) for m in rows]


def _sold(till, package, *, quantity=1, key="pay-1"):
    """A member's bill of ``quantity`` packages, paid in cash; the line as paid."""
    bill = member_bill(till)
    line = services.bill_line_add(bill=bill, item=package, quantity=quantity, acting_user=till.desk)
    bill.refresh_from_db()
    pay(bill, cash(bill.total), by=till.desk, key=key)
    line.refresh_from_db()
    bill.refresh_from_db()
    return bill, line


def _balances(card) -> dict[str, tuple[int, int]]:
    rows = CourseCardBalance.objects.filter(card=card).select_related("service")
    return {b.service.name: (b.sessions_total, b.sessions_left) for b in rows}


def _refund(bill, line, quantity, by, key="refund-1"):
    return bill_refund(
        bill=bill,
        reason="changed her mind",
        idempotency_key=key,
        acting_user=by,
        lines=[RefundLineRequest(line, quantity)],
    )


# --- the sale ---------------------------------------------------------------------------------------


def test_a_paid_package_gives_a_card_of_its_services_and_takes_its_products(till):
    # given 100 shampoos on the shelf and a member's bill of the Glow package (2 facials + 1 shampoo, 30 days)
    assert _on_hand(till) == 100
    bill, line = _sold(till, till.glow)
    # then the member holds a card named after the package with 2 facials, valid 30 days, at the line's price
    card = CourseCard.objects.get(pk=line.course_card_id)
    assert (card.client_id, card.package_id, card.template_id, card.name, card.price, card.reference) == (
        till.member.pk,
        till.glow.pk,
        None,
        "Glow",
        60000,
        f"bill:{bill.pk}",
    )
    assert card.expires_on == salon_today() + datetime.timedelta(days=30)
    assert _balances(card) == {"Facial": (2, 2)}
    # and one shampoo left the shelf as a sale; the facials used no material at the sale
    assert _on_hand(till) == 99
    assert _movements(bill) == [("sale", -1)]
    assert line.package_products == [[till.shampoo.pk, 1]]
    # and the package is in the member's history once
    assert PurchaseLine.objects.filter(visit_reference=f"bill:{bill.pk}").values_list("kind", "amount").get() == (
        "package",
        60000,
    )


def test_the_package_card_pays_a_later_facial(till):
    # given a member who bought the Glow package
    _bill, line = _sold(till, till.glow)
    card = CourseCard.objects.get(pk=line.course_card_id)
    # when a later bill's facial is paid with one session of the package card
    later = member_bill(till)
    facial = services.bill_line_add(bill=later, item=till.facial, staff=one(till.li), acting_user=till.desk)
    pay(later, TenderRequest(method="course_card", course_card=card, bill_line=facial), by=till.desk, key="pay-2")
    # then one session is used and the bill is paid by it
    later.refresh_from_db()
    assert later.status == "paid"
    assert _balances(card) == {"Facial": (2, 1)}
    tender = Tender.objects.get(bill=later)
    assert (tender.method, tender.course_card_id, tender.bill_line_id) == ("course_card", card.pk, facial.pk)


def test_several_packages_multiply_sessions_and_products_and_add_up_with_product_lines(till):
    # given a bill of 3 Glow packages and 2 loose shampoos
    bill = member_bill(till)
    line = services.bill_line_add(bill=bill, item=till.glow, quantity=3, acting_user=till.desk)
    services.bill_line_add(bill=bill, item=till.shampoo, quantity=2, acting_user=till.desk)
    bill.refresh_from_db()
    assert bill.total == 3 * 60000 + 2 * 9800
    # when it is paid
    pay(bill, cash(bill.total), by=till.desk)
    line.refresh_from_db()
    # then the card holds 6 facials and 5 shampoos leave the shelf in one sale movement
    assert _balances(CourseCard.objects.get(pk=line.course_card_id)) == {"Facial": (6, 6)}
    assert _on_hand(till) == 95
    assert _movements(bill) == [("sale", -5)]


def test_a_package_that_never_expires_gives_a_card_without_expiry_still_usable(till):
    # given the Forever glow package (2 facials, no validity) sold
    bill, line = _sold(till, till.forever)
    card = CourseCard.objects.get(pk=line.course_card_id)
    assert (card.expires_on, card.status) == (None, CourseCardStatus.ACTIVE)
    assert _movements(bill) == []  # no product in it, and no material used at the sale
    # when a later facial is paid with a session of it
    later = member_bill(till)
    facial = services.bill_line_add(bill=later, item=till.facial, acting_user=till.desk)
    pay(later, TenderRequest(method="course_card", course_card=card, bill_line=facial), by=till.desk, key="pay-2")
    # then the session is used, and the facial performed uses its material then
    assert _balances(card) == {"Facial": (2, 1)}
    assert _movements(later) == [("consumption", -1)]
    assert _on_hand(till) == 99


def test_a_replayed_payment_issues_nothing_twice(till):
    bill, _line = _sold(till, till.glow, key="tablet-1")
    # when the same payment is sent again
    again = pay(bill, cash(60000), by=till.desk, key="tablet-1")
    # then it is answered as before and nothing is issued or moved twice
    assert again.is_replay
    assert CourseCard.objects.count() == 1
    assert CourseCardBalance.objects.count() == 1
    assert _movements(bill) == [("sale", -1)]
    assert _on_hand(till) == 99


# --- who holds it -----------------------------------------------------------------------------------


def test_a_package_with_services_is_refused_on_a_walk_in_bill(till):
    bill = walk_in_bill(till)
    with pytest.raises(ServiceError) as raised:
        services.bill_line_add(bill=bill, item=till.glow, acting_user=till.desk)
    assert (raised.value.code, raised.value.field, str(raised.value.message)) == (
        PosError.HOLDER_REQUIRED,
        "client",
        "A package with services needs a client to hold its sessions.",
    )
    assert not BillLine.objects.filter(bill=bill).exists()


def test_a_package_of_products_only_is_sold_to_a_walk_in(till):
    # given a walk-in's bill of 2 home kits (2 shampoos each)
    bill = walk_in_bill(till)
    line = services.bill_line_add(bill=bill, item=till.kit, quantity=2, acting_user=till.desk)
    pay(bill, cash(30000), by=till.desk)
    line.refresh_from_db()
    # then no card is issued and 4 shampoos leave the shelf
    assert line.course_card_id is None
    assert not CourseCard.objects.exists()
    assert _on_hand(till) == 96
    assert _movements(bill) == [("sale", -4)]


# --- refunds ----------------------------------------------------------------------------------------


def test_a_refund_before_any_session_voids_the_card_and_returns_the_products(till):
    bill, line = _sold(till, till.glow)
    card = CourseCard.objects.get(pk=line.course_card_id)
    # when the package line is refunded
    refund = _refund(bill, line, 1, till.manager)
    # then the money goes back, the card is voided and the shampoo is back on the shelf
    assert refund.amount == 60000
    card.refresh_from_db()
    assert card.status == CourseCardStatus.VOIDED
    assert _on_hand(till) == 100
    assert _movements(bill) == [("sale", -1), ("sale_reversal", 1)]
    bill.refresh_from_db()
    assert (bill.status, bill.refunded_total) == ("refunded", 60000)


def test_a_refund_after_a_session_is_used_is_refused_with_nothing_changed(till):
    bill, line = _sold(till, till.glow)
    card = CourseCard.objects.get(pk=line.course_card_id)
    course_session_redeem(card=card, service=till.facial, idempotency_key="used-once")
    with pytest.raises(ServiceError) as used:
        _refund(bill, line, 1, till.manager)
    assert used.value.code == PosError.REFUND_COURSE_CARD_USED
    assert not Refund.objects.exists()
    card.refresh_from_db()
    line.refresh_from_db()
    bill.refresh_from_db()
    assert (card.status, _balances(card)) == (CourseCardStatus.ACTIVE, {"Facial": (2, 1)})
    assert (line.refunded_quantity, line.refunded_amount, bill.refunded_total) == (0, 0, 0)
    assert _on_hand(till) == 99
    assert CourseRedemption.objects.filter(card=card).count() == 1


def test_a_package_card_line_is_refunded_whole_not_by_part(till):
    # given 2 Glow packages on one card
    bill, line = _sold(till, till.glow, quantity=2)
    # when one of the two is refunded, or an amount is refunded without lines
    with pytest.raises(ServiceError) as part:
        _refund(bill, line, 1, till.manager)
    with pytest.raises(ServiceError) as amount:
        bill_refund(bill=bill, reason="x", idempotency_key="r-2", acting_user=till.manager, amount=1000)
    # then both are refused (the card cannot be split; an amount is not spread over a card) and nothing changed
    assert (part.value.code, part.value.field) == (PosError.REFUND_PACKAGE_WHOLE, "lines")
    assert amount.value.code == PosError.REFUND_TOO_LARGE
    assert not Refund.objects.exists()
    assert _on_hand(till) == 98
    # and both packages together go back: the card voided, 2 shampoos back
    _refund(bill, line, 2, till.manager, key="r-3")
    assert CourseCard.objects.get(pk=line.course_card_id).status == CourseCardStatus.VOIDED
    assert _on_hand(till) == 100


def test_a_products_only_package_refunded_by_part_returns_its_units(till):
    bill = walk_in_bill(till)
    line = services.bill_line_add(bill=bill, item=till.kit, quantity=2, acting_user=till.desk)
    pay(bill, cash(30000), by=till.desk)
    line.refresh_from_db()
    bill.refresh_from_db()
    _refund(bill, line, 1, till.manager)
    assert _on_hand(till) == 98
    assert _movements(bill) == [("sale", -4), ("sale_reversal", 2)]


def test_a_refund_gives_back_what_the_package_held_when_sold(till):
    # given a Glow package sold, then changed in the catalogue to hold no shampoo
    bill, line = _sold(till, till.glow)
    catalog.package_items_set(
        package=till.glow, items=[PackageItemSpec(service=till.facial, quantity=2)], acting_user=None
    )
    # when it is refunded
    _refund(bill, line, 1, till.manager)
    # then the shampoo sold with it comes back all the same
    assert _on_hand(till) == 100
