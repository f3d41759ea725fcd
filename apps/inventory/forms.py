"""Forms of the inventory pages: they parse the shape of input only (costs typed in yuan arrive in fen,
quantities as decimals); the rules live in the services."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.catalog.models import Product, ProductCategory, Supplier
from apps.core.models import Location
from apps.core.money import yuan_to_fen
from apps.inventory.models import MAX_QUANTITY, AdjustmentReason, PurchaseOrderLine

QUANTITY_ATTRS = {"step": "any", "inputmode": "decimal"}


def quantity_field(
    label: Any, *, required: bool = True, allow_negative: bool = False, **kwargs: Any
) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        required=required,
        max_digits=12,
        decimal_places=3,
        min_value=-MAX_QUANTITY if allow_negative else Decimal(0),
        max_value=MAX_QUANTITY,
        widget=forms.NumberInput(attrs=QUANTITY_ATTRS),
        **kwargs,
    )


def open_locations() -> Any:
    return Location.objects.filter(is_active=True).order_by("pk")


def products() -> Any:
    return Product.objects.filter(is_active=True).order_by("name", "brand", "spec", "pk")


class KeyedForm(forms.Form):
    """A form whose submission is one operation: the hidden key makes a double submit apply it once."""

    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault("idempotency_key", uuid.uuid4().hex)
        super().__init__(*args, **kwargs)


class StockFilterForm(forms.Form):
    location = forms.ModelChoiceField(
        label=gettext_lazy("Location"),
        queryset=Location.objects.none(),
        required=False,
        empty_label=gettext_lazy("All locations"),
    )
    q = forms.CharField(label=gettext_lazy("Product"), required=False, max_length=100)
    category = forms.ModelChoiceField(
        label=gettext_lazy("Category"),
        queryset=ProductCategory.objects.none(),
        required=False,
        empty_label=gettext_lazy("All categories"),
    )
    low = forms.BooleanField(label=gettext_lazy("Low stock only"), required=False)
    negative = forms.BooleanField(label=gettext_lazy("Negative only"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["location"].queryset = Location.objects.order_by("pk")  # type: ignore[attr-defined]
        self.fields["category"].queryset = ProductCategory.objects.filter(is_active=True)  # type: ignore[attr-defined]


class AdjustForm(KeyedForm):
    location = forms.ModelChoiceField(label=gettext_lazy("Location"), queryset=Location.objects.none())
    product = forms.ModelChoiceField(label=gettext_lazy("Product"), queryset=Product.objects.none())
    quantity = quantity_field(
        gettext_lazy("Change"),
        allow_negative=True,
        help_text=gettext_lazy("Negative takes stock out (e.g. -2), positive puts it in."),
    )
    reason = forms.ChoiceField(label=gettext_lazy("Reason"), choices=[("", "—"), *AdjustmentReason.choices])
    note = forms.CharField(label=gettext_lazy("Note"), required=False, max_length=200)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["location"].queryset = open_locations()  # type: ignore[attr-defined]
        self.fields["product"].queryset = Product.objects.order_by("name", "brand", "spec", "pk")  # type: ignore[attr-defined]


class TransferForm(KeyedForm):
    from_location = forms.ModelChoiceField(label=gettext_lazy("From"), queryset=Location.objects.none())
    to_location = forms.ModelChoiceField(label=gettext_lazy("To"), queryset=Location.objects.none())
    note = forms.CharField(label=gettext_lazy("Note"), required=False, max_length=200)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("from_location", "to_location"):
            self.fields[name].queryset = open_locations()  # type: ignore[attr-defined]


class PurchaseOrderForm(forms.Form):
    supplier = forms.ModelChoiceField(label=gettext_lazy("Supplier"), queryset=Supplier.objects.none())
    location = forms.ModelChoiceField(label=gettext_lazy("Deliver to"), queryset=Location.objects.none())
    expected_on = forms.DateField(
        label=gettext_lazy("Expected on"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    note = forms.CharField(label=gettext_lazy("Note"), required=False, max_length=200)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["supplier"].queryset = Supplier.objects.filter(is_active=True).order_by("name")  # type: ignore[attr-defined]
        self.fields["location"].queryset = open_locations()  # type: ignore[attr-defined]


class CancelForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Reason for cancelling"), required=False, max_length=200)


class StocktakeOpenForm(forms.Form):
    location = forms.ModelChoiceField(label=gettext_lazy("Location"), queryset=Location.objects.none())
    note = forms.CharField(label=gettext_lazy("Note"), required=False, max_length=200)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        locations = open_locations()
        self.fields["location"].queryset = locations  # type: ignore[attr-defined]
        self.fields["location"].initial = locations.first()


class SettingsForm(forms.Form):
    allow_negative_stock = forms.BooleanField(
        label=gettext_lazy("Allow negative stock"),
        required=False,
        help_text=gettext_lazy(
            "Off: a sale or a service that needs more than is on hand is refused. On: it goes through, and the "
            "stock is flagged negative until goods are received or counted."
        ),
    )
    low_stock_alerts = forms.BooleanField(
        label=gettext_lazy("Daily low-stock digest"),
        required=False,
        help_text=gettext_lazy("Each morning, staff who manage inventory get one message listing what is low."),
    )


class MaterialUnitForm(forms.Form):
    product = forms.ModelChoiceField(label=gettext_lazy("Product"), queryset=Product.objects.none())
    unit = forms.CharField(
        label=gettext_lazy("Unit"),
        max_length=16,
        help_text=gettext_lazy("As the service's materials write it, e.g. ml"),
    )
    per_stock_unit = quantity_field(
        gettext_lazy("Amount in one unit of the product"), help_text=gettext_lazy("e.g. 1000 for a 1,000 ml bottle")
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = products()  # type: ignore[attr-defined]


class AlertLevelForm(forms.Form):
    reorder_level = quantity_field(gettext_lazy("Low-stock alert at"), required=False)


def receive_form(lines: list[PurchaseOrderLine], data: Any = None) -> forms.Form:
    """A delivery against an order: one "arrived now" field per line still outstanding."""

    class ReceiveForm(KeyedForm):
        note = forms.CharField(label=gettext_lazy("Delivery note"), required=False, max_length=200)

    form = ReceiveForm(data)
    for line in lines:
        if line.quantity_outstanding > 0:
            form.fields[f"line_{line.pk}"] = quantity_field(
                _("%(product)s — arrived now") % {"product": line.product}, required=False
            )
    return form


# --- lines typed in rows (transfers, purchase orders) ------------------------------------------------


@dataclass
class LineRow:
    """One row of a lines table as typed, with its problem if any."""

    product: str = ""
    quantity: str = ""
    unit_cost: str = ""
    error: str = ""


def parse_lines(
    data: QueryDict, *, with_cost: bool = False
) -> tuple[list[tuple[Product, Decimal, int | None]], list[LineRow], bool]:
    """The rows of a lines table (``product``, ``quantity`` and, for orders, ``unit_cost`` in yuan, each
    repeated): (lines parsed, the rows as typed with their errors, whether every row was fine). Empty
    rows are skipped."""
    ids, quantities = data.getlist("product"), data.getlist("quantity")
    costs = data.getlist("unit_cost") if with_cost else []
    rows: list[LineRow] = []
    wanted: list[tuple[int, Decimal, int | None, LineRow]] = []
    for index, raw_id in enumerate(ids):
        row = LineRow(
            product=raw_id,
            quantity=quantities[index] if index < len(quantities) else "",
            unit_cost=costs[index] if index < len(costs) else "",
        )
        rows.append(row)
        if not row.product and not row.quantity:
            continue
        if not row.product.isdigit():
            row.error = _("Choose a product.")
            continue
        try:
            quantity = Decimal(row.quantity.strip())
        except InvalidOperation:
            row.error = _("Enter a quantity.")
            continue
        cost: int | None = None
        if with_cost and row.unit_cost.strip():
            try:
                cost = yuan_to_fen(row.unit_cost)
            except ValueError:
                row.error = _("Enter an amount in yuan with at most two decimals.")
                continue
        wanted.append((int(row.product), quantity, cost, row))
    found = Product.objects.in_bulk([pk for pk, *_rest in wanted])
    lines = []
    for pk, quantity, cost, row in wanted:
        if pk not in found:
            row.error = _("Choose a product.")
            continue
        lines.append((found[pk], quantity, cost))
    return lines, rows, all(not row.error for row in rows)


def blank_rows(rows: list[LineRow], *, minimum: int = 5) -> list[LineRow]:
    """The rows to show: those typed, then empty ones up to ``minimum``."""
    return rows + [LineRow() for _ in range(max(0, minimum - len(rows)))]
