from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.core.money import MAX_AMOUNT, MoneyField
from apps.loyalty.models import ConsumptionOrder, TierBasis


class TopUpRuleForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100, required=False, help_text=_("E.g. 充1000送200."))
    pay_amount = MoneyField(label=_("Pay at least (yuan)"), min_value=Decimal("0.01"))
    bonus_amount = MoneyField(label=_("Bonus (yuan)"))
    valid_from = forms.DateField(label=_("Valid from"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    valid_until = forms.DateField(
        label=_("Valid until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)


class SignedMoneyField(MoneyField):
    def __init__(self, **kwargs):  # type: ignore[no-untyped-def]
        kwargs.setdefault("min_value", -Decimal(MAX_AMOUNT) / 100)
        super().__init__(**kwargs)


class WalletAdjustForm(forms.Form):
    principal_delta = SignedMoneyField(
        label=_("Change to principal (yuan)"), initial=0, help_text=_("Negative to take away.")
    )
    bonus_delta = SignedMoneyField(label=_("Change to bonus (yuan)"), initial=0, help_text=_("Negative to take away."))
    reason = forms.CharField(label=_("Reason"), max_length=200)
    idempotency_key = forms.CharField(widget=forms.HiddenInput)


class WalletRefundForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=200)
    idempotency_key = forms.CharField(widget=forms.HiddenInput)


class LoyaltySettingsForm(forms.Form):
    consumption_order = forms.ChoiceField(label=_("Consumption order"), choices=ConsumptionOrder.choices)
    max_transaction_amount = MoneyField(label=_("Largest single top-up or payment (yuan)"), min_value=Decimal("0.01"))
    low_balance_threshold = MoneyField(label=_("Low-balance alert below (yuan)"), help_text=_("0 turns alerts off."))
    require_redemption_code = forms.BooleanField(
        label=_("Require a code sent to the client's phone before deducting stored value, points or sessions"),
        required=False,
    )
    points_per_yuan = forms.IntegerField(label=_("Points per yuan spent"), min_value=0, max_value=1000)
    points_value_fen = forms.IntegerField(label=_("Value of 100 points (fen)"), min_value=1, max_value=100_000)
    points_validity_months = forms.IntegerField(
        label=_("Points expire after (months)"), min_value=0, max_value=120, help_text=_("0: never.")
    )
    check_in_points = forms.IntegerField(label=_("Points for a check-in"), min_value=0, max_value=1_000_000)
    birthday_points = forms.IntegerField(label=_("Points on the client's birthday"), min_value=0, max_value=1_000_000)
    referral_points = forms.IntegerField(label=_("Points for the referrer"), min_value=0, max_value=1_000_000)
    referral_bonus = MoneyField(label=_("Stored-value bonus for the referrer (yuan)"))
    tier_basis = forms.ChoiceField(label=_("Tiers follow"), choices=TierBasis.choices)
    tier_auto_downgrade = forms.BooleanField(label=_("Downgrade automatically"), required=False)
