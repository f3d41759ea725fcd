"""Reads of tiers (LOY-1): a client's progress to the next tier, their history of changes, and every
tier with its benefits for the set-up page. Used by the staff pages, the API and the member centre."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet

from apps.crm.models import Client, MembershipTier
from apps.loyalty.models import TierChange
from apps.loyalty.services._common import loyalty_settings
from apps.loyalty.services.tiers import may_rise, tier_ladder, tier_qualifying_figure


@dataclass(frozen=True)
class TierProgress:
    """Where the client stands: ``figure`` is the 12-month spend (fen) or points by the salon's basis;
    ``remaining`` is what is still needed for ``next_tier`` (0 when already reached, waiting for the
    next evaluation) and ``percent`` how far along it is (0-100)."""

    tier: MembershipTier | None
    next_tier: MembershipTier | None
    basis: str
    figure: int
    next_threshold: int | None
    remaining: int
    percent: int


def tier_progress(client: Client, *, now: datetime.datetime | None = None) -> TierProgress:
    settings_row = loyalty_settings()
    ladder = tier_ladder(settings_row.tier_basis)
    figure = tier_qualifying_figure(client, basis=ladder.basis, now=now)
    tier = client.tier
    step = ladder.next_above(tier) if may_rise(tier) else None
    if step is None:
        return TierProgress(
            tier=tier, next_tier=None, basis=ladder.basis, figure=figure, next_threshold=None, remaining=0, percent=100
        )
    next_tier, threshold = step
    return TierProgress(
        tier=tier,
        next_tier=next_tier,
        basis=ladder.basis,
        figure=figure,
        next_threshold=threshold,
        remaining=max(0, threshold - figure),
        percent=min(100, figure * 100 // threshold),
    )


def tier_history(client: Client) -> QuerySet[TierChange]:
    return TierChange.objects.filter(client=client).select_related("actor").order_by("-id")


def tiers_with_benefits() -> QuerySet[MembershipTier]:
    """Every crm tier, best first, with its benefits row (or None) and how many active clients hold it."""
    return (
        MembershipTier.objects.select_related("benefit")
        .annotate(members=Count("clients", filter=Q(clients__is_active=True)))
        .order_by("-rank")
    )
