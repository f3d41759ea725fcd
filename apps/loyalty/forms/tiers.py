from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.core.money import MoneyField
from apps.crm.models import MembershipTier


class TierBenefitForm(forms.Form):
    price_percent = forms.IntegerField(
        label=_("Price paid (%)"),
        min_value=1,
        max_value=100,
        initial=100,
        help_text=_("90 means members of this tier pay 90% (九折) where no tier price applies; 100: no discount."),
    )
    points_multiplier = forms.DecimalField(
        label=_("Points multiplier"), min_value=Decimal(0), max_value=Decimal(20), decimal_places=2, initial=1
    )
    perks = forms.CharField(
        label=_("Perks"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One per line, shown to members."),
    )
    min_spend = MoneyField(
        label=_("Spend in 12 months to qualify (yuan)"), initial=0, help_text=_("0: not reached by spend.")
    )
    min_points = forms.IntegerField(
        label=_("Points in 12 months to qualify"),
        min_value=0,
        max_value=1_000_000_000,
        initial=0,
        help_text=_("0: not reached by points."),
    )
    is_automatic = forms.BooleanField(
        label=_("Reached automatically"),
        required=False,
        initial=True,
        help_text=_("Off: only staff put clients in this tier, and the nightly evaluation leaves them there."),
    )


class ClientTierForm(forms.Form):
    tier = forms.ModelChoiceField(
        label=_("New tier"), queryset=MembershipTier.objects.none(), required=False, empty_label=_("No tier")
    )
    reason = forms.CharField(label=_("Reason"), max_length=200)

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["tier"].queryset = MembershipTier.objects.order_by("-rank")  # type: ignore[attr-defined]
