"""Forms of the commission pages: input shape only (yuan and percent in, fen and basis points out); the
rules live in the services and selectors."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from apps.catalog.models import Product, ProductCategory, Service, ServiceCategory
from apps.core.models import Location, StaffLevel
from apps.core.money import MoneyField
from apps.pos.models import CommissionMethod, CommissionRule, CommissionScope, LineKind
from apps.pos.selectors.commission import Period, period_dates

TIER_ROWS = 5
# ISO dates, the only value an <input type="date"> takes, whatever the language.
DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TARGET_MODELS = {
    "service": Service,
    "product": Product,
    "service_category": ServiceCategory,
    "product_category": ProductCategory,
}


class PercentField(forms.DecimalField):
    """A rate typed in percent (12.5); ``cleaned_data`` holds basis points (1250)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_digits", 5)
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("min_value", Decimal("0"))
        kwargs.setdefault("max_value", Decimal("100"))
        super().__init__(**kwargs)
        self.widget.attrs.setdefault("step", "0.01")
        self.widget.attrs.setdefault("inputmode", "decimal")

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            return f"{Decimal(value) / 100:g}"
        return super().prepare_value(value)

    def clean(self, value: Any) -> int | None:
        percent = super().clean(value)
        return None if percent is None else int(percent * 100)


def _target_choices(rule: CommissionRule | None) -> list[Any]:
    """ "Applies to" as one grouped list: the salon default, kinds of line, then categories and items
    (active ones, and the rule's own target even if it was deactivated since)."""

    def items(model: Any, prefix: str) -> list[tuple[str, str]]:
        keep = getattr(rule, f"{prefix}_id", None) if rule is not None else None
        shown = Q(is_active=True) | Q(pk=keep) if keep is not None else Q(is_active=True)
        return [(f"{prefix}:{item.pk}", str(item)) for item in model.objects.filter(shown)]

    return [
        (CommissionScope.DEFAULT.value, _("Everything (salon default)")),
        (_("Everything of one kind"), [(f"kind:{value}", label) for value, label in LineKind.choices]),
        (_("Service categories"), items(ServiceCategory, "service_category")),
        (_("Services"), items(Service, "service")),
        (_("Product categories"), items(ProductCategory, "product_category")),
        (_("Products"), items(Product, "product")),
    ]


def target_key(rule: CommissionRule) -> str:
    if rule.scope == CommissionScope.DEFAULT:
        return CommissionScope.DEFAULT.value
    if rule.scope == CommissionScope.KIND:
        return f"kind:{rule.line_kind}"
    return f"{rule.scope}:{getattr(rule, f'{rule.scope}_id')}"


class CommissionRuleForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100, required=False)
    applies_to = forms.ChoiceField(
        label=_("Applies to"),
        help_text=_(
            "The most specific rule wins: a service or product, then its category, then its kind, then the "
            "salon default."
        ),
    )
    staff_level = forms.ModelChoiceField(
        label=_("Staff level"), queryset=StaffLevel.objects.none(), required=False, empty_label=_("Every level")
    )
    method = forms.ChoiceField(label=_("Commission"), choices=CommissionMethod.choices)
    rate_bp = PercentField(label=_("Rate (%)"), required=False, help_text=_("For a percentage of the amount."))
    fixed_amount = MoneyField(label=_("Amount per unit (¥)"), required=False, help_text=_("For a fixed amount."))
    requested_bonus_bp = PercentField(
        label=_("Requested bonus (%)"),
        required=False,
        help_text=_("Added to the rate when the client asked for the staff member (点钟)."),
    )
    requested_bonus_amount = MoneyField(
        label=_("Requested bonus per unit (¥)"),
        required=False,
        help_text=_("Added per unit when the client asked for the staff member (点钟)."),
    )
    valid_from = forms.DateField(label=_("Valid from"), required=False, widget=DATE_INPUT)
    valid_until = forms.DateField(label=_("Valid until"), required=False, widget=DATE_INPUT)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args: Any, rule: CommissionRule | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["applies_to"].choices = _target_choices(rule)  # type: ignore[attr-defined]
        levels = Q(is_active=True)
        if rule is not None and rule.staff_level_id is not None:
            levels |= Q(pk=rule.staff_level_id)
        self.fields["staff_level"].queryset = StaffLevel.objects.filter(levels)  # type: ignore[attr-defined]
        # Tiers: "from a monthly volume of ¥…, the rate is …%", the first from ¥0.
        for index in range(1, TIER_ROWS + 1):
            self.fields[f"tier_{index}_from"] = MoneyField(
                label=_("Tier %(n)d: from monthly volume (¥)") % {"n": index}, required=False
            )
            self.fields[f"tier_{index}_rate"] = PercentField(
                label=_("Tier %(n)d: rate (%%)") % {"n": index}, required=False
            )
        tiers = [f"tier_{index}_{part}" for index in range(1, TIER_ROWS + 1) for part in ("from", "rate")]
        self.order_fields(["name", "applies_to", "staff_level", "method", "rate_bp", "fixed_amount", *tiers])
        self.fields["tier_1_from"].help_text = _(
            "For a percentage by monthly volume: the rate of the highest tier the staff member's volume this "
            "month reaches (this line included) applies to the whole line. The first tier starts at ¥0."
        )

    @staticmethod
    def initial_for(rule: CommissionRule) -> dict[str, Any]:
        initial: dict[str, Any] = {
            "name": rule.name,
            "applies_to": target_key(rule),
            "staff_level": rule.staff_level_id,
            "method": rule.method,
            "rate_bp": rule.rate_bp,
            "fixed_amount": rule.fixed_amount,
            "requested_bonus_bp": rule.requested_bonus_bp,
            "requested_bonus_amount": rule.requested_bonus_amount,
            "valid_from": rule.valid_from,
            "valid_until": rule.valid_until,
            "is_active": rule.is_active,
        }
        for index, tier in enumerate(rule.tiers.order_by("from_volume")[:TIER_ROWS], start=1):
            initial[f"tier_{index}_from"] = tier.from_volume
            initial[f"tier_{index}_rate"] = tier.rate_bp
        return initial

    def service_values(self) -> dict[str, Any]:
        """The cleaned input as the rule services take it."""
        data = self.cleaned_data
        scope, _sep, target = data["applies_to"].partition(":")
        values: dict[str, Any] = {
            "name": data["name"],
            "scope": scope,
            "service": None,
            "product": None,
            "service_category": None,
            "product_category": None,
            "line_kind": "",
            "staff_level": data["staff_level"],
            "method": data["method"],
            "rate_bp": data["rate_bp"],
            "fixed_amount": data["fixed_amount"],
            "requested_bonus_bp": data["requested_bonus_bp"] or 0,
            "requested_bonus_amount": data["requested_bonus_amount"] or 0,
            "valid_from": data["valid_from"],
            "valid_until": data["valid_until"],
            "is_active": data["is_active"],
        }
        if scope == CommissionScope.KIND:
            values["line_kind"] = target
        elif scope in TARGET_MODELS and target.isdigit():
            values[scope] = TARGET_MODELS[scope].objects.filter(pk=int(target)).first()  # type: ignore[attr-defined]
        tiers = []
        for index in range(1, TIER_ROWS + 1):
            volume, rate = data.get(f"tier_{index}_from"), data.get(f"tier_{index}_rate")
            if volume is not None or rate is not None:
                tiers.append((volume, rate))
        values["tiers"] = tiers
        return values


# Where a service's refusal is shown on the form.
ERROR_FIELDS = {
    "scope": "applies_to",
    "service": "applies_to",
    "product": "applies_to",
    "service_category": "applies_to",
    "product_category": "applies_to",
    "line_kind": "applies_to",
    "tiers": "tier_1_from",
}


class PerformancePeriodForm(forms.Form):
    period = forms.ChoiceField(
        label=_("Period"),
        choices=[
            (Period.DAY, _("Day")),
            (Period.WEEK, _("Week")),
            (Period.MONTH, _("Month")),
            (Period.CUSTOM, _("From … to …")),
        ],
        initial=Period.MONTH,
    )
    day = forms.DateField(
        label=_("Day in the period"),
        required=False,
        widget=DATE_INPUT,
        help_text=_("For a day, week or month."),
    )
    date_from = forms.DateField(label=_("From"), required=False, widget=DATE_INPUT)
    date_to = forms.DateField(label=_("To"), required=False, widget=DATE_INPUT)
    location = forms.ModelChoiceField(
        label=_("Location"), queryset=Location.objects.none(), required=False, empty_label=_("All locations")
    )

    def __init__(self, *args: Any, today: datetime.date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today
        self.fields["location"].queryset = Location.objects.order_by("id")  # type: ignore[attr-defined]
        self.fields["day"].initial = today

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("period") == Period.CUSTOM:
            for field in ("date_from", "date_to"):
                if data.get(field) is None and field not in self.errors:
                    self.add_error(field, _("Enter a date."))
            if "date_from" in data and "date_to" in data and data["date_from"] and data["date_to"]:
                data["dates"] = (data["date_from"], data["date_to"])
        elif data.get("period"):
            data["dates"] = period_dates(period=data["period"], day=data.get("day") or self.today)
        return data
