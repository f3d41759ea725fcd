"""Stock pages: stock by location with filters and low-stock highlighting, the low-stock list and the
navigation badge, a product's levels and movement history, adjustments by hand, and the settings with
material units. Thin: parse, check permission, call one service, render."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from apps.catalog.models import Product
from apps.core.errors import ServiceError
from apps.core.models import Location
from apps.core.permissions import acting_user, staff_permission_required
from apps.core.views import apply_service_error
from apps.inventory import selectors
from apps.inventory.forms import AdjustForm, AlertLevelForm, MaterialUnitForm, SettingsForm, StockFilterForm
from apps.inventory.models import MaterialUnit, MovementKind
from apps.inventory.services import setup as setup_services
from apps.inventory.services import stock as stock_services

inventory_page = staff_permission_required("manage_inventory")
PAGE_SIZE = 50


@inventory_page
def stock(request: HttpRequest) -> HttpResponse:
    """Stock by location: filter by location, product, category; low and negative rows stand out."""
    form = StockFilterForm(request.GET or None)
    values = form.cleaned_data if form.is_valid() else {}
    category = values.get("category")
    rows = selectors.stock_levels(
        location=values.get("location"),
        search=values.get("q") or "",
        category=category.pk if category else None,
        low_only=bool(values.get("low")),
        negative_only=bool(values.get("negative")),
    )
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "inventory/stock.html",
        {"form": form, "page": page, "query": query.urlencode(), "low_count": selectors.low_stock_count()},
    )


@inventory_page
def low_stock(request: HttpRequest) -> HttpResponse:
    """Products at or below their alert level, per location, with the supplier to order from."""
    rows = list(selectors.low_stock_levels().select_related("product__supplier"))
    return render(request, "inventory/low_stock.html", {"rows": rows})


@inventory_page
def low_stock_badge(request: HttpRequest) -> HttpResponse:
    """The count next to *Inventory* in the navigation (fetched by htmx after the page has loaded)."""
    return render(request, "inventory/_low_stock_badge.html", {"count": selectors.low_stock_count()})


@inventory_page
def product_history(request: HttpRequest, pk: int) -> HttpResponse:
    """One product: its level and alert level at each location, and its movements (filter location, kind)."""
    product = get_object_or_404(Product, pk=pk)
    location_id = request.GET.get("location", "")
    kind = request.GET.get("kind", "")
    rows = selectors.movements(
        product=product,
        location=int(location_id) if location_id.isdigit() and len(location_id) < 18 else None,
        kind=kind if kind in MovementKind.values else None,
    )
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    locations = list(Location.objects.order_by("pk"))
    return render(
        request,
        "inventory/product.html",
        {
            "product": product,
            "levels": selectors.product_levels(product, locations=locations),
            "page": page,
            "locations": locations,
            "kinds": MovementKind.choices,
            "chosen_location": location_id,
            "chosen_kind": kind,
        },
    )


@inventory_page
@require_POST
def alert_level_set(request: HttpRequest, pk: int, location_pk: int) -> HttpResponse:
    """Set a product's low-stock alert level at one location (the row comes back by htmx)."""
    product = get_object_or_404(Product, pk=pk)
    location = get_object_or_404(Location, pk=location_pk)
    form = AlertLevelForm(request.POST, prefix=f"alert-{location.pk}")
    level = None
    if form.is_valid():
        try:
            level = stock_services.stock_reorder_level_set(
                location=location,
                product=product,
                reorder_level=form.cleaned_data["reorder_level"],
                acting_user=acting_user(request),
            )
        except ServiceError as error:
            apply_service_error(form, error)
    if not getattr(request, "htmx", False):
        if level is not None:
            messages.success(request, _("The alert level was saved."))
        else:
            messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect("inventory:product", pk=product.pk)
    current = next(row for row in selectors.product_levels(product) if row.location_id == location.pk)
    return render(
        request,
        "inventory/_level_row.html",
        {
            "level": current,
            "product": product,
            "form": form,
            "saved": level is not None,
            "typed": request.POST.get(f"alert-{location.pk}-reorder_level", ""),
        },
    )


@inventory_page
def adjust(request: HttpRequest) -> HttpResponse:
    """Change a location's stock by hand, with a reason (broken, expired, found, used in the salon)."""
    initial: dict[str, Any] = {}
    for name in ("location", "product"):
        value = request.GET.get(name, "")
        if value.isdigit():
            initial[name] = int(value)
    form = AdjustForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        values = form.cleaned_data
        try:
            stock_services.stock_adjust(
                location=values["location"],
                product=values["product"],
                quantity=values["quantity"],
                reason=values["reason"],
                note=values["note"],
                idempotency_key=f"page:{values['idempotency_key']}",
                acting_user=acting_user(request),
            )
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            messages.success(request, _("The adjustment was recorded."))
            return redirect("inventory:product", pk=values["product"].pk)
    return render(request, "inventory/adjust.html", {"form": form}, status=400 if form.errors else 200)


@inventory_page
def settings_edit(request: HttpRequest) -> HttpResponse:
    """The salon's inventory settings, the material units, and the materials that still need one."""
    row = selectors.inventory_settings()
    form = SettingsForm(
        request.POST if request.POST.get("form") == "settings" else None,
        initial={"allow_negative_stock": row.allow_negative_stock, "low_stock_alerts": row.low_stock_alerts},
    )
    unit_form = MaterialUnitForm(request.POST if request.POST.get("form") == "unit" else None, prefix="unit")
    if request.method == "POST" and form.is_bound and form.is_valid():
        try:
            setup_services.inventory_settings_update(acting_user=acting_user(request), **form.cleaned_data)
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            messages.success(request, _("The inventory settings were saved."))
            return redirect("inventory:settings")
    if request.method == "POST" and unit_form.is_bound and unit_form.is_valid():
        try:
            setup_services.material_unit_set(acting_user=acting_user(request), **unit_form.cleaned_data)
        except ServiceError as error:
            apply_service_error(unit_form, error)
        else:
            messages.success(request, _("The material unit was saved."))
            return redirect("inventory:settings")
    return render(
        request,
        "inventory/settings.html",
        {
            "form": form,
            "unit_form": unit_form,
            "units": selectors.material_units(),
            "missing": selectors.materials_without_unit(),
        },
        status=400 if form.errors or unit_form.errors else 200,
    )


@inventory_page
@require_POST
def material_unit_remove(request: HttpRequest, pk: int) -> HttpResponse:
    row = get_object_or_404(MaterialUnit, pk=pk)
    setup_services.material_unit_remove(material_unit=row, acting_user=acting_user(request))
    messages.success(request, _("The material unit was removed."))
    return redirect("inventory:settings")
