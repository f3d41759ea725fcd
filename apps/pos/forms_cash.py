"""Forms of the cash session pages: input shape only (yuan typed, fen kept); the rules live in
``services/cash.py``."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.core.money import MoneyField
from apps.pos.models import CashMovementKind, TenderMethod

# Tenders whose takings can be checked against a statement at the handover (the WeChat Pay and Alipay
# merchant apps show the day's collections); stored value, points and sessions are the salon's own ledgers.
COUNTED_METHODS = (TenderMethod.WECHAT, TenderMethod.ALIPAY)


class CashOpenForm(forms.Form):
    opening_float = MoneyField(label=_("Float (yuan)"), help_text=_("Cash in the drawer at the start."))
    note = forms.CharField(label=_("Note"), max_length=200, required=False)


class CashMovementForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=CashMovementKind.choices)
    amount = MoneyField(label=_("Amount (yuan)"), min_value=Decimal("0.01"))
    reason = forms.CharField(label=_("Reason"), max_length=200)


class CashCloseForm(forms.Form):
    counted_cash = MoneyField(label=_("Counted cash (yuan)"), help_text=_("All the cash in the drawer now."))
    counted_wechat = MoneyField(
        label=_("WeChat Pay statement (yuan)"), required=False, help_text=_("Optional: to reconcile.")
    )
    counted_alipay = MoneyField(
        label=_("Alipay statement (yuan)"), required=False, help_text=_("Optional: to reconcile.")
    )
    note = forms.CharField(label=_("Note"), max_length=200, required=False)

    def counted(self) -> dict[str, int]:
        return {
            method: self.cleaned_data[f"counted_{method}"]
            for method in COUNTED_METHODS
            if self.cleaned_data.get(f"counted_{method}") is not None
        }
