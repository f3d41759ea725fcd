"""Referral rewards (LOY-7): when a referred client completes a first paid visit, the client who referred
them gets the salon's reward once: points, a stored-value bonus and (later) a coupon."""

from __future__ import annotations

import calendar
import datetime

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from apps.core.db import salon_today
from apps.crm.models import Client
from apps.loyalty.models import Coupon, PointsEntry, PointsEntryKind, PointsLot, ReferralReward
from apps.loyalty.services import _common as check
from apps.loyalty.services.wallets import wallet_locked, wallet_reward


@transaction.atomic
def referral_reward_on_first_paid_visit(*, client: Client, reference: str) -> ReferralReward | None:
    """The till calls this after each paid bill of ``client`` (``reference`` names the bill). When the
    client was referred by an active client and no reward was given for them yet, the referrer gets the
    salon's referral points, bonus and coupon, once: the unique ``referred`` column guards it, also
    against two bills paid at the same moment. Returns the reward, or None when there is none to give
    (no referrer, already rewarded)."""
    referrer_id = Client.objects.filter(pk=client.pk).values_list("referrer_id", flat=True).first()
    if referrer_id is None or referrer_id == client.pk:
        return None
    referrer = Client.objects.filter(pk=referrer_id, is_active=True).first()
    if referrer is None or ReferralReward.objects.filter(referred_id=client.pk).exists():
        return None
    settings_row = check.loyalty_settings()
    reference = check.text(reference, field="reference", model=ReferralReward)
    try:
        with transaction.atomic():
            reward = ReferralReward.objects.create(
                referrer=referrer,
                referred_id=client.pk,
                reference=reference,
                points=settings_row.referral_points,
                bonus=settings_row.referral_bonus,
            )
    except IntegrityError:
        return None  # a concurrent call for the same client gave the reward
    note = _("Referral of %(name)s") % {"name": client.name}
    if reward.points:
        _award_points(
            referrer,
            points=reward.points,
            idempotency_key=f"referral:{client.pk}:points",
            reference=reference,
            description=note,
        )
    if reward.bonus:
        wallet_reward(
            client=referrer,
            bonus=reward.bonus,
            idempotency_key=f"referral:{client.pk}:bonus",
            reference=reference,
            note=note,
        )
    coupon = _referral_coupon(referrer, reference)
    if coupon is not None:
        reward.coupon = coupon
        reward.save(update_fields=["coupon"])
    return reward


def _referral_coupon(referrer: Client, reference: str) -> Coupon | None:
    """Issue the salon's referral coupon (``LoyaltySettings.referral_coupon``) to the referrer. A hook for
    the coupon service: until it exists no coupon is issued."""
    return None


def _add_months(day: datetime.date, months: int) -> datetime.date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))


def _award_points(
    client: Client, *, points: int, idempotency_key: str, reference: str, description: str
) -> PointsEntry:
    """Earn referral points: one ledger entry, one lot expiring after the salon's points validity, and the
    wallet's balance, under the wallet's lock. A replay of the key returns the first entry.

    Kept small on purpose: it stands in for the points service's earning function."""
    points = check.points(points)
    wallet = wallet_locked(client)
    earlier = PointsEntry.objects.filter(idempotency_key=idempotency_key).first()
    if earlier is not None:
        return earlier
    validity = check.loyalty_settings().points_validity_months
    today = salon_today()
    wallet.points += points
    entry = PointsEntry.objects.create(
        wallet=wallet,
        kind=PointsEntryKind.EARN_REFERRAL,
        points=points,
        balance_after=wallet.points,
        description=description[:200],
        reference=reference,
        idempotency_key=idempotency_key,
    )
    PointsLot.objects.create(
        wallet=wallet,
        entry=entry,
        earned_on=today,
        expires_on=_add_months(today, validity) if validity else None,
        points=points,
        remaining=points,
    )
    wallet.save(update_fields=["points", "updated_at"])
    return entry
