"""Referral rewards (LOY-7): when a referred client completes a first paid visit, the client who referred
them gets the salon's reward once: points, a stored-value bonus and a coupon, as the salon sets them."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from apps.crm.models import Client
from apps.loyalty.models import Coupon, PointsEntryKind, ReferralReward
from apps.loyalty.services import _common as check
from apps.loyalty.services.points import points_award
from apps.loyalty.services.wallets import wallet_reward


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
        points_award(
            client=referrer,
            points=reward.points,
            kind=PointsEntryKind.EARN_REFERRAL,
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
    coupon = _referral_coupon(referrer, referred=client)
    if coupon is not None:
        reward.coupon = coupon
        reward.save(update_fields=["coupon"])
    return reward


def _referral_coupon(referrer: Client, *, referred: Client) -> Coupon | None:
    """Issue the salon's referral coupon (``LoyaltySettings.referral_coupon``) to the referrer, once per
    referred client. A coupon that cannot be issued (the template ran out or ended) does not hold back
    the rest of the reward."""
    from apps.core.errors import ServiceError
    from apps.loyalty.models import CouponSource
    from apps.loyalty.services.coupons import coupon_issue

    template = check.loyalty_settings().referral_coupon
    if template is None:
        return None
    try:
        with transaction.atomic():
            return coupon_issue(
                template=template,
                client=referrer,
                source=CouponSource.REFERRAL,
                issue_key=f"referral:{referred.pk}",
                acting_user=None,
            )
    except ServiceError:
        return None
