"""Loyalty (LOY-1…9): stored value, member cards, points, tiers, course cards, coupons, referrals.

Every balance lives on one row per client or per card, locked while it changes, with a CHECK that keeps
it from going negative; every change is a row of an append-only ledger with a unique idempotency key.
"""

from apps.loyalty.models.cards import CardStatus, CardType, MemberCard
from apps.loyalty.models.coupons import (
    Coupon,
    CouponIssueRule,
    CouponKind,
    CouponRuleTrigger,
    CouponSource,
    CouponStatus,
    CouponTemplate,
)
from apps.loyalty.models.courses import CourseCard, CourseCardBalance, CourseCardStatus, CourseRedemption
from apps.loyalty.models.points import PointsEntry, PointsEntryKind, PointsLot
from apps.loyalty.models.settings import ConsumptionOrder, LoyaltySettings, TierBasis
from apps.loyalty.models.tiers import ReferralReward, TierBenefit, TierChange, TierChangeReason
from apps.loyalty.models.wallets import TopUpRule, Wallet, WalletEntry, WalletEntryKind

__all__ = [
    "CardStatus",
    "CardType",
    "ConsumptionOrder",
    "Coupon",
    "CouponIssueRule",
    "CouponKind",
    "CouponRuleTrigger",
    "CouponSource",
    "CouponStatus",
    "CouponTemplate",
    "CourseCard",
    "CourseCardBalance",
    "CourseCardStatus",
    "CourseRedemption",
    "LoyaltySettings",
    "MemberCard",
    "PointsEntry",
    "PointsEntryKind",
    "PointsLot",
    "ReferralReward",
    "TierBasis",
    "TierBenefit",
    "TierChange",
    "TierChangeReason",
    "TopUpRule",
    "Wallet",
    "WalletEntry",
    "WalletEntryKind",
]
