"""Reads of coupons (LOY-6): templates with their statistics, a client's coupons by state, rules, and
the clients a tag selects for a bulk issue."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Q, QuerySet, Sum

from apps.core.db import salon_today
from apps.crm.models import Client, Tag
from apps.loyalty.models import Coupon, CouponIssueRule, CouponStatus, CouponTemplate

# The states a client's coupons are listed by: "available" and "expired" are both unused, on either
# side of their last day.
COUPON_STATES = ("available", "redeemed", "expired", "voided")


@dataclass(frozen=True)
class CouponStats:
    issued: int
    redeemed: int
    voided: int
    expired_unused: int
    total_discount: int

    @property
    def redemption_rate(self) -> Decimal:
        """Percent of the coupons issued that were used, to one decimal (0 when none was issued)."""
        if not self.issued:
            return Decimal("0.0")
        return (Decimal(self.redeemed * 100) / self.issued).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _expired(today: datetime.date) -> Q:
    return Q(coupons__status=CouponStatus.AVAILABLE, coupons__valid_until__lt=today)


def coupon_templates_with_stats(*, today: datetime.date | None = None) -> QuerySet[CouponTemplate]:
    """Every template, newest first, each annotated with its figures in the same query."""
    today = today or salon_today()
    return CouponTemplate.objects.annotate(
        stat_issued=Count("coupons"),
        stat_redeemed=Count("coupons", filter=Q(coupons__status=CouponStatus.REDEEMED)),
        stat_voided=Count("coupons", filter=Q(coupons__status=CouponStatus.VOIDED)),
        stat_expired=Count("coupons", filter=_expired(today)),
        stat_discount=Sum("coupons__discount", filter=Q(coupons__status=CouponStatus.REDEEMED), default=0),
    ).order_by("-id")


def stats_of(template: CouponTemplate) -> CouponStats:
    """The figures of a template from ``coupon_templates_with_stats``."""
    return CouponStats(
        issued=template.stat_issued,  # type: ignore[attr-defined]
        redeemed=template.stat_redeemed,  # type: ignore[attr-defined]
        voided=template.stat_voided,  # type: ignore[attr-defined]
        expired_unused=template.stat_expired,  # type: ignore[attr-defined]
        total_discount=template.stat_discount,  # type: ignore[attr-defined]
    )


def coupon_template_stats(template: CouponTemplate, *, today: datetime.date | None = None) -> CouponStats:
    """Issued, redeemed, voided, expired unused and the discount given, for one template."""
    return stats_of(coupon_templates_with_stats(today=today).get(pk=template.pk))


def client_coupons(client: Client, *, state: str | None = None, today: datetime.date | None = None) -> QuerySet[Coupon]:
    """The client's coupons, optionally in one of COUPON_STATES; the ones to use soonest first."""
    today = today or salon_today()
    coupons = Coupon.objects.filter(client=client).select_related("template", "issued_by", "redeemed_by")
    unused = Q(status=CouponStatus.AVAILABLE)
    not_ended = Q(valid_until__isnull=True) | Q(valid_until__gte=today)
    if state == "available":
        coupons = coupons.filter(unused & not_ended)
    elif state == "expired":
        coupons = coupons.filter(unused & ~not_ended)
    elif state in (CouponStatus.REDEEMED, CouponStatus.VOIDED):
        coupons = coupons.filter(status=state)
    if state == "available":
        return coupons.order_by("valid_until", "id")
    return coupons.order_by("-issued_at", "-id")


def coupons_by_state(client: Client, *, today: datetime.date | None = None) -> dict[str, list[Coupon]]:
    """The client's coupons in one query, grouped: available (the one expiring first first), used,
    expired unused and voided (newest first)."""
    today = today or salon_today()
    groups: dict[str, list[Coupon]] = {"available": [], "used": [], "expired": [], "voided": []}
    for coupon in client_coupons(client, today=today):
        if coupon.status == CouponStatus.REDEEMED:
            groups["used"].append(coupon)
        elif coupon.status == CouponStatus.VOIDED:
            groups["voided"].append(coupon)
        elif coupon.valid_until is not None and coupon.valid_until < today:
            groups["expired"].append(coupon)
        else:
            groups["available"].append(coupon)
    groups["available"].sort(key=lambda c: (c.valid_until is None, c.valid_until or today, c.pk))
    return groups


def coupon_rules(template: CouponTemplate | None = None) -> QuerySet[CouponIssueRule]:
    rules = CouponIssueRule.objects.select_related("template", "tier").order_by("id")
    return rules if template is None else rules.filter(template=template)


def active_clients_tagged(tag: Tag) -> list[int]:
    """Ids of the active clients carrying ``tag`` (a bulk issue by tag)."""
    return list(tag.clients.filter(is_active=True).order_by("pk").values_list("pk", flat=True))
