"""Forms of the clients pages: shapes only; the services keep the rules."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from apps.core.models import Location, User
from apps.crm.models import Client, Gender, MembershipTier, PurchaseKind, SkinType, Source, Tag, TagRule

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ClientForm(forms.Form):
    name = forms.CharField(label=pgettext_lazy("person", "Name"), max_length=100)
    phone = forms.CharField(
        label=_("Phone"), max_length=30, required=False, widget=forms.TextInput(attrs={"type": "tel"})
    )
    gender = forms.ChoiceField(label=_("Gender"), choices=Gender.choices, required=False)
    birthday = forms.DateField(label=_("Birthday"), required=False, widget=DATE)
    birthday_is_lunar = forms.BooleanField(label=_("Celebrates the lunar birthday (农历)"), required=False)
    tags = forms.ModelMultipleChoiceField(
        label=_("Tags"), queryset=Tag.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )
    allergies = forms.CharField(
        label=_("Allergies"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Shown as a red alert when booking and billing."),
    )
    contraindications = forms.CharField(
        label=_("Contraindications"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    taboos = forms.CharField(
        label=_("Taboos and preferences"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("E.g. likes a quiet room."),
    )
    skin_type = forms.ChoiceField(label=_("Skin type"), choices=[("", "—"), *SkinType.choices], required=False)
    phone_alt = forms.CharField(
        label=_("Second phone"), max_length=30, required=False, widget=forms.TextInput(attrs={"type": "tel"})
    )
    wechat_id = forms.CharField(label=_("WeChat ID"), max_length=64, required=False)
    email = forms.EmailField(label=_("E-mail"), required=False)
    card_number = forms.CharField(label=_("Membership card number"), max_length=32, required=False)
    tier = forms.ModelChoiceField(label=_("Tier"), queryset=MembershipTier.objects.none(), required=False)
    source = forms.ChoiceField(label=_("Source"), choices=[("", "—"), *Source.choices], required=False)
    referrer = forms.ModelChoiceField(
        label=_("Referred by"),
        queryset=Client.objects.none(),
        required=False,
        widget=forms.NumberInput(attrs={"placeholder": _("Client number")}),
        help_text=_("The referring client's number, shown on their page."),
    )
    preferred_staff = forms.ModelChoiceField(label=_("Preferred staff"), queryset=User.objects.none(), required=False)
    home_location = forms.ModelChoiceField(label=_("Home location"), queryset=Location.objects.none(), required=False)
    anniversary = forms.DateField(label=_("Anniversary"), required=False, widget=DATE)
    occupation = forms.CharField(label=_("Occupation"), max_length=100, required=False)
    address = forms.CharField(label=_("Address"), max_length=300, required=False)
    id_number = forms.CharField(label=_("ID number"), max_length=30, required=False)
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, can_see_contact: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["tags"].queryset = Tag.objects.filter(rule="").order_by("name")  # type: ignore[attr-defined]
        self.fields["tier"].queryset = MembershipTier.objects.order_by("rank")  # type: ignore[attr-defined]
        self.fields["referrer"].queryset = Client.objects.filter(is_active=True)  # type: ignore[attr-defined]
        self.fields["preferred_staff"].queryset = User.objects.filter(is_active=True).order_by("name")  # type: ignore[attr-defined]
        self.fields["home_location"].queryset = Location.objects.filter(is_active=True)  # type: ignore[attr-defined]
        if not can_see_contact:
            # Without the contact permission the numbers are neither shown nor changed here.
            for field in ("phone", "phone_alt", "id_number"):
                del self.fields[field]

    @classmethod
    def initial_for(cls, client: Client) -> dict[str, Any]:
        initial = {name: getattr(client, name) for name in cls.base_fields if name not in ("tags",)}
        initial["tags"] = [ct.tag for ct in client.client_tags.all() if ct.source == "manual"]
        return initial


class TagForm(forms.Form):
    name = forms.CharField(label=pgettext_lazy("thing", "Name"), max_length=40)
    color = forms.CharField(
        label=_("Colour"), max_length=7, initial="#2563eb", widget=forms.TextInput(attrs={"type": "color"})
    )
    description = forms.CharField(label=_("Description"), max_length=200, required=False)
    rule = forms.ChoiceField(
        label=_("Automatic rule"),
        choices=[("", _("None: staff give this tag by hand")), *TagRule.choices],
        required=False,
    )
    rule_amount_yuan = forms.IntegerField(label=_("Amount (yuan)"), required=False, min_value=1, max_value=10**9)
    rule_count = forms.IntegerField(label=_("Number of visits"), required=False, min_value=1, max_value=10000)
    rule_months = forms.IntegerField(label=_("Months"), required=False, min_value=1, max_value=120)
    rule_days = forms.IntegerField(label=_("Days"), required=False, min_value=1, max_value=3650)

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        amount = data.get("rule_amount_yuan")
        return {
            "name": data["name"],
            "color": data["color"],
            "description": data.get("description", ""),
            "rule": data.get("rule", ""),
            "rule_amount": amount * 100 if amount else None,
            "rule_count": data.get("rule_count"),
            "rule_months": data.get("rule_months"),
            "rule_days": data.get("rule_days"),
        }


class TierForm(forms.Form):
    name = forms.CharField(label=pgettext_lazy("thing", "Name"), max_length=50)
    rank = forms.IntegerField(
        label=_("Rank"), min_value=0, max_value=1000, help_text=_("Higher ranks are better tiers.")
    )
    color = forms.CharField(
        label=_("Colour"), max_length=7, initial="#8c6d1f", widget=forms.TextInput(attrs={"type": "color"})
    )


class PurchaseFilterForm(forms.Form):
    date_from = forms.DateField(label=_("From"), required=False, widget=DATE)
    date_to = forms.DateField(label=_("To"), required=False, widget=DATE)
    amount_min = forms.DecimalField(label=_("Minimum amount (yuan)"), required=False, decimal_places=2, max_digits=12)
    amount_max = forms.DecimalField(label=_("Maximum amount (yuan)"), required=False, decimal_places=2, max_digits=12)
    staff = forms.ModelChoiceField(label=_("Staff"), queryset=User.objects.none(), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["staff"].queryset = User.objects.order_by("name")  # type: ignore[attr-defined]

    def selector_params(self) -> dict[str, Any]:
        if not self.is_valid():
            return {}
        data = self.cleaned_data
        params: dict[str, Any] = {}
        for key in ("date_from", "date_to"):
            if data.get(key):
                params[key] = data[key].isoformat()
        for key in ("amount_min", "amount_max"):
            if data.get(key) is not None:
                params[key] = int(data[key] * 100)
        if data.get("staff"):
            params["staff"] = data["staff"].pk
        return params


class PurchaseForm(forms.Form):
    occurred_at = forms.DateTimeField(
        label=_("Time"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
    )
    item_name = forms.CharField(label=_("Item"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), choices=PurchaseKind.choices)
    amount_yuan = forms.DecimalField(label=_("Amount (yuan)"), decimal_places=2, max_digits=12)
    staff = forms.ModelChoiceField(label=_("Staff"), queryset=User.objects.none(), required=False)
    tender = forms.CharField(label=_("Paid by"), max_length=100, required=False)
    note = forms.CharField(label=_("Note"), max_length=200, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["staff"].queryset = User.objects.order_by("name")  # type: ignore[attr-defined]


class EraseForm(forms.Form):
    reason = forms.CharField(label=_("Reason (request reference)"), max_length=200)
    confirm_name = forms.CharField(label=_("Type the client's name to confirm"), max_length=100)
