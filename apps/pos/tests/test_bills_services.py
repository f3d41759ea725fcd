"""Bills (POS-1, POS-11): opening, numbering, lines priced by the catalogue's rules, staff shares, price
changes by hand, group and room bills, notes, voids."""

from __future__ import annotations

import datetime
from collections.abc import Iterator

import pytest
from django.utils import translation

from apps.core.errors import ServiceError
from apps.core.models import AuditEntry
from apps.pos.errors import PosError
from apps.pos.models import Bill, BillDayCounter, BillKind, BillLine, BillLineStaff, BillStatus
from apps.pos.services import bills as services
from apps.pos.services import refunds
from apps.pos.services.bills import StaffShare
from apps.pos.tests.bills_support import member_bill, one, till_make, walk_in_bill
from apps.scheduling.models import AppointmentStatus, Resource, ResourceType
from apps.scheduling.tests.support import appointment_insert


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


@pytest.fixture
def till(in_alpha):
    return till_make()


def _error(raised: pytest.ExceptionInfo[ServiceError]) -> tuple[PosError, int]:
    return raised.value.code, raised.value.status  # type: ignore[return-value]


# --- opening and numbers ------------------------------------------------------------------------------


def test_bills_are_numbered_per_salon_day(till):
    # when three bills are opened
    bills = [walk_in_bill(till) for _ in range(3)]
    # then they are numbered 0001, 0002, 0003 of the salon's day, and the day's counter says 3
    day = bills[0].number.split("-")[0]
    assert [b.number for b in bills] == [f"{day}-0001", f"{day}-0002", f"{day}-0003"]
    assert BillDayCounter.objects.get(day=datetime.date(int(day[:4]), int(day[4:6]), int(day[6:]))).last == 3


def test_a_client_bill_keeps_the_tier_it_was_opened_with(till):
    # given a gold member's bill
    bill = member_bill(till)
    # when the member later loses the tier
    till.member.tier = None
    till.member.save(update_fields=["tier"])
    line = services.bill_line_add(bill=bill, item=till.cut, staff=one(till.wang), acting_user=till.desk)
    # then the bill still prices at gold (the tier price of the cut)
    assert bill.tier_id == till.gold.pk
    assert (line.unit_price, line.price_rule) == (10800, "tier")


def test_opening_needs_take_payments(till):
    with pytest.raises(ServiceError) as raised:
        walk_in_bill(till, by=till.li)
    assert _error(raised) == (PosError.PERMISSION_DENIED, 403)
    assert Bill.objects.count() == 0


def test_an_idempotency_key_opens_one_bill(till):
    first = walk_in_bill(till, idempotency_key="tablet-1")
    again = walk_in_bill(till, idempotency_key="tablet-1")
    assert again.pk == first.pk
    assert Bill.objects.count() == 1


# --- from an appointment ------------------------------------------------------------------------------


def _done_visit(till, status=AppointmentStatus.DONE):
    start = datetime.datetime(2030, 3, 4, 2, 0, tzinfo=datetime.UTC)
    return appointment_insert(
        client=till.member, start=start, lines=[(till.cut, till.li), (till.facial, till.wang)], status=status
    )


def test_a_finished_appointment_opens_a_bill_with_its_lines(till):
    # given a done visit: a cut by Li (quoted ¥128) and a facial by Wang (¥298) for a gold member
    visit = _done_visit(till)
    # when it is checked out
    bill = services.bill_open(location=None, appointment=visit, acting_user=till.desk)
    # then each line comes over with its technician at 100% at its quoted price less the gold member's
    # 10%: no tier price applies to either (Li's level rule wins over gold's tier rule for the cut)
    lines = list(bill.lines.order_by("position"))
    assert [(line.name, line.unit_price, line.price_rule) for line in lines] == [
        ("Women's cut", 11520, "appointment_member"),
        ("Facial", 26820, "appointment_member"),
    ]
    shares = [list(line.staff_shares.values_list("staff_id", "share")) for line in lines]
    assert shares == [[(till.li.pk, 10000)], [(till.wang.pk, 10000)]]
    assert (bill.client_id, bill.location_id, bill.subtotal, bill.total) == (
        till.member.pk,
        visit.location_id,
        38340,
        38340,
    )


def test_a_second_checkout_of_the_same_visit_returns_the_live_bill(till):
    visit = _done_visit(till)
    first = services.bill_open(location=None, appointment=visit, acting_user=till.desk)
    second = services.bill_open(location=None, appointment=visit, acting_user=till.manager)
    assert second.pk == first.pk
    assert Bill.objects.filter(appointment=visit).count() == 1


def test_a_visit_not_finished_cannot_be_checked_out(till):
    visit = _done_visit(till, status=AppointmentStatus.IN_SERVICE)
    with pytest.raises(ServiceError) as raised:
        services.bill_open(location=None, appointment=visit, acting_user=till.desk)
    assert raised.value.code == PosError.APPOINTMENT_NOT_DONE
    assert Bill.objects.count() == 0


def test_after_a_void_the_visit_can_be_checked_out_again(till):
    visit = _done_visit(till)
    first = services.bill_open(location=None, appointment=visit, acting_user=till.desk)
    refunds.bill_void(bill=first, reason="wrong client", acting_user=till.manager)
    second = services.bill_open(location=None, appointment=visit, acting_user=till.desk)
    assert second.pk != first.pk
    assert second.lines.count() == 2


# --- prices -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("client", "technician", "expected"),
    [
        ("walk_in", "wang", (12800, "base")),  # no tier, no level: base price
        ("walk_in", "li", (16800, "level")),  # senior level rule
        ("member", "wang", (10800, "tier")),  # gold tier rule, no member % on a tier price
        ("member", "li", (15120, "level_member")),  # level price less gold's 10%
    ],
)
def test_a_service_is_priced_by_tier_level_and_member_discount(till, client, technician, expected):
    bill = member_bill(till) if client == "member" else walk_in_bill(till)
    line = services.bill_line_add(bill=bill, item=till.cut, staff=one(getattr(till, technician)), acting_user=till.desk)
    assert (line.unit_price, line.price_rule) == expected
    assert (line.list_price, line.amount) == (12800, expected[0])


def test_member_discount_rounds_half_up_and_products_keep_their_price(till):
    bill = member_bill(till)
    facial = services.bill_line_add(bill=bill, item=till.facial, quantity=2, acting_user=till.desk)
    shampoo = services.bill_line_add(bill=bill, item=till.shampoo, quantity=3, acting_user=till.desk)
    assert (facial.unit_price, facial.amount, facial.price_rule) == (26820, 53640, "member")
    assert (shampoo.unit_price, shampoo.amount) == (9800, 29400)
    bill.refresh_from_db()
    assert (bill.subtotal, bill.discount_total, bill.total) == (83040, 0, 83040)


def test_a_new_lead_technician_reprices_the_service(till):
    bill = walk_in_bill(till)
    line = services.bill_line_add(bill=bill, item=till.cut, staff=one(till.wang), acting_user=till.desk)
    line = services.bill_line_update(line=line, staff=one(till.li), acting_user=till.desk)
    assert (line.unit_price, line.price_rule) == (16800, "level")


def test_a_price_typed_by_hand_needs_the_permission_a_reason_and_is_audited(till):
    bill = walk_in_bill(till)
    line = services.bill_line_add(bill=bill, item=till.facial, acting_user=till.desk)
    # when the front desk tries to change the price: refused, nothing changed
    with pytest.raises(ServiceError) as denied:
        services.bill_line_update(line=line, price=20000, price_reason="regular", acting_user=till.desk)
    assert _error(denied) == (PosError.PRICE_OVERRIDE_DENIED, 403)
    # a manager without a reason: refused
    with pytest.raises(ServiceError) as no_reason:
        services.bill_line_update(line=line, price=20000, acting_user=till.manager)
    assert no_reason.value.code == PosError.PRICE_REASON_REQUIRED
    line.refresh_from_db()
    assert (line.unit_price, line.is_manual_price) == (29800, False)
    assert not AuditEntry.objects.filter(action="pos.price_overridden").exists()
    # a manager with a reason: the price is changed and audited
    line = services.bill_line_update(line=line, price=20000, price_reason="loyal client", acting_user=till.manager)
    assert (line.unit_price, line.amount, line.is_manual_price, line.price_rule) == (20000, 20000, True, "manual")
    entry = AuditEntry.objects.get(action="pos.price_overridden")
    assert entry.data == {
        "bill": bill.number,
        "item": "Facial",
        "catalogue_price": 29800,
        "price": 20000,
        "reason": "loyal client",
    }
    # and going back to the catalogue price clears it
    line = services.bill_line_update(line=line, price=None, acting_user=till.manager)
    assert (line.unit_price, line.is_manual_price, line.price_reason) == (29800, False, "")


def test_a_price_typed_when_adding_a_line(till):
    bill = walk_in_bill(till)
    line = services.bill_line_add(
        bill=bill, item=till.shampoo, price=8000, price_reason="display item", acting_user=till.manager
    )
    assert (line.unit_price, line.list_price, line.is_manual_price) == (8000, 9800, True)
    assert AuditEntry.objects.filter(action="pos.price_overridden", target_id=str(line.pk)).count() == 1


# --- staff shares -------------------------------------------------------------------------------------


def test_a_line_is_split_sixty_forty_with_a_requested_technician(till):
    bill = walk_in_bill(till)
    line = services.bill_line_add(
        bill=bill,
        item=till.facial,
        staff=[StaffShare(till.li, 6000, is_requested=True), StaffShare(till.wang, 4000)],
        acting_user=till.desk,
    )
    rows = list(
        BillLineStaff.objects.filter(line=line).order_by("-share").values_list("staff_id", "share", "is_requested")
    )
    assert rows == [(till.li.pk, 6000, True), (till.wang.pk, 4000, False)]


@pytest.mark.parametrize(
    ("shares", "code"),
    [
        ([(6000, "li"), (3000, "wang")], PosError.STAFF_SHARES_SUM),
        ([(5000, "li"), (5000, "li")], PosError.STAFF_DUPLICATE),
        ([(0, "li"), (10000, "wang")], PosError.STAFF_SHARES_SUM),
    ],
)
def test_shares_that_do_not_make_a_whole_are_refused(till, shares, code):
    bill = walk_in_bill(till)
    with pytest.raises(ServiceError) as raised:
        services.bill_line_add(
            bill=bill,
            item=till.facial,
            staff=[StaffShare(getattr(till, who), share) for share, who in shares],
            acting_user=till.desk,
        )
    assert raised.value.code == code
    assert BillLine.objects.count() == 0


def test_an_even_split_gives_the_odd_basis_points_to_the_first(till):
    assert [s.share for s in services.shares_even([till.li, till.wang, till.desk])] == [3334, 3333, 3333]


# --- lines: kinds, quantities, group and room bills ---------------------------------------------------


def test_a_top_up_or_course_card_line_needs_a_holder_and_is_one_per_line(till):
    walk_in = walk_in_bill(till)
    with pytest.raises(ServiceError) as no_holder:
        services.bill_line_add(bill=walk_in, top_up_amount=100_000, acting_user=till.desk)
    assert no_holder.value.code == PosError.HOLDER_REQUIRED
    bill = member_bill(till)
    with pytest.raises(ServiceError) as two:
        services.bill_line_add(bill=bill, item=till.card_template, quantity=2, acting_user=till.desk)
    assert two.value.code == PosError.ONE_AT_A_TIME
    top_up = services.bill_line_add(bill=bill, top_up_amount=100_000, acting_user=till.desk)
    card = services.bill_line_add(bill=bill, item=till.card_template, acting_user=till.desk)
    package = services.bill_line_add(bill=bill, item=till.package, acting_user=till.desk)
    assert [(x.kind, x.unit_price) for x in (top_up, card, package)] == [
        ("top_up", 100_000),
        ("course_card", 120_000),
        ("package", 38800),
    ]
    assert top_up.name == "Stored-value top-up ¥1,000.00"


def test_a_group_bill_names_a_guest_per_line(till):
    bill = walk_in_bill(till, kind=BillKind.GROUP, guest_count=3, client=till.member)
    line = services.bill_line_add(bill=bill, item=till.cut, guest_label="Friend in red", acting_user=till.desk)
    guest = services.bill_line_add(bill=bill, item=till.facial, guest=till.plain, acting_user=till.desk)
    assert (line.guest_label, guest.guest_id, bill.guest_count) == ("Friend in red", till.plain.pk, 3)
    standard = walk_in_bill(till)
    with pytest.raises(ServiceError) as raised:
        services.bill_line_add(bill=standard, item=till.cut, guest_label="x", acting_user=till.desk)
    assert raised.value.code == PosError.GUEST_ONLY_ON_GROUP_BILL


def test_a_room_bill_names_its_room(till):
    room_type = ResourceType.objects.create(name="VIP room")
    room = Resource.objects.create(location=till.location, resource_type=room_type, name="VIP 1")
    bill = walk_in_bill(till, kind=BillKind.ROOM, room=room)
    assert (bill.kind, bill.room_id) == ("room", room.pk)
    with pytest.raises(ServiceError) as raised:
        walk_in_bill(till, kind=BillKind.ROOM)
    assert raised.value.code == PosError.ROOM_REQUIRED
    with pytest.raises(ServiceError) as raised:
        walk_in_bill(till, room=room)
    assert raised.value.code == PosError.ROOM_ONLY_ON_ROOM_BILL


def test_removing_a_line_updates_the_totals(till):
    bill = walk_in_bill(till)
    services.bill_line_add(bill=bill, item=till.facial, acting_user=till.desk)
    shampoo = services.bill_line_add(bill=bill, item=till.shampoo, quantity=2, acting_user=till.desk)
    services.bill_line_remove(line=shampoo, acting_user=till.desk)
    bill.refresh_from_db()
    assert (bill.subtotal, bill.total, bill.lines.count()) == (29800, 29800, 1)


def test_notes_and_bad_quantities(till):
    bill = walk_in_bill(till)
    bill = services.bill_update(bill=bill, notes="Client prefers a quiet room", acting_user=till.desk)
    assert Bill.objects.get(pk=bill.pk).notes == "Client prefers a quiet room"
    with pytest.raises(ServiceError) as raised:
        services.bill_line_add(bill=bill, item=till.cut, quantity=0, acting_user=till.desk)
    assert raised.value.code == PosError.INVALID_QUANTITY
    assert BillLine.objects.count() == 0


# --- voids --------------------------------------------------------------------------------------------


def test_voiding_needs_the_refund_permission_and_a_reason_and_is_audited(till):
    bill = walk_in_bill(till)
    services.bill_line_add(bill=bill, item=till.cut, acting_user=till.desk)
    with pytest.raises(ServiceError) as denied:
        refunds.bill_void(bill=bill, reason="mistake", acting_user=till.desk)
    assert _error(denied) == (PosError.PERMISSION_DENIED, 403)
    with pytest.raises(ServiceError) as no_reason:
        refunds.bill_void(bill=bill, reason=" ", acting_user=till.manager)
    assert no_reason.value.code == PosError.REASON_REQUIRED
    assert Bill.objects.get(pk=bill.pk).status == BillStatus.OPEN
    voided = refunds.bill_void(bill=bill, reason="opened twice", acting_user=till.manager)
    assert (voided.status, voided.void_reason, voided.closed_by_id) == ("voided", "opened twice", till.manager.pk)
    assert AuditEntry.objects.get(action="pos.bill_voided").data["reason"] == "opened twice"
    with pytest.raises(ServiceError) as closed:
        services.bill_line_add(bill=bill, item=till.cut, acting_user=till.desk)
    assert _error(closed) == (PosError.BILL_NOT_OPEN, 409)
