from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.catalog.models import CourseCardTemplate
from apps.core.models import User
from apps.core.money import MoneyField
from apps.loyalty.selectors_courses import templates_on_sale


class CourseCardSellForm(forms.Form):
    template = forms.ModelChoiceField(label=_("Course card"), queryset=CourseCardTemplate.objects.none())
    price = MoneyField(
        label=_("Price paid (yuan)"), required=False, help_text=_("Leave empty for the course card's price.")
    )
    reference = forms.CharField(label=_("Bill or receipt"), max_length=100, required=False)
    idempotency_key = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["template"].queryset = templates_on_sale()  # type: ignore[attr-defined]


class SessionRedeemForm(forms.Form):
    """One session of one service of one card; the code fields show when the salon requires a code.
    ``staff_choices`` is read once per page (``staff_choices()``), not once per form."""

    staff = forms.TypedChoiceField(label=_("Done by"), coerce=int, required=False, empty_value=None)
    reference = forms.CharField(label=_("Bill or appointment"), max_length=100, required=False)
    code = forms.CharField(
        label=_("Code from the client's phone"),
        max_length=12,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )
    override_reason = forms.CharField(
        label=_("Or, as a manager, why the code is skipped"), max_length=200, required=False
    )
    idempotency_key = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args, staff_choices: list[tuple[Any, str]], codes: bool = False, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["staff"].choices = [("", _("Not recorded")), *staff_choices]  # type: ignore[attr-defined]
        if not codes:
            del self.fields["code"]
            del self.fields["override_reason"]


def staff_choices() -> list[tuple[Any, str]]:
    return list(User.objects.filter(is_active=True).order_by("name", "id").values_list("id", "name"))


class CourseCardVoidForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=200)


class CourseCardExtendForm(forms.Form):
    expires_on = forms.DateField(label=_("New expiry date"), widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(label=_("Reason"), max_length=200)


class CourseCardFilterForm(forms.Form):
    show = forms.ChoiceField(
        label=_("Show"),
        required=False,
        choices=[
            ("", _("All cards")),
            ("active", _("Active")),
            ("expiring", _("Expiring in 30 days")),
            ("used_up", _("Used up")),
            ("expired", _("Expired")),
            ("voided", _("Voided")),
        ],
    )
