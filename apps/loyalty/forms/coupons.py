"""Forms of the coupon pages. People type yuan; ``MoneyField`` hands the views fen."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.catalog.models import Product, Service
from apps.core.money import MoneyField
from apps.crm.models import Client, MembershipTier, Tag
from apps.loyalty.models import CouponKind, CouponRuleTrigger, CouponTemplate

DATE = forms.DateInput(attrs={"type": "date"})
MONEY_KINDS = (CouponKind.MONEY_OFF, CouponKind.SERVICE_TRIAL)
PERCENT_KINDS = (CouponKind.PERCENTAGE, CouponKind.PRODUCT_DISCOUNT)


class CouponTemplateForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100, help_text=_("E.g. 满300减50, 八折, 剪发体验券."))
    kind = forms.ChoiceField(label=_("Kind"), choices=CouponKind.choices)
    money_value = MoneyField(
        label=_("Money off, or the trial price (yuan)"),
        required=False,
        help_text=_("Money off: the amount taken off. Service trial: what the client pays for one session (0: free)."),
    )
    percent = forms.IntegerField(
        label=_("Percent off"),
        required=False,
        min_value=1,
        max_value=99,
        # xgettext:no-python-format
        help_text=_("Percentage and product discount: 20 takes 20% off (八折)."),
    )
    gift = forms.CharField(label=_("Gift"), max_length=100, required=False, help_text=_("Gift coupons: what is given."))
    min_spend = MoneyField(label=_("Minimum spend (yuan)"), initial=0, help_text=_("0: no minimum."))
    max_discount = MoneyField(
        label=_("Largest discount (yuan)"),
        required=False,
        min_value=Decimal("0.01"),
        help_text=_("Caps a percentage; empty: no cap."),
    )
    eligible_services = forms.ModelMultipleChoiceField(
        label=_("Eligible services"),
        queryset=Service.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Service trials: the services it covers. Other kinds: limits the coupon to these items."),
    )
    eligible_products = forms.ModelMultipleChoiceField(
        label=_("Eligible products"),
        queryset=Product.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Product discounts: the products it covers."),
    )
    valid_from = forms.DateField(label=_("Valid from"), required=False, widget=DATE)
    valid_until = forms.DateField(label=_("Valid until"), required=False, widget=DATE)
    valid_days = forms.IntegerField(
        label=_("Or valid for (days after issue)"), required=False, min_value=1, max_value=3650
    )
    one_per_bill = forms.BooleanField(label=_("One per bill"), required=False, initial=True)
    stackable = forms.BooleanField(label=_("Combines with other coupons"), required=False)
    max_issued = forms.IntegerField(
        label=_("Most that may be issued"), required=False, min_value=1, help_text=_("Empty: no limit.")
    )
    is_active = forms.BooleanField(label=_("Active (may be issued)"), required=False, initial=True)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, template: CouponTemplate | None = None, **kwargs: Any) -> None:
        if template is not None:
            kwargs["initial"] = initial_of(template)
        super().__init__(*args, **kwargs)
        chosen = kwargs.get("initial", {})
        services = Service.objects.filter(is_active=True) | Service.objects.filter(
            pk__in=chosen.get("eligible_services", [])
        )
        products = Product.objects.filter(is_active=True) | Product.objects.filter(
            pk__in=chosen.get("eligible_products", [])
        )
        self.fields["eligible_services"].queryset = services.distinct().order_by("name")  # type: ignore[attr-defined]
        self.fields["eligible_products"].queryset = products.distinct().order_by("name")  # type: ignore[attr-defined]

    def service_values(self) -> dict[str, Any]:
        """The cleaned data as the template services take it: ``value`` in the unit of the kind."""
        data = dict(self.cleaned_data)
        money, percent = data.pop("money_value"), data.pop("percent")
        kind = data["kind"]
        if kind in MONEY_KINDS:
            data["value"] = money if money is not None else 0
        elif kind in PERCENT_KINDS:
            data["value"] = percent if percent is not None else 0
        else:
            data["value"] = 0
        return data

    def value_field(self) -> str:
        return "percent" if self.data.get("kind") in PERCENT_KINDS else "money_value"


def initial_of(template: CouponTemplate) -> dict[str, Any]:
    names = [name for name in CouponTemplateForm.base_fields if name not in ("money_value", "percent")]
    initial: dict[str, Any] = {name: getattr(template, name) for name in names if "eligible" not in name}
    initial["eligible_services"] = list(template.eligible_services.values_list("pk", flat=True))
    initial["eligible_products"] = list(template.eligible_products.values_list("pk", flat=True))
    initial["money_value" if template.kind in MONEY_KINDS else "percent"] = template.value
    return initial


class CouponRuleForm(forms.Form):
    trigger = forms.ChoiceField(label=_("Issue a coupon when"), choices=CouponRuleTrigger.choices)
    tier = forms.ModelChoiceField(
        label=_("Tier"), queryset=MembershipTier.objects.order_by("rank"), required=False, help_text=_("Tier rules.")
    )
    min_top_up = MoneyField(label=_("Top-up of at least (yuan)"), initial=0, help_text=_("Top-up rules."))
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)


class CouponBulkIssueForm(forms.Form):
    """Recipients: every active client with a tag, clients ticked in the search, and phone or card
    numbers pasted one per line; together, each client once."""

    tag = forms.ModelChoiceField(label=_("Every client tagged"), queryset=Tag.objects.order_by("name"), required=False)
    clients = forms.TypedMultipleChoiceField(coerce=int, required=False, widget=forms.MultipleHiddenInput)
    numbers = forms.CharField(
        label=_("Phone or card numbers, one per line"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    batch_key = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Ticked clients come from the search; any id is accepted here and the service skips unknown ones.
        self.fields["clients"].valid_value = lambda value: True  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        from apps.crm.selectors import client_search
        from apps.loyalty import selectors_coupons

        data = super().clean() or {}
        recipients = set(data.get("clients") or [])
        missing = []
        for line in (data.get("numbers") or "").splitlines():
            if not line.strip():
                continue
            found = client_search(query=line.strip(), limit=2)
            if len(found) == 1:
                recipients.add(found[0].pk)
            else:
                missing.append(line.strip())
        if missing:
            self.add_error(
                "numbers", _("No single client has these numbers: %(numbers)s") % {"numbers": ", ".join(missing)}
            )
        if data.get("tag") is not None:
            recipients.update(selectors_coupons.active_clients_tagged(data["tag"]))
        data["recipients"] = sorted(recipients)
        return data


class CouponIssueForm(forms.Form):
    template = forms.ModelChoiceField(
        label=_("Coupon"), queryset=CouponTemplate.objects.filter(is_active=True).order_by("name")
    )
    issue_key = forms.CharField(widget=forms.HiddenInput)


class CouponVoidForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=200)


def chosen_clients(ids: list[int]) -> list[Client]:
    return list(Client.objects.filter(pk__in=ids, is_active=True).select_related("tier").order_by("name", "pk"))
