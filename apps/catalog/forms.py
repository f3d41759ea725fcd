"""Forms of the catalogue pages: they parse input shape only (prices typed in yuan arrive in fen);
the rules live in the services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import Model, Q, QuerySet
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from apps.catalog.models import Product, ProductCategory, Service, ServiceCategory, Supplier
from apps.core.money import MoneyField


def active_or_current(queryset: QuerySet[Any], current: Model | None) -> QuerySet[Any]:
    """Active choices, plus the one already chosen even if it has since been deactivated."""
    condition = Q(is_active=True)
    if current is not None:
        condition |= Q(pk=current.pk)
    return queryset.filter(condition)


class CategoryForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=50)
    sort_order = forms.IntegerField(label=_("Sort order"), initial=0, help_text=_("Lower numbers are listed first."))


class ServiceForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    category = forms.ModelChoiceField(
        label=_("Category"), queryset=ServiceCategory.objects.none(), required=False, empty_label=_("(none)")
    )
    duration_minutes = forms.IntegerField(label=_("Duration (minutes)"))
    buffer_minutes = forms.IntegerField(
        label=_("Buffer (minutes)"), initial=0, help_text=_("Time to clean up and prepare after the service.")
    )
    price = MoneyField(label=_("Price (yuan)"))
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    suits = forms.CharField(label=_("Who it suits"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    sort_order = forms.IntegerField(label=_("Sort order"), initial=0)

    def __init__(self, *args: Any, current_category: ServiceCategory | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = active_or_current(ServiceCategory.objects.all(), current_category)  # type: ignore[attr-defined]


class MaterialForm(forms.Form):
    product = forms.ModelChoiceField(label=_("Product"), queryset=Product.objects.none())
    quantity = forms.DecimalField(label=_("Quantity"), max_digits=10, decimal_places=3)
    unit = forms.CharField(label=_("Unit"), max_length=16, required=False, help_text=_("e.g. ml, g, piece"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = Product.objects.filter(is_active=True).order_by("name", "pk")  # type: ignore[attr-defined]


class ProductForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    brand = forms.CharField(label=_("Brand"), max_length=50, required=False)
    spec = forms.CharField(label=_("Specification"), max_length=50, required=False, help_text=_("e.g. 500 ml"))
    price = MoneyField(label=_("Price (yuan)"))
    cost = MoneyField(label=_("Cost (yuan)"), required=False, initial=0)
    barcode = forms.CharField(label=_("Barcode"), max_length=64, required=False)
    category = forms.ModelChoiceField(
        label=_("Category"), queryset=ProductCategory.objects.none(), required=False, empty_label=_("(none)")
    )
    supplier = forms.ModelChoiceField(
        label=_("Supplier"), queryset=Supplier.objects.none(), required=False, empty_label=_("(none)")
    )
    stock = forms.IntegerField(label=_("Stock on hand"), initial=0, help_text=_("A change is recorded as a count."))
    image = forms.FileField(
        label=_("Image"), required=False, widget=forms.ClearableFileInput(attrs={"accept": "image/*"})
    )
    remove_image = forms.BooleanField(label=_("Remove the image"), required=False)

    def __init__(
        self,
        *args: Any,
        current_category: ProductCategory | None = None,
        current_supplier: Supplier | None = None,
        has_image: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = active_or_current(ProductCategory.objects.all(), current_category)  # type: ignore[attr-defined]
        self.fields["supplier"].queryset = active_or_current(Supplier.objects.all(), current_supplier)  # type: ignore[attr-defined]
        self.fields["image"].widget = forms.FileInput(attrs={"accept": "image/*"})
        if not has_image:
            del self.fields["remove_image"]


class SupplierForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    contact = forms.CharField(label=_("Contact person"), max_length=50, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=30, required=False)
    address = forms.CharField(label=_("Address"), max_length=300, required=False)
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3}))


class PackageForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    price = MoneyField(label=_("Package price (yuan)"))
    validity_days = forms.IntegerField(
        label=_("Valid for (days)"), required=False, help_text=_("Leave empty when it never expires.")
    )
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3}))


class PackageItemForm(forms.Form):
    service = forms.ModelChoiceField(
        label=_("Service"), queryset=Service.objects.none(), required=False, empty_label=_("(none)")
    )
    product = forms.ModelChoiceField(
        label=_("Product"), queryset=Product.objects.none(), required=False, empty_label=_("(none)")
    )
    quantity = forms.IntegerField(label=_("Quantity"), initial=1)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = Service.objects.filter(is_active=True).order_by("name", "pk")  # type: ignore[attr-defined]
        self.fields["product"].queryset = Product.objects.filter(is_active=True).order_by("name", "pk")  # type: ignore[attr-defined]


class CourseCardForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    price = MoneyField(label=_("Card price (yuan)"))
    validity_days = forms.IntegerField(label=_("Valid for (days)"), initial=365)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3}))


class CourseCardItemForm(forms.Form):
    service = forms.ModelChoiceField(label=_("Service"), queryset=Service.objects.none())
    sessions = forms.IntegerField(label=pgettext_lazy("course card", "Sessions"), initial=10)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = Service.objects.filter(is_active=True).order_by("name", "pk")  # type: ignore[attr-defined]


class StaffLevelForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=50)
    rank = forms.IntegerField(label=_("Rank"), help_text=_("Higher is more senior."))


class PriceGridForm(forms.Form):
    """One optional price per (tier, staff level) cell; an empty cell has no rule."""

    def __init__(self, *args: Any, tiers: list[Any], levels: list[Any], rules: dict[Any, Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cells: dict[str, tuple[Any, Any]] = {}
        for tier in [None, *tiers]:
            for level in [None, *levels]:
                if tier is None and level is None:
                    continue  # the base price: edited on the service itself
                name = f"cell_{tier.pk if tier else 'any'}_{level.pk if level else 'any'}"
                rule = rules.get((tier.pk if tier else None, level.pk if level else None))
                self.fields[name] = MoneyField(
                    label=_("%(tier)s × %(level)s")
                    % {"tier": tier.name if tier else _("Any tier"), "level": level.name if level else _("Any level")},
                    required=False,
                    initial=rule.price if rule else None,
                )
                self.cells[name] = (tier, level)

    def prices(self) -> dict[tuple[Any, Any], int | None]:
        return {self.cells[name]: self.cleaned_data.get(name) for name in self.cells}
