"""Coupons on a draft bill (LOY-6): what each of a client's coupons takes off, the reason one does not
apply, and the best combination the stacking rules allow.

Each coupon's discount is worked out on the bill as it stands before any coupon (the line totals after
price rules); stacked discounts add up and the total never exceeds the bill's subtotal. Everything here
is integer fen and deterministic: equal choices are settled by the earliest expiry, then the oldest coupon.
"""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from apps.core.db import salon_today
from apps.core.money import MAX_AMOUNT
from apps.crm.models import Client
from apps.loyalty.errors import MESSAGES, LoyaltyError, loyalty_error
from apps.loyalty.models import Coupon, CouponKind, CouponStatus, CouponTemplate

LINE_KINDS = ("service", "product", "other")
MAX_LINES = 500
MAX_QUANTITY = 10_000
# The best combination tries every subset of this many stackable coupons (4,096 subsets); a client
# holding more stackable coupons has the ones taking off least left out of the search.
MAX_STACK_SEARCH = 12


@dataclass(frozen=True)
class DraftLine:
    """One line of a bill not yet paid: ``amount`` is the line total in fen after price rules."""

    kind: str
    item_id: int | None
    amount: int
    quantity: int = 1

    @property
    def unit_price(self) -> int:
        return self.amount // self.quantity


@dataclass(frozen=True)
class CouponOption:
    """What ``coupon`` would take off this bill, or why it cannot be used (then ``discount`` is 0)."""

    coupon: Coupon
    discount: int
    reason_if_not_applicable: LoyaltyError | None = None

    @property
    def applicable(self) -> bool:
        return self.reason_if_not_applicable is None

    @property
    def reason_message(self) -> str:
        return "" if self.reason_if_not_applicable is None else str(MESSAGES[self.reason_if_not_applicable])


@dataclass(frozen=True)
class Eligibility:
    services: frozenset[int] = frozenset()
    products: frozenset[int] = frozenset()

    @property
    def is_restricted(self) -> bool:
        return bool(self.services or self.products)


def _whole(value: Any, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def lines_checked(lines: Iterable[Any]) -> list[DraftLine]:
    """The draft lines, refused with COUPON_INVALID_LINE when one is malformed."""
    checked: list[DraftLine] = []
    for line in lines:
        if not isinstance(line, DraftLine) or line.kind not in LINE_KINDS:
            raise loyalty_error(LoyaltyError.COUPON_INVALID_LINE)
        item_ok = line.item_id is None if line.kind == "other" else _whole(line.item_id, 1, 2**63 - 1)
        if not (item_ok and _whole(line.amount, 0, MAX_AMOUNT) and _whole(line.quantity, 1, MAX_QUANTITY)):
            raise loyalty_error(LoyaltyError.COUPON_INVALID_LINE)
        checked.append(line)
    if len(checked) > MAX_LINES or sum(line.amount for line in checked) > MAX_AMOUNT:
        raise loyalty_error(LoyaltyError.COUPON_INVALID_LINE)
    return checked


def eligibility_of(template_ids: Iterable[int]) -> dict[int, Eligibility]:
    """The eligible services and products of each template, read from the two link tables in two queries."""
    ids = sorted(set(template_ids))
    services: dict[int, set[int]] = {pk: set() for pk in ids}
    products: dict[int, set[int]] = {pk: set() for pk in ids}
    service_links = CouponTemplate.eligible_services.through.objects.filter(coupontemplate_id__in=ids)
    for template_id, service_id in service_links.values_list("coupontemplate_id", "service_id"):
        services[template_id].add(service_id)
    product_links = CouponTemplate.eligible_products.through.objects.filter(coupontemplate_id__in=ids)
    for template_id, product_id in product_links.values_list("coupontemplate_id", "product_id"):
        products[template_id].add(product_id)
    return {pk: Eligibility(frozenset(services[pk]), frozenset(products[pk])) for pk in ids}


def _eligible_lines(kind: str, lines: Sequence[DraftLine], eligible: Eligibility) -> list[DraftLine]:
    """The lines a coupon of ``kind`` applies to: a trial, the eligible services (any service when the
    template names none); a product discount, the eligible products; the other kinds, the whole bill
    unless the template names items."""
    services, products = eligible.services, eligible.products
    if kind == CouponKind.SERVICE_TRIAL:
        return [li for li in lines if li.kind == "service" and (not services or li.item_id in services)]
    if kind == CouponKind.PRODUCT_DISCOUNT:
        return [li for li in lines if li.kind == "product" and (not products or li.item_id in products)]
    if not eligible.is_restricted:
        return list(lines)
    return [
        li
        for li in lines
        if (li.kind == "service" and li.item_id in services) or (li.kind == "product" and li.item_id in products)
    ]


def eligible_lines(coupon: Coupon, lines: Sequence[DraftLine], *, eligible: Eligibility) -> list[DraftLine]:
    """The lines of a bill ``coupon`` applies to (the same objects as in ``lines``): the till spreads the
    coupon's discount over them."""
    return _eligible_lines(coupon.template.kind, lines, eligible)


def _percent_of(base: int, percent: int, cap: int | None) -> int:
    """``percent`` of ``base`` rounded half up to the fen, capped by the template's largest discount."""
    discount = (base * percent + 50) // 100
    return discount if cap is None else min(discount, cap)


def coupon_discount(
    coupon: Coupon, lines: Sequence[DraftLine], *, eligible: Eligibility, today: datetime.date
) -> tuple[int, LoyaltyError | None]:
    """(discount, None) when ``coupon`` applies to the bill, else (0, the reason). ``lines`` are checked."""
    template = coupon.template
    if coupon.status != CouponStatus.AVAILABLE:
        return 0, LoyaltyError.COUPON_NOT_AVAILABLE
    if coupon.valid_from > today:
        return 0, LoyaltyError.COUPON_NOT_YET_VALID
    if coupon.valid_until is not None and coupon.valid_until < today:
        return 0, LoyaltyError.COUPON_EXPIRED
    if sum(line.amount for line in lines) < template.min_spend:
        return 0, LoyaltyError.COUPON_MIN_SPEND
    eligible_lines = _eligible_lines(template.kind, lines, eligible)
    if not eligible_lines:
        return 0, LoyaltyError.COUPON_NO_ELIGIBLE_ITEM
    base = sum(line.amount for line in eligible_lines)
    if template.kind == CouponKind.MONEY_OFF:
        return min(template.value, base), None
    if template.kind in (CouponKind.PERCENTAGE, CouponKind.PRODUCT_DISCOUNT):
        return min(_percent_of(base, template.value, template.max_discount), base), None
    if template.kind == CouponKind.SERVICE_TRIAL:
        # One session at the trial price: the dearest eligible service (the first such line on a tie).
        dearest = max(line.unit_price for line in eligible_lines)
        return max(0, dearest - template.value), None
    return 0, None  # a gift takes nothing off; the till hands over ``template.gift``


def _expiry(coupon: Coupon) -> datetime.date:
    return coupon.valid_until or datetime.date.max


def _preference(option: CouponOption) -> tuple[Any, ...]:
    """Larger discount first; equal ones: the coupon that expires first, then the oldest."""
    return (-option.discount, _expiry(option.coupon), option.coupon.pk)


def coupons_available_to(client: Client) -> list[Coupon]:
    return list(
        Coupon.objects.filter(client=client, status=CouponStatus.AVAILABLE)
        .select_related("template")
        .order_by("valid_until", "id")
    )


def options_for(coupons: Sequence[Coupon], lines: Sequence[DraftLine], *, today: datetime.date) -> list[CouponOption]:
    eligibility = eligibility_of(c.template_id for c in coupons)
    options = []
    for coupon in coupons:
        discount, reason = coupon_discount(coupon, lines, eligible=eligibility[coupon.template_id], today=today)
        options.append(CouponOption(coupon=coupon, discount=discount, reason_if_not_applicable=reason))
    return options


def coupon_quote(*, client: Client, lines: Iterable[Any], today: datetime.date | None = None) -> list[CouponOption]:
    """Every coupon the client holds unused, with what it takes off this bill or why it cannot be used:
    the usable ones first, largest discount first (then earliest expiry)."""
    checked = lines_checked(lines)
    options = options_for(coupons_available_to(client), checked, today=today or salon_today())
    return sorted(options, key=lambda o: (not o.applicable, *_preference(o)))


def _allowed_together(options: Sequence[CouponOption]) -> bool:
    """Several coupons on one bill: all stackable, and at most one of a template that is one per bill."""
    if len(options) < 2:
        return True
    seen: set[int] = set()
    for option in options:
        template = option.coupon.template
        if not template.stackable:
            return False
        if template.one_per_bill:
            if template.pk in seen:
                return False
            seen.add(template.pk)
    return True


def allowed_together(coupons: Sequence[Coupon]) -> bool:
    """Whether these coupons may be used on one bill (all stackable, a one-per-bill template at most once)."""
    return _allowed_together([CouponOption(coupon=c, discount=0) for c in coupons])


def best_combination(options: Sequence[CouponOption], subtotal: int) -> tuple[list[Coupon], int]:
    """The coupons to use and the total they take off (never above ``subtotal``): the largest total; on
    a tie the fewest coupons, then those expiring first, then the oldest. A coupon that takes nothing
    off (a gift) is never chosen here; the till offers it separately."""
    candidates = sorted((o for o in options if o.applicable and o.discount > 0), key=_preference)
    if subtotal <= 0 or not candidates:
        return [], 0
    stackable = [o for o in candidates if o.coupon.template.stackable][:MAX_STACK_SEARCH]
    combinations: list[tuple[CouponOption, ...]] = [(o,) for o in candidates]
    for size in range(2, len(stackable) + 1):
        combinations.extend(c for c in itertools.combinations(stackable, size) if _allowed_together(c))

    def rank(combo: tuple[CouponOption, ...]) -> tuple[Any, ...]:
        total = min(sum(o.discount for o in combo), subtotal)
        return (
            -total,
            len(combo),
            tuple(sorted(_expiry(o.coupon) for o in combo)),
            tuple(sorted(o.coupon.pk for o in combo)),
        )

    best = min(combinations, key=rank)
    return [o.coupon for o in best], min(sum(o.discount for o in best), subtotal)


def allocate(options: Sequence[CouponOption], subtotal: int) -> dict[int, int]:
    """Each coupon's share of a combination's discount, so the shares add up to at most ``subtotal``:
    taken in order of preference, each gets its own discount or what is left of the bill."""
    left = subtotal
    shares: dict[int, int] = {}
    for option in sorted(options, key=_preference):
        share = min(option.discount if option.applicable else 0, left)
        shares[option.coupon.pk] = share
        left -= share
    return shares


def coupon_best(
    *, client: Client, lines: Iterable[Any], today: datetime.date | None = None
) -> tuple[list[Coupon], int]:
    """The best valid combination of the client's coupons for the bill and the total it takes off."""
    checked = lines_checked(lines)
    options = coupon_quote(client=client, lines=checked, today=today)
    return best_combination(options, sum(line.amount for line in checked))
