"""Coupons on a bill (POS-1, LOY-6): the best combination suggested by loyalty, coupons applied and
removed, and their discount spread over the lines they apply to.

What each coupon takes off is loyalty's rule (``coupon_pricing``): worked out on the lines as priced
(before any coupon), stacked shares never above the bill's subtotal. The till then spreads each
coupon's share over its eligible lines in proportion to what is left of each (a trial voucher on its
dearest eligible service), so every line keeps ``amount = unit_price × quantity − discount ≥ 0``.
Top-up lines are never discounted and do not count towards a minimum spend. The coupons are redeemed
in loyalty only when the bill is paid (``services.checkout``)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db import transaction

from apps.core.db import salon_today
from apps.core.models import User
from apps.loyalty.errors import loyalty_error
from apps.loyalty.models import Coupon, CouponKind
from apps.loyalty.services.coupon_pricing import (
    CouponOption,
    DraftLine,
    allocate,
    allowed_together,
    best_combination,
    coupon_quote,
    eligibility_of,
    eligible_lines,
    options_for,
)
from apps.pos.errors import PosError, pos_error
from apps.pos.models import Bill, BillCoupon, BillLine, LineKind
from apps.pos.services.bills import bill_locked, bill_refresh, editable, require


def draft_lines(lines: list[BillLine]) -> tuple[list[DraftLine], dict[int, BillLine]]:
    """The bill's lines as loyalty's coupon rules read them (top-ups left out), and which bill line each
    draft line stands for (by the draft line's identity)."""
    drafts: list[DraftLine] = []
    by_draft: dict[int, BillLine] = {}
    for line in lines:
        if line.kind == LineKind.TOP_UP:
            continue
        if line.kind == LineKind.SERVICE:
            draft = DraftLine("service", line.service_id, line.unit_price * line.quantity, line.quantity)
        elif line.kind == LineKind.PRODUCT:
            draft = DraftLine("product", line.product_id, line.unit_price * line.quantity, line.quantity)
        else:
            draft = DraftLine("other", None, line.unit_price * line.quantity, line.quantity)
        drafts.append(draft)
        by_draft[id(draft)] = line
    return drafts, by_draft


def _preference(option: CouponOption) -> tuple[int, datetime.date, int]:
    return (-option.discount, option.coupon.valid_until or datetime.date.max, option.coupon.pk)


def _spread(amount: int, targets: list[BillLine], room: dict[int, int], given: dict[int, int]) -> int:
    """Spread ``amount`` over ``targets`` in proportion to the discount room each has left (the largest
    remainders take the odd fen), never above that room; returns what was placed."""
    total_room = sum(room[line.pk] for line in targets)
    amount = min(amount, total_room)
    if amount <= 0:
        return 0
    parts = {line.pk: amount * room[line.pk] // total_room for line in targets}
    left = amount - sum(parts.values())
    by_remainder = sorted(targets, key=lambda line: (-(amount * room[line.pk] % total_room), line.position, line.pk))
    for line in by_remainder[:left]:
        parts[line.pk] += 1
    for pk, part in parts.items():
        room[pk] -= part
        given[pk] += part
    return amount


def coupons_allocate(bill: Bill, lines: list[BillLine]) -> list[BillCoupon]:
    """Work out the bill's coupons again on ``lines`` and write each line's discount (and amount) and each
    coupon's share. A coupon that no longer applies (a line removed, the minimum spend no longer met) is
    taken off the bill. Returns the coupons left on it."""
    applied = list(BillCoupon.objects.filter(bill=bill).select_related("coupon__template").order_by("id"))
    given = {line.pk: 0 for line in lines}
    kept: list[BillCoupon] = []
    if applied:
        drafts, by_draft = draft_lines(lines)
        options = options_for([bc.coupon for bc in applied], drafts, today=salon_today())
        usable = [o for o in options if o.applicable and o.discount > 0]
        shares = allocate(usable, sum(d.amount for d in drafts))
        eligibility = eligibility_of(o.coupon.template_id for o in usable)
        room = {line.pk: line.unit_price * line.quantity for line in lines if line.kind != LineKind.TOP_UP}
        placed: dict[int, int] = {}
        for option in sorted(usable, key=_preference):
            coupon = option.coupon
            targets = [
                by_draft[id(d)] for d in eligible_lines(coupon, drafts, eligible=eligibility[coupon.template_id])
            ]
            if coupon.template.kind == CouponKind.SERVICE_TRIAL and targets:
                dearest = max(line.unit_price for line in targets)
                targets = [next(line for line in targets if line.unit_price == dearest)]
            placed[coupon.pk] = _spread(shares.get(coupon.pk, 0), targets, room, given)
        gone = [bc.pk for bc in applied if placed.get(bc.coupon_id, 0) <= 0]
        if gone:
            BillCoupon.objects.filter(pk__in=gone).delete()
        kept = [bc for bc in applied if placed.get(bc.coupon_id, 0) > 0]
        changed_coupons = [bc for bc in kept if bc.discount != placed[bc.coupon_id]]
        for bc in changed_coupons:
            bc.discount = placed[bc.coupon_id]
        if changed_coupons:
            BillCoupon.objects.bulk_update(changed_coupons, ["discount"])
    changed_lines = []
    for line in lines:
        if line.discount != given[line.pk]:
            line.discount = given[line.pk]
            line.amount = line.unit_price * line.quantity - line.discount
            changed_lines.append(line)
    if changed_lines:
        BillLine.objects.bulk_update(changed_lines, ["discount", "amount"])
    return kept


@dataclass(frozen=True)
class CouponAdvice:
    """Every unused coupon of the bill's client with what it would take off or why it cannot be used,
    and the best combination the stacking rules allow."""

    options: list[CouponOption]
    best: list[Coupon]
    best_discount: int


def bill_coupon_suggest(*, bill: Bill) -> CouponAdvice:
    """Loyalty's best coupons for the bill as it stands (walk-ins hold none)."""
    if bill.client_id is None:
        return CouponAdvice([], [], 0)
    drafts, _by_draft = draft_lines(list(BillLine.objects.filter(bill=bill).order_by("position", "id")))
    assert bill.client is not None
    options = coupon_quote(client=bill.client, lines=drafts)
    best, discount = best_combination(options, sum(d.amount for d in drafts))
    return CouponAdvice(options, best, discount)


@transaction.atomic
def bill_coupon_apply(*, bill: Bill, coupon: Coupon, acting_user: User | None) -> Bill:
    """Put one of the client's coupons on an open bill nothing is paid on (``take_payments``): refused when
    it does not apply to the bill (loyalty's reason), takes nothing off (a gift is handed over, not
    applied), or cannot be combined with the coupons already on it. The discounts are spread again."""
    require(acting_user, "take_payments")
    locked = bill_locked(bill.pk)
    editable(locked)
    if locked.client_id is None:
        raise pos_error(PosError.COUPON_NEEDS_CLIENT)
    coupon = Coupon.objects.select_related("template").get(pk=coupon.pk)
    if coupon.client_id != locked.client_id:
        raise pos_error(PosError.COUPON_NOT_CLIENTS)
    on_bill = list(
        Coupon.objects.filter(pk__in=BillCoupon.objects.filter(bill=locked).values("coupon_id")).select_related(
            "template"
        )
    )
    if any(c.pk == coupon.pk for c in on_bill):
        raise pos_error(PosError.COUPON_ALREADY_APPLIED)
    if not allowed_together([*on_bill, coupon]):
        raise pos_error(PosError.COUPON_NOT_TOGETHER)
    lines = list(BillLine.objects.filter(bill=locked).order_by("position", "id"))
    drafts, _by_draft = draft_lines(lines)
    (option,) = options_for([coupon], drafts, today=salon_today())
    if option.reason_if_not_applicable is not None:
        raise loyalty_error(option.reason_if_not_applicable, field="coupon")
    if option.discount <= 0:
        raise pos_error(PosError.COUPON_NOT_USABLE)
    BillCoupon.objects.create(bill=locked, coupon=coupon, discount=option.discount)
    bill_refresh(locked)
    if not BillCoupon.objects.filter(bill=locked, coupon=coupon).exists():
        raise pos_error(PosError.COUPON_NOT_USABLE)  # the other coupons already take off all it could
    return locked


@transaction.atomic
def bill_coupons_apply_best(*, bill: Bill, acting_user: User | None) -> Bill:
    """Replace the bill's coupons with loyalty's best combination for it."""
    require(acting_user, "take_payments")
    locked = bill_locked(bill.pk)
    editable(locked)
    if locked.client_id is None:
        raise pos_error(PosError.COUPON_NEEDS_CLIENT)
    advice = bill_coupon_suggest(bill=locked)
    BillCoupon.objects.filter(bill=locked).delete()
    for coupon in advice.best:
        BillCoupon.objects.create(bill=locked, coupon=coupon, discount=max(1, advice.best_discount))
    bill_refresh(locked)
    return locked


@transaction.atomic
def bill_coupon_remove(*, bill: Bill, coupon: Coupon, acting_user: User | None) -> Bill:
    """Take a coupon off an open bill nothing is paid on; the other discounts are spread again."""
    require(acting_user, "take_payments")
    locked = bill_locked(bill.pk)
    editable(locked)
    deleted, _rows = BillCoupon.objects.filter(bill=locked, coupon=coupon).delete()
    if not deleted:
        raise pos_error(PosError.COUPON_NOT_APPLIED)
    bill_refresh(locked)
    return locked
