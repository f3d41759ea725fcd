"""Bills (POS-1, POS-11): open one from a finished appointment or from scratch (a client or a walk-in),
add, change and remove lines priced by the catalogue's rules, split each line among staff, notes, and
void a bill nothing was paid on.

Every write locks the bill row first (a bill's lines change only under it), recomputes the bill's
totals in the same transaction, and leaves the CHECK constraints of the models as the backstop.

Prices (``line_price``): a service costs the catalogue's price for the bill's tier and the lead
technician's level (``catalog.selectors.service_price_quote``); where no tier price applies, the tier's
member discount (loyalty's ``TierBenefit.price_percent``) is taken off, rounded half up to the fen.
Products, packages and course cards cost their catalogue price. The client's tier is read once, when
the bill is opened, and kept on the bill, so every line is priced alike. A price typed by hand needs
``override_prices``, a reason, and leaves an audit entry.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Max
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.catalog.models import CourseCardTemplate, Package, PackageItem, Product, Service
from apps.catalog.selectors import service_price_quote
from apps.core.db import salon_timezone
from apps.core.models import Location, StaffLevel, User
from apps.core.money import MAX_AMOUNT
from apps.core.roles import perm
from apps.core.services import audit_record
from apps.crm.models import Client, MembershipTier
from apps.loyalty.models import TierBenefit
from apps.pos.errors import PosError, pos_error
from apps.pos.models import Bill, BillKind, BillLine, BillLineStaff, BillStatus, LineKind
from apps.scheduling.models import Appointment, AppointmentStatus, Resource, StaffProfile

UNSET: Any = object()
MAX_LINES = 200
MAX_QUANTITY = 999
MAX_STAFF_PER_LINE = 10
FULL_SHARE = 10_000  # basis points: a line's shares add up to this
MAX_KEY_LENGTH = 60  # leaves room for the bill and a tender number in the ledgers' 90-character keys

Item = Service | Product | Package | CourseCardTemplate


# --- checks shared by the till's services -------------------------------------------------------------


def require(user: User | None, codename: str) -> None:
    """Staff actions check the role here as well as in the view: the API and tasks call services too.
    ``None`` is the system itself (a gateway settling a payment)."""
    if user is not None and not user.has_perm(perm(codename)):
        raise pos_error(PosError.PERMISSION_DENIED)


def text(value: Any, *, field: str, max_length: int, required: bool = False) -> str:
    value = "" if value is None else str(value).strip()
    if "\x00" in value or len(value) > max_length:
        raise pos_error(PosError.TEXT_TOO_LONG, field=field)
    if required and not value:
        raise pos_error(PosError.REASON_REQUIRED, field=field)
    return value


def key_checked(value: Any) -> str:
    """An idempotency key: 1 to 60 characters naming one operation, so a replay applies it once."""
    value = "" if value is None else str(value).strip()
    if not value or len(value) > MAX_KEY_LENGTH or "\x00" in value:
        raise pos_error(PosError.KEY_INVALID)
    return value


def whole(value: Any, *, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def bill_locked(pk: int) -> Bill:
    """The bill, locked until the caller's transaction ends, with its client and tier read in the same
    statement. Every change of a bill takes this lock first: two tills editing or paying one bill queue."""
    return Bill.objects.select_for_update(of=("self",)).select_related("client", "tier").get(pk=pk)


def editable(bill: Bill) -> None:
    """Lines, coupons and notes change only while the bill is open and nothing is paid on it yet."""
    if bill.status == BillStatus.PAID:
        raise pos_error(PosError.BILL_ALREADY_PAID)
    if bill.status != BillStatus.OPEN:
        raise pos_error(PosError.BILL_NOT_OPEN)
    if bill.paid_total or _pending_tenders(bill):
        raise pos_error(PosError.BILL_HAS_PAYMENTS)


def _pending_tenders(bill: Bill) -> bool:
    """A gateway payment waiting for the client holds the bill as it is."""
    from apps.pos.models import Tender, TenderStatus

    return Tender.objects.filter(bill=bill, status=TenderStatus.PENDING).exists()


# --- staff shares -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StaffShare:
    """Who earned a line and their share of it in basis points (6000 = 60%); ``is_requested``: the client
    asked for this technician (点钟)."""

    staff: User
    share: int = FULL_SHARE
    is_requested: bool = False


def shares_even(staff: Sequence[User], *, requested: Sequence[User] = ()) -> list[StaffShare]:
    """Split a line evenly between ``staff`` (the first takes the basis points left over)."""
    if not staff:
        return []
    each, left = divmod(FULL_SHARE, len(staff))
    wanted = {user.pk for user in requested}
    return [StaffShare(user, each + (left if index == 0 else 0), user.pk in wanted) for index, user in enumerate(staff)]


def shares_checked(shares: Sequence[StaffShare]) -> list[StaffShare]:
    """The shares of one line: active staff, each once, each share 1–10000, together exactly 10000.
    No staff at all is allowed (a product sold over the counter)."""
    shares = list(shares)
    if not shares:
        return []
    if len(shares) > MAX_STAFF_PER_LINE:
        raise pos_error(PosError.STAFF_SHARES_SUM)
    if len({s.staff.pk for s in shares}) != len(shares):
        raise pos_error(PosError.STAFF_DUPLICATE)
    if any(not isinstance(s.staff, User) or not s.staff.pk or not s.staff.is_active for s in shares):
        raise pos_error(PosError.STAFF_INACTIVE)
    if any(not whole(s.share, low=1, high=FULL_SHARE) for s in shares) or sum(s.share for s in shares) != FULL_SHARE:
        raise pos_error(PosError.STAFF_SHARES_SUM)
    return shares


def _shares_write(line: BillLine, shares: Sequence[StaffShare]) -> None:
    BillLineStaff.objects.bulk_create(
        [BillLineStaff(line=line, staff=s.staff, share=s.share, is_requested=bool(s.is_requested)) for s in shares]
    )


# --- prices -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Price:
    """``list_price``: the catalogue's price; ``unit_price``: what the client pays per unit after the
    rules; ``rule``: which rule set it (base, tier, level, tier_level, member, level_member, appointment…)."""

    list_price: int
    unit_price: int
    rule: str


def percent_of(amount: int, percent: int) -> int:
    """``percent`` of ``amount`` rounded half up to the fen (九折 of ¥12.35 is ¥11.12)."""
    return (amount * percent + 50) // 100


def member_percent(tier_id: int | None) -> int:
    """What a member of the tier pays in percent where no tier price applies (100 without a tier)."""
    if tier_id is None:
        return 100
    found = TierBenefit.objects.filter(tier_id=tier_id).values_list("price_percent", flat=True).first()
    return 100 if found is None else int(found)


def staff_level(staff: User | None) -> StaffLevel | None:
    """The technician's level (from the staff profile), which may set a service's price."""
    if staff is None:
        return None
    profile = StaffProfile.objects.filter(user=staff).select_related("level").first()
    return profile.level if profile is not None else None


def line_price(*, item: Item, tier: MembershipTier | None, level: StaffLevel | None, percent: int) -> Price:
    """The catalogue's price of one unit of ``item`` on a bill of ``tier`` served by a technician of
    ``level``; the member discount (``percent``) applies to services where no tier price applies."""
    if isinstance(item, Service):
        quote = service_price_quote(service=item, tier=tier, staff_level=level)
        if quote.rule in ("base", "level") and percent < 100:
            rule = "member" if quote.rule == "base" else "level_member"
            return Price(item.price, percent_of(quote.price, percent), rule)
        return Price(item.price, quote.price, quote.rule)
    return Price(item.price, item.price, "base")


def _priced(computed: Price, *, price: Any, reason: Any, acting_user: User | None) -> tuple[int, str, bool, str]:
    """(unit price, rule, typed by hand, reason). A price typed by hand that differs from the catalogue's
    needs ``override_prices`` and a reason."""
    if price is None or price == computed.unit_price:
        return computed.unit_price, computed.rule, False, ""
    if not whole(price, low=0, high=MAX_AMOUNT):
        raise pos_error(PosError.INVALID_PRICE)
    if acting_user is not None and not acting_user.has_perm(perm("override_prices")):
        raise pos_error(PosError.PRICE_OVERRIDE_DENIED)
    reason = text(reason, field="price_reason", max_length=200)
    if not reason:
        raise pos_error(PosError.PRICE_REASON_REQUIRED)
    return price, "manual", True, reason


def _audit_price(line: BillLine, bill: Bill, catalogue_price: int, acting_user: User | None) -> None:
    audit_record(
        action="pos.price_overridden",
        actor=acting_user,
        target=line,
        data={
            "bill": bill.number,
            "item": line.name,
            "catalogue_price": catalogue_price,
            "price": line.unit_price,
            "reason": line.price_reason,
        },
    )


# --- totals -------------------------------------------------------------------------------------------


def bill_refresh(bill: Bill) -> list[BillLine]:
    """Spread the bill's coupons over its lines again (dropping any that no longer apply) and write the
    bill's subtotal, discounts and total. Called after every change of lines or coupons, under the lock."""
    from apps.pos.services.bill_coupons import coupons_allocate

    lines = list(BillLine.objects.filter(bill=bill).order_by("position", "id"))
    coupons_allocate(bill, lines)
    bill.subtotal = sum(line.unit_price * line.quantity for line in lines)
    bill.discount_total = sum(line.discount for line in lines)
    bill.total = bill.subtotal - bill.discount_total
    bill.save(update_fields=["subtotal", "discount_total", "total", "updated_at"])
    return lines


# --- opening ------------------------------------------------------------------------------------------


def _number_take(day: datetime.date) -> str:
    """The next bill number of the salon's day, ``YYYYMMDD-NNNN``: one statement, so two tills never get
    the same number (the counter row is locked by the upsert until the bill's transaction ends)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO pos_billdaycounter (day, last) VALUES (%s, 1) "
            "ON CONFLICT (day) DO UPDATE SET last = pos_billdaycounter.last + 1 RETURNING last",
            [day],
        )
        (number,) = cursor.fetchone()
    return f"{day:%Y%m%d}-{number:04d}"


def _live_bill_of(appointment: Appointment) -> Bill | None:
    return Bill.objects.filter(appointment=appointment).exclude(status=BillStatus.VOIDED).first()


def _check_client(client: Client | None) -> None:
    if client is not None and not client.is_active:
        raise pos_error(PosError.CLIENT_INACTIVE)


@transaction.atomic
def bill_open(
    *,
    location: Location | None,
    client: Client | None = None,
    appointment: Appointment | None = None,
    kind: str = BillKind.STANDARD,
    room: Resource | None = None,
    notes: str = "",
    guest_count: int = 1,
    acting_user: User | None,
    idempotency_key: str | None = None,
) -> Bill:
    """Open a bill (``take_payments``): for a walk-in, a client, or a finished appointment, whose lines
    come over with the technician as the only earner (100%) at the appointment's quoted price (less the
    member discount where no tier price applies). One appointment has at most one live bill: opening it
    again returns that bill (the unique ``bill_one_live_per_appointment`` is the backstop). A replay of
    ``idempotency_key`` returns the bill it opened. A bill opened by this call carries ``opened_now``."""
    require(acting_user, "take_payments")
    key = key_checked(idempotency_key) if idempotency_key is not None else None
    if key is not None:
        earlier = Bill.objects.filter(idempotency_key=key).first()
        if earlier is not None:
            return earlier
    if kind not in BillKind.values:
        raise pos_error(PosError.INVALID_BILL_KIND)
    if room is not None and kind != BillKind.ROOM:
        raise pos_error(PosError.ROOM_ONLY_ON_ROOM_BILL)
    if kind == BillKind.ROOM and (room is None or not room.is_active):
        raise pos_error(PosError.ROOM_REQUIRED)
    if not whole(guest_count, low=1, high=50):
        raise pos_error(PosError.INVALID_GUEST_COUNT)
    notes = text(notes, field="notes", max_length=2000)
    lines: list[Any] = []
    if appointment is not None:
        live = _live_bill_of(appointment)
        if live is not None:
            return live
        # Two tills checking out one visit queue on the appointment's row; the second finds the first's bill.
        appointment = (
            Appointment.objects.select_for_update().select_related("client", "location").get(pk=appointment.pk)
        )
        live = _live_bill_of(appointment)
        if live is not None:
            return live
        if appointment.status != AppointmentStatus.DONE:
            raise pos_error(PosError.APPOINTMENT_NOT_DONE)
        if client is not None and client.pk != appointment.client_id:
            raise pos_error(PosError.CLIENT_MISMATCH)
        client, location = appointment.client, appointment.location
        lines = list(appointment.lines.filter(is_active=True).select_related("service", "staff").order_by("position"))
    if location is None or not location.is_active:
        raise pos_error(PosError.NO_LOCATION)
    if room is not None and room.location_id != location.pk:
        raise pos_error(PosError.ROOM_OTHER_LOCATION)
    _check_client(client)
    bill = Bill(
        location=location,
        client=client,
        appointment=appointment,
        kind=kind,
        room=room,
        notes=notes,
        guest_count=guest_count,
        tier_id=client.tier_id if client is not None else None,
        idempotency_key=key,
        opened_by=acting_user if acting_user is not None and acting_user.pk else None,
    )
    try:
        with transaction.atomic():
            bill.number = _number_take(timezone.now().astimezone(salon_timezone()).date())
            bill.save()
    except IntegrityError:
        # A concurrent open of the same appointment or key committed first: that bill is this one.
        winner = None
        if key is not None:
            winner = Bill.objects.filter(idempotency_key=key).first()
        if winner is None and appointment is not None:
            winner = _live_bill_of(appointment)
        if winner is None:
            raise
        return winner
    if lines:
        _lines_from_appointment(bill, lines)
        bill_refresh(bill)
    bill.opened_now = True  # type: ignore[attr-defined]
    return bill


def _lines_from_appointment(bill: Bill, appointment_lines: list[Any]) -> None:
    percent = member_percent(bill.tier_id)
    tier = MembershipTier(pk=bill.tier_id) if bill.tier_id is not None else None
    made: list[tuple[BillLine, User, bool]] = []
    for position, source in enumerate(appointment_lines):
        quote = service_price_quote(service=source.service, tier=tier, staff_level=staff_level(source.staff))
        unit_price, rule = source.price, "appointment"
        if quote.rule in ("base", "level") and percent < 100:
            unit_price, rule = percent_of(source.price, percent), "appointment_member"
        line = BillLine(
            bill=bill,
            position=position,
            kind=LineKind.SERVICE,
            service=source.service,
            appointment_line=source,
            name=source.service.name,
            quantity=1,
            list_price=source.service.price,
            unit_price=unit_price,
            price_rule=rule,
            amount=unit_price,
        )
        made.append((line, source.staff, source.is_requested))
    BillLine.objects.bulk_create([line for line, _staff, _requested in made])
    BillLineStaff.objects.bulk_create(
        [
            BillLineStaff(line=line, staff=staff, share=FULL_SHARE, is_requested=requested)
            for line, staff, requested in made
        ]
    )


@transaction.atomic
def bill_update(
    *,
    bill: Bill,
    acting_user: User | None,
    notes: Any = UNSET,
    guest_count: Any = UNSET,
    room: Any = UNSET,
) -> Bill:
    """Change a bill's notes (any time before it is closed), guests or room (while nothing is paid)."""
    require(acting_user, "take_payments")
    locked = bill_locked(bill.pk)
    if locked.status != BillStatus.OPEN:
        raise pos_error(PosError.BILL_ALREADY_PAID if locked.status == BillStatus.PAID else PosError.BILL_NOT_OPEN)
    fields = ["updated_at"]
    if notes is not UNSET:
        locked.notes = text(notes, field="notes", max_length=2000)
        fields.append("notes")
    if guest_count is not UNSET or room is not UNSET:
        editable(locked)
    if guest_count is not UNSET:
        if not whole(guest_count, low=1, high=50):
            raise pos_error(PosError.INVALID_GUEST_COUNT)
        locked.guest_count = guest_count
        fields.append("guest_count")
    if room is not UNSET:
        if room is not None and locked.kind != BillKind.ROOM:
            raise pos_error(PosError.ROOM_ONLY_ON_ROOM_BILL)
        if locked.kind == BillKind.ROOM and (room is None or not room.is_active):
            raise pos_error(PosError.ROOM_REQUIRED)
        if room is not None and room.location_id != locked.location_id:
            raise pos_error(PosError.ROOM_OTHER_LOCATION)
        locked.room = room
        fields.append("room")
    locked.save(update_fields=fields)
    return locked


# --- lines --------------------------------------------------------------------------------------------


def _kind_of(item: Item | None, top_up_amount: Any) -> str:
    if item is None:
        if top_up_amount is None:
            raise pos_error(PosError.ITEM_REQUIRED)
        return LineKind.TOP_UP
    if top_up_amount is not None:
        raise pos_error(PosError.ITEM_REQUIRED)
    kinds = {
        Service: LineKind.SERVICE,
        Product: LineKind.PRODUCT,
        Package: LineKind.PACKAGE,
        CourseCardTemplate: LineKind.COURSE_CARD,
    }
    kind = kinds.get(type(item))
    if kind is None:
        raise pos_error(PosError.ITEM_REQUIRED)
    if not item.is_active:
        raise pos_error(PosError.ITEM_INACTIVE)
    return kind


def _guest_checked(bill: Bill, guest: Client | None, guest_label: Any) -> tuple[Client | None, str]:
    label = text(guest_label, field="guest_label", max_length=60)
    if (guest is not None or label) and bill.kind != BillKind.GROUP:
        raise pos_error(PosError.GUEST_ONLY_ON_GROUP_BILL)
    if guest is not None and not guest.is_active:
        raise pos_error(PosError.CLIENT_INACTIVE, field="guest")
    return guest, label


def _top_up_amount(value: Any) -> int:
    from apps.loyalty.services._common import loyalty_settings

    if not whole(value, low=1, high=MAX_AMOUNT):
        raise pos_error(PosError.INVALID_AMOUNT)
    if value > loyalty_settings().max_transaction_amount:
        from apps.loyalty.errors import LoyaltyError, loyalty_error

        raise loyalty_error(LoyaltyError.AMOUNT_OVER_LIMIT)
    return int(value)


def _holder_not_needed(kind: str, item: Item | None) -> None:
    """A line nobody would hold is refused: a top-up and a course card need a client, and so does a
    package with services, whose sessions become a package card when the bill is paid (a package of
    products only is sold to a walk-in like its products)."""
    if kind in (LineKind.TOP_UP, LineKind.COURSE_CARD):
        raise pos_error(PosError.HOLDER_REQUIRED)
    if kind == LineKind.PACKAGE and isinstance(item, Package) and package_has_services(item):
        raise pos_error(
            PosError.HOLDER_REQUIRED, message=_("A package with services needs a client to hold its sessions.")
        )


def package_has_services(package: Package) -> bool:
    return PackageItem.objects.filter(package=package, service__isnull=False).exists()


def _item_fields(kind: str, item: Item | None) -> dict[str, Any]:
    return {
        "service": item if kind == LineKind.SERVICE else None,
        "product": item if kind == LineKind.PRODUCT else None,
        "package": item if kind == LineKind.PACKAGE else None,
        "course_template": item if kind == LineKind.COURSE_CARD else None,
    }


@transaction.atomic
def bill_line_add(
    *,
    bill: Bill,
    item: Item | None = None,
    top_up_amount: int | None = None,
    quantity: int = 1,
    staff: Sequence[StaffShare] = (),
    price: int | None = None,
    price_reason: str = "",
    guest: Client | None = None,
    guest_label: str = "",
    notes: str = "",
    acting_user: User | None,
) -> BillLine:
    """Add a line to an open bill nothing is paid on (``take_payments``): a service, product, package or
    course card from the catalogue (``item``), or a stored-value top-up of ``top_up_amount``. The unit
    price comes from ``line_price`` (the first staff member's level prices a service) unless ``price`` is
    typed by hand (``override_prices``, a reason, audited). Top-ups and course cards are one per line and
    need a client to hold them (the line's guest on a group bill, else the bill's client), as does a
    package with services (its sessions become the holder's package card when the bill is paid)."""
    require(acting_user, "take_payments")
    locked = bill_locked(bill.pk)
    editable(locked)
    kind = _kind_of(item, top_up_amount)
    if not whole(quantity, low=1, high=MAX_QUANTITY):
        raise pos_error(PosError.INVALID_QUANTITY)
    if kind in (LineKind.TOP_UP, LineKind.COURSE_CARD) and quantity != 1:
        raise pos_error(PosError.ONE_AT_A_TIME)
    shares = shares_checked(staff)
    guest, label = _guest_checked(locked, guest, guest_label)
    if guest is None and locked.client_id is None:
        _holder_not_needed(kind, item)
    notes = text(notes, field="notes", max_length=200)
    counted = BillLine.objects.filter(bill=locked).aggregate(n=Count("id"), last=Max("position"))
    if counted["n"] >= MAX_LINES:
        raise pos_error(PosError.TOO_MANY_LINES)
    if kind == LineKind.TOP_UP:
        amount = _top_up_amount(top_up_amount)
        computed = Price(amount, amount, "top_up")
        if price is not None and price != amount:
            raise pos_error(PosError.INVALID_PRICE)
    else:
        assert item is not None
        level = staff_level(shares[0].staff) if shares and kind == LineKind.SERVICE else None
        percent = member_percent(locked.tier_id) if kind == LineKind.SERVICE else 100
        computed = line_price(item=item, tier=locked.tier, level=level, percent=percent)
    unit_price, rule, manual, reason = _priced(computed, price=price, reason=price_reason, acting_user=acting_user)
    line = BillLine.objects.create(
        bill=locked,
        position=(counted["last"] + 1) if counted["last"] is not None else 0,
        kind=kind,
        **_item_fields(kind, item),
        guest=guest,
        guest_label=label,
        name=str(item) if item is not None else "",
        quantity=quantity,
        list_price=computed.list_price,
        unit_price=unit_price,
        price_rule=rule,
        is_manual_price=manual,
        price_reason=reason,
        amount=unit_price * quantity,
        notes=notes,
    )
    if kind == LineKind.TOP_UP:
        from django.utils.translation import gettext

        from apps.core.money import fen_to_yuan

        line.name = gettext("Stored-value top-up ¥%(amount)s") % {"amount": fen_to_yuan(unit_price)}
        line.save(update_fields=["name"])
    _shares_write(line, shares)
    if manual:
        _audit_price(line, locked, computed.unit_price, acting_user)
    bill_refresh(locked)
    line.refresh_from_db()
    return line


def _line_of(bill: Bill, line: BillLine) -> BillLine:
    found = BillLine.objects.filter(pk=line.pk, bill=bill).select_related(*_ITEM_RELATIONS).first()
    if found is None:
        raise pos_error(PosError.LINE_NOT_ON_BILL)
    return found


_ITEM_RELATIONS = ("service", "product", "package", "course_template", "appointment_line__staff")


@transaction.atomic
def bill_line_update(
    *,
    line: BillLine,
    acting_user: User | None,
    quantity: Any = UNSET,
    staff: Any = UNSET,
    price: Any = UNSET,
    price_reason: Any = "",
    guest: Any = UNSET,
    guest_label: Any = UNSET,
    notes: Any = UNSET,
) -> BillLine:
    """Change a line of an open bill nothing is paid on: its quantity, staff and shares, guest, note, or
    its price by hand (``override_prices``, a reason, audited; ``price=None`` goes back to the catalogue's
    price). A new first staff member reprices a service by their level unless the price was typed."""
    require(acting_user, "take_payments")
    locked = bill_locked(line.bill_id)
    editable(locked)
    current = _line_of(locked, line)
    fields: set[str] = set()
    if quantity is not UNSET:
        if not whole(quantity, low=1, high=MAX_QUANTITY):
            raise pos_error(PosError.INVALID_QUANTITY)
        if current.kind in (LineKind.TOP_UP, LineKind.COURSE_CARD) and quantity != 1:
            raise pos_error(PosError.ONE_AT_A_TIME)
        current.quantity = quantity
        fields.add("quantity")
    shares: list[StaffShare] | None = None
    if staff is not UNSET:
        shares = shares_checked(staff)
    if guest is not UNSET or guest_label is not UNSET:
        new_guest, label = _guest_checked(
            locked,
            current.guest if guest is UNSET else guest,
            current.guest_label if guest_label is UNSET else guest_label,
        )
        if new_guest is None and locked.client_id is None:
            _holder_not_needed(current.kind, current.package)
        current.guest, current.guest_label = new_guest, label
        fields.update({"guest", "guest_label"})
    if notes is not UNSET:
        current.notes = text(notes, field="notes", max_length=200)
        fields.add("notes")
    manual, catalogue = False, None
    lead_changed = shares is not None and current.kind == LineKind.SERVICE
    if price is not UNSET or (lead_changed and not current.is_manual_price):
        if shares is not None:
            lead = shares[0].staff if shares else None
        else:
            first = current.staff_shares.order_by("-share", "id").select_related("staff").first()
            lead = first.staff if first is not None else None
        catalogue = _catalogue_price(current, locked, lead)
        if price is UNSET:
            current.unit_price, current.price_rule = catalogue.unit_price, catalogue.rule
        else:
            if current.kind == LineKind.TOP_UP and price is not None and price != current.unit_price:
                raise pos_error(PosError.INVALID_PRICE)
            unit_price, rule, manual, reason = _priced(
                catalogue, price=price, reason=price_reason, acting_user=acting_user
            )
            current.unit_price, current.price_rule = unit_price, rule
            current.is_manual_price, current.price_reason = manual, reason
        fields.update({"unit_price", "price_rule", "is_manual_price", "price_reason"})
    if fields:
        current.discount = 0
        current.amount = current.unit_price * current.quantity
        fields.update({"discount", "amount"})
        current.save(update_fields=sorted(fields))
    if shares is not None:
        current.staff_shares.all().delete()
        _shares_write(current, shares)
    if manual and catalogue is not None:
        _audit_price(current, locked, catalogue.unit_price, acting_user)
    bill_refresh(locked)
    current.refresh_from_db()
    return current


def _catalogue_price(line: BillLine, bill: Bill, lead: User | None) -> Price:
    """What the line costs by the rules (not by hand): a top-up its amount; a line brought over from an
    appointment the quoted price (less the member discount where no tier price applies); any other line
    the catalogue's price for the bill's tier and the lead technician's level."""
    if line.kind == LineKind.TOP_UP:
        return Price(line.list_price, line.list_price, "top_up")
    percent = member_percent(bill.tier_id) if line.kind == LineKind.SERVICE else 100
    if line.appointment_line_id is not None and line.service is not None:
        source = line.appointment_line
        assert source is not None
        tier = MembershipTier(pk=bill.tier_id) if bill.tier_id is not None else None
        quote = service_price_quote(service=line.service, tier=tier, staff_level=staff_level(source.staff))
        if quote.rule in ("base", "level") and percent < 100:
            return Price(line.list_price, percent_of(source.price, percent), "appointment_member")
        return Price(line.list_price, source.price, "appointment")
    item = line.service or line.product or line.package or line.course_template
    assert item is not None
    level = staff_level(lead) if line.kind == LineKind.SERVICE else None
    return line_price(item=item, tier=bill.tier, level=level, percent=percent)


@transaction.atomic
def bill_line_remove(*, line: BillLine, acting_user: User | None) -> None:
    """Take a line off an open bill nothing is paid on; the coupons are spread over the rest again."""
    require(acting_user, "take_payments")
    locked = bill_locked(line.bill_id)
    editable(locked)
    current = _line_of(locked, line)
    current.delete()
    bill_refresh(locked)


# --- voiding ------------------------------------------------------------------------------------------


def void_written(
    locked: Bill, *, reason: str, acting_user: User | None, given_back: dict[int, int] | None = None
) -> None:
    """The open bill (locked by the caller) voided and audited, with what its tenders were given back
    (``refunds.bill_void``) — the one writer of a void."""
    locked.status = BillStatus.VOIDED
    locked.voided_at = timezone.now()
    locked.void_reason = reason
    locked.closed_by = acting_user if acting_user is not None and acting_user.pk else None
    locked.save(update_fields=["status", "voided_at", "void_reason", "closed_by", "refunded_total", "updated_at"])
    audit_record(
        action="pos.bill_voided",
        actor=acting_user,
        target=locked,
        data={
            "number": locked.number,
            "total": locked.total,
            "reason": reason,
            "given_back": {str(pk): part for pk, part in (given_back or {}).items()},
        },
    )


# --- top-ups sold over the counter ----------------------------------------------------------------------

# The idempotency key of a bill opened by ``top_ups.top_up_sell``: ``top-up:`` and a digest of the caller's key.
TOP_UP_SALE_KEY_PREFIX = "top-up:"


def is_top_up_sale(bill: Bill) -> bool:
    """A bill opened by ``top_ups.top_up_sell`` for a top-up and nothing else."""
    key = bill.idempotency_key or ""
    return key.startswith(TOP_UP_SALE_KEY_PREFIX) and not bill.lines.exclude(kind=LineKind.TOP_UP).exists()


def top_up_sale_void_unpaid(locked: Bill, *, reason: str) -> None:
    """A top-up sale whose payment failed (the gateway refused it, the client did not confirm, the cashier
    cancelled it) is voided by the system, audited with the gateway's reason: the top-up was not sold, and
    no open bill is left behind for someone to take a second payment on. Called under the bill's lock;
    a bill with something paid or pending, or not open, is left as it is."""
    if not is_top_up_sale(locked) or locked.status != BillStatus.OPEN or locked.paid_total or _pending_tenders(locked):
        return
    void_written(locked, reason=reason[:200], acting_user=None)
