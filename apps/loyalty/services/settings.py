"""The salon's loyalty settings: consumption order, limits, alerts, points, tiers, referral rewards and
redemption codes. One row per salon, changed only here."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from apps.core.models import User
from apps.core.services import audit_record
from apps.loyalty.errors import LoyaltyError, loyalty_error
from apps.loyalty.models import ConsumptionOrder, LoyaltySettings, TierBasis
from apps.loyalty.services import _common as check

_SETTING_CHECKS: dict[str, str] = {
    "max_transaction_amount": "amount",
    "low_balance_threshold": "amount_or_zero",
    "referral_bonus": "amount_or_zero",
}
_WHOLE = {
    "points_per_yuan": 1000,
    "points_value_fen": 100_000,
    "points_validity_months": 120,
    "check_in_points": 1_000_000,
    "birthday_points": 1_000_000,
    "referral_points": 1_000_000,
}


@transaction.atomic
def loyalty_settings_update(*, acting_user: User | None, **values: Any) -> LoyaltySettings:
    """Change the salon's loyalty settings (``manage_loyalty``); audited with old → new values."""
    check.require_permission(acting_user, "manage_loyalty")
    row = LoyaltySettings.objects.select_for_update().filter(id=1).first() or check.loyalty_settings()
    changes: dict[str, list[Any]] = {}
    for field, value in values.items():
        if field in _SETTING_CHECKS:
            getattr(check, _SETTING_CHECKS[field])(value, field=field)
        elif field in _WHOLE:
            low = 1 if field == "points_value_fen" else 0
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= _WHOLE[field]:
                raise loyalty_error(LoyaltyError.INVALID_POINTS, field=field)
        elif field == "consumption_order":
            if value not in ConsumptionOrder.values:
                raise loyalty_error(LoyaltyError.INVALID_AMOUNT, field=field, message=_invalid_choice())
        elif field == "tier_basis":
            if value not in TierBasis.values:
                raise loyalty_error(LoyaltyError.INVALID_AMOUNT, field=field, message=_invalid_choice())
        elif field in ("require_redemption_code", "tier_auto_downgrade"):
            if not isinstance(value, bool):
                raise loyalty_error(LoyaltyError.INVALID_AMOUNT, field=field, message=_invalid_choice())
        elif field == "referral_coupon":
            pass  # a CouponTemplate or None, resolved by the caller's form or serializer
        else:
            raise TypeError(field)
        old = getattr(row, field)
        if old != value:
            changes[field] = [getattr(old, "pk", old), getattr(value, "pk", value)]
            setattr(row, field, value)
    if changes:
        row.save()
        audit_record(action="loyalty.settings.updated", actor=acting_user, target=row, data=changes)
    return row


def _invalid_choice() -> str:
    from django.utils.translation import gettext as _

    return _("Choose one of the offered options.")
