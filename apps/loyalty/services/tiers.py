"""Membership tiers (LOY-1): what a tier gives and how it is reached, automatic upgrades and downgrades
by the rolling 12-month spend or points, manual changes, and the nightly evaluation of every client.

The tiers themselves (name, rank, colour) and the client's current tier live in crm; every change of a
client's tier made here goes through ``client_update`` and leaves a TierChange row (the history)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet, Sum
from django.db.models.functions import Abs
from django.utils import timezone

from apps.core.db import salon_timezone
from apps.core.models import User
from apps.core.services import audit_record
from apps.crm.models import Client, MembershipTier, PurchaseKind, PurchaseLine
from apps.crm.services.clients import client_update
from apps.loyalty.errors import LoyaltyError, loyalty_error
from apps.loyalty.models import (
    CouponRuleTrigger,
    PointsEntry,
    PointsEntryKind,
    TierBasis,
    TierBenefit,
    TierChange,
    TierChangeReason,
)
from apps.loyalty.models.points import EARNING_KINDS
from apps.loyalty.services import _common as check

MAX_PERKS_LENGTH = 2000
MAX_MULTIPLIER = Decimal(20)
CHUNK_SIZE = 500


# --- benefits ------------------------------------------------------------------------------------


def _multiplier(value: Any) -> Decimal:
    if isinstance(value, bool) or value is None or isinstance(value, float):
        raise loyalty_error(LoyaltyError.INVALID_MULTIPLIER)
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise loyalty_error(LoyaltyError.INVALID_MULTIPLIER) from None
    if not number.is_finite() or not 0 <= number <= MAX_MULTIPLIER or number != number.quantize(Decimal("0.01")):
        raise loyalty_error(LoyaltyError.INVALID_MULTIPLIER)
    return number.quantize(Decimal("0.01"))


@transaction.atomic
def tier_benefit_set(
    *,
    tier: MembershipTier,
    price_percent: int,
    points_multiplier: Decimal,
    perks: str = "",
    min_spend: int = 0,
    min_points: int = 0,
    is_automatic: bool = True,
    acting_user: User | None,
) -> TierBenefit:
    """Set what a tier gives (price paid in percent, points multiplier, perks) and how it is reached
    (spend or points over 12 months; 0 on both: only staff put clients in it). ``manage_loyalty``; audited."""
    check.require_permission(acting_user, "manage_loyalty")
    if isinstance(price_percent, bool) or not isinstance(price_percent, int) or not 1 <= price_percent <= 100:
        raise loyalty_error(LoyaltyError.INVALID_PERCENT)
    multiplier = _multiplier(points_multiplier)
    min_spend = check.amount_or_zero(min_spend, field="min_spend")
    if isinstance(min_points, bool) or not isinstance(min_points, int) or not 0 <= min_points <= check.MAX_POINTS:
        raise loyalty_error(LoyaltyError.INVALID_THRESHOLD)
    perks = check.text(perks, field="perks", model=TierBenefit)
    if len(perks) > MAX_PERKS_LENGTH:
        raise loyalty_error(LoyaltyError.TEXT_TOO_LONG, field="perks")
    # The tier row is the mutex: two saves of one tier's benefits never both insert the one-to-one row.
    tier = MembershipTier.objects.select_for_update().get(pk=tier.pk)
    benefit = TierBenefit.objects.filter(tier=tier).first() or TierBenefit(tier=tier)
    benefit.price_percent = price_percent
    benefit.points_multiplier = multiplier
    benefit.perks = perks
    benefit.min_spend = min_spend
    benefit.min_points = min_points
    benefit.is_automatic = bool(is_automatic)
    benefit.save()
    audit_record(
        action="loyalty.tier_benefit_set",
        actor=acting_user,
        target=tier,
        data={
            "price_percent": price_percent,
            "points_multiplier": str(multiplier),
            "min_spend": min_spend,
            "min_points": min_points,
            "is_automatic": benefit.is_automatic,
        },
    )
    return benefit


def benefit_of(tier: MembershipTier | None) -> TierBenefit | None:
    """The tier's benefits row, or None when none was set (the defaults then apply: no discount, ×1)."""
    if tier is None:
        return None
    try:
        return tier.benefit
    except TierBenefit.DoesNotExist:
        return None


# --- the qualifying figure -----------------------------------------------------------------------


def window_start(now: datetime.datetime) -> datetime.datetime:
    """The start of the rolling 12 months ending at ``now``: the same clock time one calendar year
    earlier in the salon's time zone (29 February falls back to the 28th)."""
    local = now.astimezone(salon_timezone())
    try:
        return local.replace(year=local.year - 1)
    except ValueError:
        return local.replace(year=local.year - 1, day=28)


def _window_rows(basis: str, *, now: datetime.datetime) -> tuple[QuerySet[Any], str, dict[str, Any]]:
    """The rows that make up the figure over the 12 months ending at ``now``, the column naming the
    client, and the aggregates whose difference is the figure.

    Spend: the sum of the client's purchase lines (a refund is a negative line), top-ups left out: stored
    value counts when it is spent, so a top-up and what it later pays for are not counted twice (the
    member centre shows the same figure). Points: points earned
    (every earning kind) less earnings reversed; redemptions and expiries do not lower it."""
    since = window_start(now)
    if basis == TierBasis.POINTS:
        points = PointsEntry.objects.filter(created_at__gte=since, created_at__lte=now).filter(
            Q(kind__in=EARNING_KINDS, points__gt=0) | Q(kind=PointsEntryKind.EARN_REVERSAL)
        )
        return (
            points,
            "wallet__client_id",
            {
                "plus": Sum("points", filter=Q(kind__in=EARNING_KINDS), default=0),
                "minus": Sum(Abs("points"), filter=Q(kind=PointsEntryKind.EARN_REVERSAL), default=0),
            },
        )
    purchases = PurchaseLine.objects.filter(occurred_at__gte=since, occurred_at__lte=now).exclude(
        kind=PurchaseKind.TOP_UP
    )
    return purchases, "client_id", {"plus": Sum("amount", default=0)}


def _figure_of(values: dict[str, Any]) -> int:
    # Refunds of purchases made before the window can take it below zero: that counts as nothing.
    return max(0, int(values["plus"] or 0) - int(values.get("minus") or 0))


def tier_qualifying_figure(client: Client, *, basis: str, now: datetime.datetime | None = None) -> int:
    """The client's spend (fen) or points earned over the 12 months ending at ``now`` (never below 0)."""
    rows, column, aggregates = _window_rows(basis, now=now or timezone.now())
    return _figure_of(rows.filter(**{column: client.pk}).aggregate(**aggregates))


def qualifying_figures(*, basis: str, now: datetime.datetime | None = None) -> dict[int, int]:
    """Every client's figure in one aggregate query grouped by client (clients with none are absent)."""
    rows, column, aggregates = _window_rows(basis, now=now or timezone.now())
    grouped = rows.order_by().values(column).annotate(**aggregates)
    return {row[column]: _figure_of(row) for row in grouped}


# --- which tier a figure reaches -----------------------------------------------------------------


def threshold_field(basis: str) -> str:
    return "min_points" if basis == TierBasis.POINTS else "min_spend"


@dataclass(frozen=True)
class Ladder:
    """The tiers clients reach by themselves under the salon's basis, best first: automatic tiers with
    a threshold above zero for that basis (a tier whose threshold is 0 is never an automatic target)."""

    basis: str
    steps: tuple[tuple[MembershipTier, int], ...]
    # The entry tier (普通会员): automatic with no threshold, lowest rank. A client who falls below every
    # step lands here rather than in no tier at all.
    floor: MembershipTier | None = None

    def reached(self, figure: int) -> MembershipTier | None:
        """The highest-rank tier whose threshold ``figure`` reaches."""
        return next((tier for tier, threshold in self.steps if figure >= threshold), None)

    def tier(self, pk: int | None) -> MembershipTier | None:
        """The tier with this id when it is on the ladder or is its floor (read with its benefits)."""
        tiers = [step for step, _t in self.steps] + ([self.floor] if self.floor is not None else [])
        return next((tier for tier in tiers if pk is not None and tier.pk == pk), None)

    def threshold(self, tier: MembershipTier | None) -> int | None:
        return next((t for step, t in self.steps if tier is not None and step.pk == tier.pk), None)

    def next_above(self, tier: MembershipTier | None) -> tuple[MembershipTier, int] | None:
        """The lowest-rank automatic tier above ``tier`` (any, when the client has none)."""
        above = [(step, t) for step, t in self.steps if tier is None or step.rank > tier.rank]
        return above[-1] if above else None


def tier_ladder(basis: str) -> Ladder:
    """The ladder under ``basis``, read in one statement: every automatic tier with its benefits."""
    field = threshold_field(basis)
    automatic = list(
        MembershipTier.objects.filter(benefit__is_automatic=True).select_related("benefit").order_by("-rank", "-id")
    )
    steps = tuple((tier, getattr(tier.benefit, field)) for tier in automatic if getattr(tier.benefit, field) > 0)
    entry = [tier for tier in automatic if getattr(tier.benefit, field) == 0]
    return Ladder(basis=basis, steps=steps, floor=entry[-1] if entry else None)


def may_rise(tier: MembershipTier | None) -> bool:
    """Clients rise automatically from no tier or an automatic one; a tier only staff give (automatic
    off) is left alone."""
    benefit = benefit_of(tier)
    return tier is None or benefit is None or benefit.is_automatic


def _move(
    current: MembershipTier | None, figure: int, ladder: Ladder, *, auto_downgrade: bool
) -> tuple[str, MembershipTier | None] | None:
    """(reason, tier to move to) for a client in ``current`` with ``figure``, or None to stay.

    Upgrades go to the highest tier reached when it ranks above the current one. Downgrades happen only
    with the salon's automatic downgrade on and only from a tier on the ladder (one the client could
    have reached by themselves): to the highest tier still reached, else the entry tier, else none."""
    target = ladder.reached(figure)
    if current is None:
        return (TierChangeReason.UPGRADE, target) if target is not None else None
    if target is not None and target.rank > current.rank:
        return (TierChangeReason.UPGRADE, target) if may_rise(current) else None
    on_ladder = ladder.threshold(current) is not None
    if auto_downgrade and on_ladder and (target is None or target.rank < current.rank):
        if target is None and ladder.floor is not None and ladder.floor.rank < current.rank:
            target = ladder.floor
        return TierChangeReason.DOWNGRADE, target
    return None


# --- evaluation ----------------------------------------------------------------------------------


def _record(
    client: Client,
    *,
    to_tier: MembershipTier | None,
    reason: str,
    basis_value: int | None = None,
    note: str = "",
    acting_user: User | None = None,
) -> TierChange:
    """Write the change and the client's new tier (the caller holds the client's row lock)."""
    from_tier = client.tier
    client_update(client=client, tier=to_tier, acting_user=acting_user)
    client.tier = to_tier
    change = TierChange.objects.create(
        client=client,
        from_tier=from_tier,
        to_tier=to_tier,
        from_name=from_tier.name if from_tier is not None else "",
        to_name=to_tier.name if to_tier is not None else "",
        reason=reason,
        basis_value=basis_value,
        note=note,
        actor=acting_user if acting_user is not None and acting_user.pk else None,
    )
    if to_tier is not None and reason != TierChangeReason.DOWNGRADE:
        # Coupons the salon gives on reaching this tier (LOY-6), once per move into it.
        from apps.loyalty.services.coupon_rules import coupon_rules_fire

        coupon_rules_fire(
            trigger=CouponRuleTrigger.TIER_REACHED, client=client, occasion=f"tier-change:{change.pk}", tier=to_tier
        )
    return change


def _locked_client(pk: int) -> Client:
    # The client row is the lock of its tier: two evaluations of one client (the till's and the nightly
    # task's) run one after the other, and the second sees the first's change and does nothing. No join
    # here on purpose: after waiting for the lock PostgreSQL re-reads the locked row only, so a joined
    # tier would still be the one from before the other transaction's change.
    return Client.objects.select_for_update().get(pk=pk)


def _evaluate(client_id: int, *, now: datetime.datetime, ladder: Ladder, auto_downgrade: bool) -> TierChange | None:
    # Without a savepoint: inside the till's payment a failure here fails the payment anyway, and the
    # nightly run gives each client a transaction of its own.
    with transaction.atomic(savepoint=False):
        client = _locked_client(client_id)
        if not client.is_active:
            return None
        known = ladder.tier(client.tier_id)
        if known is not None:  # the client's tier is one the ladder read: no need to read it again
            client.tier = known
        figure = tier_qualifying_figure(client, basis=ladder.basis, now=now)
        move = _move(client.tier, figure, ladder, auto_downgrade=auto_downgrade)
        if move is None:
            return None
        reason, target = move
        return _record(client, to_tier=target, reason=reason, basis_value=figure)


def tier_evaluate(*, client: Client, now: datetime.datetime | None = None) -> TierChange | None:
    """Move the client to the tier their 12-month figure reaches (see ``_move`` for the rules) and
    record the change; None when the tier stays. Evaluating again changes nothing."""
    settings_row = check.loyalty_settings()
    return _evaluate(
        client.pk,
        now=now or timezone.now(),
        ladder=tier_ladder(settings_row.tier_basis),
        auto_downgrade=settings_row.tier_auto_downgrade,
    )


def tier_on_spend(*, client: Client) -> TierChange | None:
    """The hook the till calls once a bill's purchase lines are recorded (``purchase_record``): the
    spend may have lifted the client into a better tier. Run it after the lines are written, in the
    same transaction or after it commits; it takes the client's row lock."""
    return tier_evaluate(client=client)


def tiers_evaluate_all(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """Evaluate every active client (the nightly task). The figures of all clients come from one
    grouped query; clients are read in chunks by id, and only those whose tier should change are
    locked and evaluated again one by one (each in its own transaction). Returns the counts."""
    now = now or timezone.now()
    settings_row = check.loyalty_settings()
    ladder = tier_ladder(settings_row.tier_basis)
    figures = qualifying_figures(basis=ladder.basis, now=now) if ladder.steps else {}
    tiers = {tier.pk: tier for tier in MembershipTier.objects.select_related("benefit")}
    counts = {"clients": 0, "upgraded": 0, "downgraded": 0}
    last_id = 0
    while True:
        chunk = list(
            Client.objects.filter(is_active=True, pk__gt=last_id)
            .order_by("pk")
            .values_list("pk", "tier_id")[:CHUNK_SIZE]
        )
        if not chunk:
            return counts
        last_id = chunk[-1][0]
        counts["clients"] += len(chunk)
        for client_id, tier_id in chunk:
            current = tiers.get(tier_id) if tier_id is not None else None
            move = _move(current, figures.get(client_id, 0), ladder, auto_downgrade=settings_row.tier_auto_downgrade)
            if move is None:
                continue
            change = _evaluate(client_id, now=now, ladder=ladder, auto_downgrade=settings_row.tier_auto_downgrade)
            if change is not None:
                key = "upgraded" if change.reason == TierChangeReason.UPGRADE else "downgraded"
                counts[key] += 1


# --- by hand -------------------------------------------------------------------------------------


@transaction.atomic
def client_tier_set(
    *, client: Client, tier: MembershipTier | None, reason: str, acting_user: User | None
) -> TierChange:
    """Put the client in ``tier`` (or in none) by hand, with a reason (``manage_loyalty``; audited).
    The next evaluation may still move a client out of a tier that is reached automatically."""
    check.require_permission(acting_user, "manage_loyalty")
    note = check.text(reason, field="note", model=TierChange)
    if not note:
        raise loyalty_error(LoyaltyError.REASON_REQUIRED)
    client = _locked_client(client.pk)
    check.active_client(client)
    if (tier.pk if tier is not None else None) == client.tier_id:
        raise loyalty_error(LoyaltyError.TIER_UNCHANGED)
    from_name = client.tier.name if client.tier is not None else ""
    change = _record(client, to_tier=tier, reason=TierChangeReason.MANUAL, note=note, acting_user=acting_user)
    audit_record(
        action="loyalty.client_tier_set",
        actor=acting_user,
        target=client,
        data={"from": from_name, "to": change.to_name, "reason": note},
    )
    return change
