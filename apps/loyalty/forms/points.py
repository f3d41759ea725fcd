"""Forms of the points tab: redeem (with the client's code or a manager's override when the salon
requires codes) and adjust by hand."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.loyalty.services._common import MAX_POINTS


class PointsRedeemForm(forms.Form):
    points = forms.IntegerField(label=_("Points to redeem"), min_value=1, max_value=MAX_POINTS)
    description = forms.CharField(
        label=_("What for"),
        max_length=200,
        required=False,
        help_text=_("The service, product or gift the points buy."),
    )
    money_off = forms.BooleanField(label=_("As money off the bill"), required=False)
    code = forms.CharField(
        label=_("Code from the client's phone"),
        max_length=12,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )
    override_reason = forms.CharField(
        label=_("Or skip the code (manager), because"),
        max_length=200,
        required=False,
    )
    idempotency_key = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, require_code: bool = False, can_override: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not require_code:
            del self.fields["code"]
        if not (require_code and can_override):
            del self.fields["override_reason"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("money_off") and not (data.get("description") or "").strip():
            self.add_error("description", _("Say what the points are redeemed for."))
        return data


class PointsAdjustForm(forms.Form):
    points = forms.IntegerField(
        label=_("Change to points"),
        min_value=-MAX_POINTS,
        max_value=MAX_POINTS,
        help_text=_("Negative to take away."),
    )
    reason = forms.CharField(label=_("Reason for the adjustment"), max_length=200)
    idempotency_key = forms.CharField(widget=forms.HiddenInput)
