"""Reads of the member centre (LOY-9): what a signed-in client sees of their own account.

Every read takes the session's client and filters by it, so nothing of another client is reachable;
each page costs a fixed number of queries whatever the client holds."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db.models import Min, Prefetch, Q, QuerySet, Sum, prefetch_related_objects

from apps.catalog.models import Product, Service
from apps.core.crypto import search_hash
from apps.core.db import salon_today
from apps.crm.models import Client, MembershipTier
from apps.loyalty.models import (
    Coupon,
    CouponStatus,
    CourseCard,
    CourseCardBalance,
    CourseCardStatus,
    CourseRedemption,
    MemberCard,
    PointsEntry,
    PointsLot,
    TierBasis,
    TierBenefit,
    Wallet,
    WalletEntry,
)
from apps.loyalty.models.cards import CURRENT
from apps.loyalty.selectors_tiers import tier_progress as staff_tier_progress

# Points that expire within this many days are pointed out on the home page.
EXPIRING_SOON_DAYS = 30
# Used and expired coupons are shown collapsed, the most recent this many.
PAST_COUPONS_SHOWN = 50


# --- who is signing in ---------------------------------------------------------------------------


def member_by_phone(phone: str) -> Client | None:
    """The active client whose phone is ``phone`` (E.164), found by its keyed hash (phones are encrypted)."""
    if not phone:
        return None
    return Client.objects.filter(is_active=True, phone_hash=search_hash(phone)).only("id", "phone").first()


def member_client(client_id: int) -> Client | None:
    """The session's client with their tier and its benefits, or None once the record is no longer active
    (merged or erased clients lose their member centre at once)."""
    return Client.objects.select_related("tier__benefit").filter(pk=client_id, is_active=True).first()


# --- home ----------------------------------------------------------------------------------------


def mask_card_number(number: str) -> str:
    """Every character but the last four hidden: VIP00012345 → *******2345."""
    if not number:
        return ""
    return "*" * max(len(number) - 4, 4) + number[-4:]


@dataclass(frozen=True)
class TierProgress:
    """The client's tier and how far the 12-month figure (spend in fen, or points) is from the next one."""

    tier: MembershipTier | None
    benefit: TierBenefit | None
    basis: str
    figure: int
    next_tier: MembershipTier | None
    next_threshold: int | None

    @property
    def by_spend(self) -> bool:
        return self.basis == TierBasis.SPEND

    @property
    def remaining(self) -> int:
        return max((self.next_threshold or 0) - self.figure, 0)

    @property
    def percent(self) -> int:
        if not self.next_threshold:
            return 100
        return max(0, min(100, self.figure * 100 // self.next_threshold))

    @property
    def perks(self) -> list[str]:
        text = self.benefit.perks if self.benefit is not None else ""
        return [line.strip() for line in text.splitlines() if line.strip()]


@dataclass(frozen=True)
class MemberHome:
    client: Client
    principal: int
    bonus: int
    points: int
    card: MemberCard | None
    expiring_points: int
    expiring_on: datetime.date | None
    tier: TierProgress
    coupons_usable: int
    course_cards_usable: int

    @property
    def balance(self) -> int:
        return self.principal + self.bonus

    @property
    def card_number_masked(self) -> str:
        return mask_card_number(self.card.number) if self.card is not None else ""


def tier_progress(client: Client) -> TierProgress:
    """The client's tier, its benefits, and the way to the next one: the same figure and ladder the tier
    evaluation uses (``selectors_tiers.tier_progress``), so the member sees what the salon sees."""
    progress = staff_tier_progress(client)
    current_benefit = getattr(client.tier, "benefit", None) if client.tier is not None else None
    return TierProgress(
        tier=client.tier,
        benefit=current_benefit,
        basis=progress.basis,
        figure=progress.figure,
        next_tier=progress.next_tier,
        next_threshold=progress.next_threshold,
    )


def _usable_coupons(client: Client, today: datetime.date) -> QuerySet[Coupon]:
    return Coupon.objects.filter(client=client, status=CouponStatus.AVAILABLE).filter(
        Q(valid_until__isnull=True) | Q(valid_until__gte=today)
    )


def member_home(client: Client) -> MemberHome:
    """Balances (principal and bonus apart), points and those expiring soon, the card, the tier and
    its progress, and how many coupons and course cards are usable. Opens no wallet."""
    today = salon_today()
    wallet = Wallet.objects.filter(client=client).only("id", "principal", "bonus", "points").first()
    card = MemberCard.objects.filter(client=client, status__in=CURRENT).first()
    expiring: dict[str, object] = {"points": 0, "first": None}
    if wallet is not None:
        expiring = PointsLot.objects.filter(
            wallet=wallet,
            remaining__gt=0,
            expires_on__gte=today,
            expires_on__lte=today + datetime.timedelta(days=EXPIRING_SOON_DAYS),
        ).aggregate(points=Sum("remaining", default=0), first=Min("expires_on"))
    return MemberHome(
        client=client,
        principal=wallet.principal if wallet else 0,
        bonus=wallet.bonus if wallet else 0,
        points=wallet.points if wallet else 0,
        card=card,
        expiring_points=int(expiring["points"] or 0),  # type: ignore[call-overload]
        expiring_on=expiring["first"],  # type: ignore[arg-type]
        tier=tier_progress(client),
        coupons_usable=_usable_coupons(client, today).count(),
        course_cards_usable=CourseCard.objects.filter(
            Q(expires_on__isnull=True) | Q(expires_on__gte=today), client=client, status=CourseCardStatus.ACTIVE
        ).count(),
    )


# --- coupons -------------------------------------------------------------------------------------


class CouponState:
    USABLE = "usable"
    NOT_YET_VALID = "not_yet_valid"
    REDEEMED = "redeemed"
    EXPIRED = "expired"
    VOIDED = "voided"


@dataclass(frozen=True)
class MemberCoupon:
    coupon: Coupon
    state: str
    services: list[str] = field(default_factory=list)
    products: list[str] = field(default_factory=list)

    @property
    def template(self) -> object:
        return self.coupon.template


@dataclass(frozen=True)
class MemberCoupons:
    usable: list[MemberCoupon]
    past: list[MemberCoupon]


def _coupon_state(coupon: Coupon, today: datetime.date) -> str:
    if coupon.status == CouponStatus.REDEEMED:
        return CouponState.REDEEMED
    if coupon.status == CouponStatus.VOIDED:
        return CouponState.VOIDED
    if coupon.valid_until is not None and coupon.valid_until < today:
        return CouponState.EXPIRED
    if coupon.valid_from > today:
        return CouponState.NOT_YET_VALID
    return CouponState.USABLE


def member_coupons(client: Client) -> MemberCoupons:
    """Coupons still to use (soonest to expire first) with their conditions, and the latest used,
    expired or voided ones. Four queries: two lists and the eligible services and products."""
    today = salon_today()
    usable = list(
        _usable_coupons(client, today).select_related("template").order_by("valid_until", "id")
    )  # PostgreSQL puts NULLs (no expiry) last in ascending order
    past = list(
        Coupon.objects.filter(client=client)
        .filter(~Q(status=CouponStatus.AVAILABLE) | Q(valid_until__lt=today))
        .select_related("template")
        .order_by("-id")[:PAST_COUPONS_SHOWN]
    )
    # One instance per template, shared by its coupons, so the prefetch below serves them all.
    templates = {c.template_id: c.template for c in [*usable, *past]}
    for coupon in [*usable, *past]:
        coupon.template = templates[coupon.template_id]
    prefetch_related_objects(
        list(templates.values()),
        Prefetch("eligible_services", queryset=Service.objects.only("id", "name").order_by("name")),
        Prefetch("eligible_products", queryset=Product.objects.only("id", "name").order_by("name")),
    )

    def view(coupon: Coupon) -> MemberCoupon:
        template = coupon.template
        return MemberCoupon(
            coupon=coupon,
            state=_coupon_state(coupon, today),
            services=[s.name for s in template.eligible_services.all()],
            products=[p.name for p in template.eligible_products.all()],
        )

    return MemberCoupons(usable=[view(c) for c in usable], past=[view(c) for c in past])


# --- course cards --------------------------------------------------------------------------------


@dataclass(frozen=True)
class MemberCourseCard:
    card: CourseCard
    balances: list[CourseCardBalance]
    is_expired: bool

    @property
    def is_usable(self) -> bool:
        return self.card.status == CourseCardStatus.ACTIVE and not self.is_expired

    @property
    def sessions_left(self) -> int:
        return sum(b.sessions_left for b in self.balances)


def _balances() -> Prefetch:
    return Prefetch("balances", queryset=CourseCardBalance.objects.select_related("service").order_by("id"))


def member_course_cards(client: Client) -> list[MemberCourseCard]:
    """The client's course cards, usable ones first (soonest to expire first), then the rest, newest
    first; sessions left per service. Two queries."""
    today = salon_today()
    cards = CourseCard.objects.filter(client=client).prefetch_related(_balances()).order_by("-id")
    views = [
        MemberCourseCard(card=c, balances=list(c.balances.all()), is_expired=c.is_expired_on(today)) for c in cards
    ]
    # Soonest to expire first; a card that never expires after every dated one.
    usable = sorted(
        (v for v in views if v.is_usable),
        key=lambda v: (v.card.expires_on is None, v.card.expires_on or datetime.date.max, v.card.pk),
    )
    return usable + [v for v in views if not v.is_usable]


def member_course_card(client: Client, card_id: int) -> MemberCourseCard | None:
    """One course card of the client's own, else None (another client's card is not found)."""
    card = CourseCard.objects.filter(client=client, pk=card_id).prefetch_related(_balances()).first()
    if card is None:
        return None
    return MemberCourseCard(card=card, balances=list(card.balances.all()), is_expired=card.is_expired_on(salon_today()))


# --- history -------------------------------------------------------------------------------------


def wallet_history(client: Client) -> QuerySet[WalletEntry]:
    """Stored-value entries, newest first."""
    return WalletEntry.objects.filter(wallet__client=client).order_by("-id")


def points_history(client: Client) -> QuerySet[PointsEntry]:
    """Points entries, newest first."""
    return PointsEntry.objects.filter(wallet__client=client).order_by("-id")


def course_history(client: Client, *, card: CourseCard | None = None) -> QuerySet[CourseRedemption]:
    """Course sessions used and given back, newest first; of one card when ``card`` is given."""
    redemptions = CourseRedemption.objects.filter(card__client=client)
    if card is not None:
        redemptions = redemptions.filter(card=card)
    return redemptions.select_related("card", "balance__service").order_by("-id")
