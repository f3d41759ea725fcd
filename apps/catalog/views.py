"""Catalogue pages under Settings (CAT-1…5). Thin: parse a form, call one service, render.

Every page needs ``manage_catalog``. Sections that list lines of an entry (a service's materials,
a package's items, a course card's services) add and remove them with htmx when it is there and
with plain POST and redirect when it is not."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Model
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from apps.catalog import forms, selectors, services
from apps.catalog.models import (
    CourseCardTemplate,
    CourseCardTemplateItem,
    Package,
    PackageItem,
    Product,
    ProductCategory,
    Service,
    ServiceCategory,
    ServiceMaterial,
    Supplier,
)
from apps.core import services as core_services
from apps.core.errors import ServiceError
from apps.core.models import StaffLevel
from apps.core.permissions import acting_user, staff_permission_required
from apps.core.views import apply_service_error

catalog_page = staff_permission_required("manage_catalog")
PAGE_SIZE = 50


def _page(request: HttpRequest, queryset: Any) -> Any:
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


def _set_active(
    request: HttpRequest,
    obj: Model,
    update: Callable[..., Any],
    target: str,
    *,
    url_name: str,
) -> HttpResponse:
    """Deactivate or reactivate ``obj`` through ``update(<target>=obj, is_active=…)`` (POST active=0|1)."""
    activate = request.POST.get("active") == "1"
    try:
        update(**{target: obj}, is_active=activate, acting_user=acting_user(request))
    except ServiceError as error:
        messages.error(request, error.message)
    else:
        if activate:
            messages.success(request, _("%(name)s is active again.") % {"name": obj})
        else:
            messages.success(request, _("%(name)s was deactivated.") % {"name": obj})
    return redirect(url_name)


@catalog_page
def home(request: HttpRequest) -> HttpResponse:
    return redirect("catalog:service_list")


# --- services ----------------------------------------------------------------------------------


@catalog_page
def service_list(request: HttpRequest) -> HttpResponse:
    search = request.GET.get("q", "").strip()[:100]
    page = _page(request, selectors.service_list(search=search))
    return render(request, "catalog/service_list.html", {"page": page, "search": search})


@catalog_page
def service_create(request: HttpRequest) -> HttpResponse:
    form = forms.ServiceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            service = services.service_create(acting_user=acting_user(request), **form.cleaned_data)
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            messages.success(request, _("%(name)s was added.") % {"name": service.name})
            return redirect("catalog:service_edit", service.pk)
    return render(request, "catalog/service_form.html", {"form": form, "service": None})


def _service_context(service: Service, *, material_form: Any = None) -> dict[str, Any]:
    materials = ServiceMaterial.objects.filter(service=service).select_related("product").order_by("pk")
    return {
        "service": service,
        "materials": materials,
        "material_form": material_form or forms.MaterialForm(prefix="material"),
    }


@catalog_page
def service_edit(request: HttpRequest, pk: int) -> HttpResponse:
    service = get_object_or_404(Service.objects.select_related("category"), pk=pk)
    initial = {field: getattr(service, field) for field in forms.ServiceForm.base_fields}
    form = forms.ServiceForm(request.POST or None, initial=initial, current_category=service.category)
    if request.method == "POST" and form.is_valid():
        try:
            services.service_update(service=service, acting_user=acting_user(request), **form.cleaned_data)
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            messages.success(request, _("Changes to %(name)s were saved.") % {"name": form.cleaned_data["name"]})
            return redirect("catalog:service_list")
    return render(request, "catalog/service_form.html", {"form": form, **_service_context(service)})


@catalog_page
@require_POST
def service_set_active(request: HttpRequest, pk: int) -> HttpResponse:
    service = get_object_or_404(Service, pk=pk)
    return _set_active(request, service, services.service_update, "service", url_name="catalog:service_list")


def _lines_response(request: HttpRequest, partial: str, context: dict[str, Any], url: str, pk: int) -> HttpResponse:
    """htmx gets the section back; a plain form post goes back to the page."""
    if getattr(request, "htmx", False):
        return render(request, partial, context)
    return redirect(url, pk)


@catalog_page
@require_POST
def service_material_add(request: HttpRequest, pk: int) -> HttpResponse:
    service = get_object_or_404(Service, pk=pk)
    form = forms.MaterialForm(request.POST, prefix="material")
    if form.is_valid():
        try:
            services.service_material_add(service=service, acting_user=acting_user(request), **form.cleaned_data)
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            form = forms.MaterialForm(prefix="material")
    if form.errors and not getattr(request, "htmx", False):
        # Without htmx the whole page comes back with the section's errors in place.
        return render(
            request,
            "catalog/service_form.html",
            {
                "form": forms.ServiceForm(
                    initial={f: getattr(service, f) for f in forms.ServiceForm.base_fields},
                    current_category=service.category,
                ),
                **_service_context(service, material_form=form),
            },
            status=400,
        )
    context = _service_context(service, material_form=form)
    return _lines_response(request, "catalog/_materials.html", context, "catalog:service_edit", pk)


@catalog_page
@require_POST
def service_material_remove(request: HttpRequest, pk: int, material_pk: int) -> HttpResponse:
    material = get_object_or_404(ServiceMaterial, pk=material_pk, service_id=pk)
    services.service_material_remove(material=material, acting_user=acting_user(request))
    service = get_object_or_404(Service, pk=pk)
    return _lines_response(request, "catalog/_materials.html", _service_context(service), "catalog:service_edit", pk)


@catalog_page
def service_prices(request: HttpRequest, pk: int) -> HttpResponse:
    """The price grid of one service: membership tiers down, staff levels across (CAT-4)."""
    service = get_object_or_404(Service, pk=pk)
    grid = selectors.price_grid(service=service)
    form = forms.PriceGridForm(request.POST or None, tiers=grid["tiers"], levels=grid["levels"], rules=grid["rules"])  # type: ignore[arg-type]
    if request.method == "POST" and form.is_valid():
        try:
            services.service_price_rules_set(service=service, prices=form.prices(), acting_user=acting_user(request))
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            messages.success(request, _("Prices of %(name)s were saved.") % {"name": service.name})
            return redirect("catalog:service_prices", service.pk)
    # Rows: "any tier" then each tier; cells: "any level" then each level. The corner is the base price.
    rows = []
    for tier in [None, *grid["tiers"]]:  # type: ignore[misc]
        cells = []
        for level in [None, *grid["levels"]]:  # type: ignore[misc]
            name = f"cell_{tier.pk if tier else 'any'}_{level.pk if level else 'any'}"
            cells.append(form[name] if name in form.fields else None)
        rows.append((tier, cells))
    return render(
        request,
        "catalog/price_grid.html",
        {"service": service, "form": form, "levels": grid["levels"], "rows": rows},
    )


@catalog_page
def price_rule_list(request: HttpRequest) -> HttpResponse:
    return render(request, "catalog/price_rule_list.html", {"rules": selectors.price_rule_list()})


# --- categories --------------------------------------------------------------------------------

_CATEGORY_KINDS: dict[str, dict[str, Any]] = {
    "service": {
        "model": ServiceCategory,
        "list": selectors.service_category_list,
        "create": services.service_category_create,
        "update": services.service_category_update,
        "url": "catalog:service_category_list",
        "edit_url": "catalog:service_category_edit",
        "active_url": "catalog:service_category_active",
    },
    "product": {
        "model": ProductCategory,
        "list": selectors.product_category_list,
        "create": services.product_category_create,
        "update": services.product_category_update,
        "url": "catalog:product_category_list",
        "edit_url": "catalog:product_category_edit",
        "active_url": "catalog:product_category_active",
    },
}


def _category_list(request: HttpRequest, kind: str) -> HttpResponse:
    spec = _CATEGORY_KINDS[kind]
    form = forms.CategoryForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            category = spec["create"](acting_user=acting_user(request), **form.cleaned_data)
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            messages.success(request, _("%(name)s was added.") % {"name": category.name})
            return redirect(spec["url"])
    title = _("Service categories") if kind == "service" else _("Product categories")
    return render(
        request,
        "catalog/category_list.html",
        {"categories": spec["list"](), "form": form, "kind": kind, "title": title, "spec": spec},
    )


def _category_edit(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    spec = _CATEGORY_KINDS[kind]
    category = get_object_or_404(spec["model"], pk=pk)
    form = forms.CategoryForm(request.POST or None, initial={"name": category.name, "sort_order": category.sort_order})
    if request.method == "POST" and form.is_valid():
        try:
            spec["update"](category=category, acting_user=acting_user(request), **form.cleaned_data)
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            messages.success(request, _("Changes to %(name)s were saved.") % {"name": form.cleaned_data["name"]})
            return redirect(spec["url"])
    return render(
        request, "catalog/simple_form.html", {"form": form, "title": category.name, "cancel_url": spec["url"]}
    )


def _category_active(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    spec = _CATEGORY_KINDS[kind]
    category = get_object_or_404(spec["model"], pk=pk)
    return _set_active(request, category, spec["update"], "category", url_name=spec["url"])


@catalog_page
def service_category_list(request: HttpRequest) -> HttpResponse:
    return _category_list(request, "service")


@catalog_page
def service_category_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _category_edit(request, "service", pk)


@catalog_page
@require_POST
def service_category_active(request: HttpRequest, pk: int) -> HttpResponse:
    return _category_active(request, "service", pk)


@catalog_page
def product_category_list(request: HttpRequest) -> HttpResponse:
    return _category_list(request, "product")


@catalog_page
def product_category_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _category_edit(request, "product", pk)


@catalog_page
@require_POST
def product_category_active(request: HttpRequest, pk: int) -> HttpResponse:
    return _category_active(request, "product", pk)


# --- products ----------------------------------------------------------------------------------


@catalog_page
def product_list(request: HttpRequest) -> HttpResponse:
    search = request.GET.get("q", "").strip()[:100]
    page = _page(request, selectors.product_list(search=search))
    return render(request, "catalog/product_list.html", {"page": page, "search": search})


def _product_fields(data: dict[str, Any]) -> dict[str, Any]:
    fields = dict(data)
    fields["cost"] = fields.get("cost") or 0
    return fields


@catalog_page
def product_create(request: HttpRequest) -> HttpResponse:
    form = forms.ProductForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            product = services.product_create(acting_user=acting_user(request), **_product_fields(form.cleaned_data))
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            messages.success(request, _("%(name)s was added.") % {"name": product.name})
            return redirect("catalog:product_list")
    return render(request, "catalog/product_form.html", {"form": form, "product": None})


@catalog_page
def product_edit(request: HttpRequest, pk: int) -> HttpResponse:
    product = get_object_or_404(Product.objects.select_related("category", "supplier"), pk=pk)
    initial = {field: getattr(product, field) for field in forms.ProductForm.base_fields if field != "remove_image"}
    initial["image"] = None
    form = forms.ProductForm(
        request.POST or None,
        request.FILES or None,
        initial=initial,
        current_category=product.category,
        current_supplier=product.supplier,
        has_image=bool(product.image),
    )
    if request.method == "POST" and form.is_valid():
        fields = _product_fields(form.cleaned_data)
        fields["remove_image"] = fields.pop("remove_image", False)
        try:
            services.product_update(product=product, acting_user=acting_user(request), **fields)
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            messages.success(request, _("Changes to %(name)s were saved.") % {"name": fields["name"]})
            return redirect("catalog:product_list")
    return render(request, "catalog/product_form.html", {"form": form, "product": product})


@catalog_page
@require_POST
def product_set_active(request: HttpRequest, pk: int) -> HttpResponse:
    product = get_object_or_404(Product, pk=pk)
    return _set_active(request, product, services.product_update, "product", url_name="catalog:product_list")


# --- suppliers ---------------------------------------------------------------------------------


@catalog_page
def supplier_list(request: HttpRequest) -> HttpResponse:
    return render(request, "catalog/supplier_list.html", {"suppliers": selectors.supplier_list()})


@catalog_page
def supplier_create(request: HttpRequest) -> HttpResponse:
    form = forms.SupplierForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            supplier = services.supplier_create(acting_user=acting_user(request), **form.cleaned_data)
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            messages.success(request, _("%(name)s was added.") % {"name": supplier.name})
            return redirect("catalog:supplier_list")
    return render(
        request,
        "catalog/simple_form.html",
        {"form": form, "title": _("Add a supplier"), "cancel_url": "catalog:supplier_list"},
    )


@catalog_page
def supplier_edit(request: HttpRequest, pk: int) -> HttpResponse:
    supplier = get_object_or_404(Supplier, pk=pk)
    initial = {field: getattr(supplier, field) for field in forms.SupplierForm.base_fields}
    form = forms.SupplierForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.supplier_update(supplier=supplier, acting_user=acting_user(request), **form.cleaned_data)
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            messages.success(request, _("Changes to %(name)s were saved.") % {"name": form.cleaned_data["name"]})
            return redirect("catalog:supplier_list")
    return render(
        request,
        "catalog/simple_form.html",
        {"form": form, "title": supplier.name, "cancel_url": "catalog:supplier_list"},
    )


@catalog_page
@require_POST
def supplier_set_active(request: HttpRequest, pk: int) -> HttpResponse:
    supplier = get_object_or_404(Supplier, pk=pk)
    return _set_active(request, supplier, services.supplier_update, "supplier", url_name="catalog:supplier_list")


# --- packages ----------------------------------------------------------------------------------


@catalog_page
def package_list(request: HttpRequest) -> HttpResponse:
    return render(request, "catalog/package_list.html", {"packages": selectors.package_list()})


@catalog_page
def package_create(request: HttpRequest) -> HttpResponse:
    form = forms.PackageForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            package = services.package_create(acting_user=acting_user(request), **form.cleaned_data)
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            messages.success(request, _("%(name)s was added; now add what it includes.") % {"name": package.name})
            return redirect("catalog:package_edit", package.pk)
    return render(request, "catalog/package_form.html", {"form": form, "package": None})


def _package_context(package: Package, *, item_form: Any = None) -> dict[str, Any]:
    items = PackageItem.objects.filter(package=package).select_related("service", "product").order_by("pk")
    return {"package": package, "items": items, "item_form": item_form or forms.PackageItemForm(prefix="item")}


@catalog_page
def package_edit(request: HttpRequest, pk: int) -> HttpResponse:
    package = get_object_or_404(Package, pk=pk)
    initial = {field: getattr(package, field) for field in forms.PackageForm.base_fields}
    form = forms.PackageForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.package_update(package=package, acting_user=acting_user(request), **form.cleaned_data)
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            messages.success(request, _("Changes to %(name)s were saved.") % {"name": form.cleaned_data["name"]})
            return redirect("catalog:package_list")
    return render(request, "catalog/package_form.html", {"form": form, **_package_context(package)})


@catalog_page
@require_POST
def package_item_add(request: HttpRequest, pk: int) -> HttpResponse:
    package = get_object_or_404(Package, pk=pk)
    form = forms.PackageItemForm(request.POST, prefix="item")
    if form.is_valid():
        try:
            services.package_item_add(package=package, acting_user=acting_user(request), **form.cleaned_data)
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            form = forms.PackageItemForm(prefix="item")
    if form.errors and not getattr(request, "htmx", False):
        initial = {field: getattr(package, field) for field in forms.PackageForm.base_fields}
        return render(
            request,
            "catalog/package_form.html",
            {"form": forms.PackageForm(initial=initial), **_package_context(package, item_form=form)},
            status=400,
        )
    return _lines_response(
        request, "catalog/_package_items.html", _package_context(package, item_form=form), "catalog:package_edit", pk
    )


@catalog_page
@require_POST
def package_item_remove(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    item = get_object_or_404(PackageItem, pk=item_pk, package_id=pk)
    services.package_item_remove(item=item, acting_user=acting_user(request))
    package = get_object_or_404(Package, pk=pk)
    return _lines_response(
        request, "catalog/_package_items.html", _package_context(package), "catalog:package_edit", pk
    )


@catalog_page
@require_POST
def package_set_active(request: HttpRequest, pk: int) -> HttpResponse:
    package = get_object_or_404(Package, pk=pk)
    return _set_active(request, package, services.package_update, "package", url_name="catalog:package_list")


# --- course-card templates ---------------------------------------------------------------------


@catalog_page
def course_card_list(request: HttpRequest) -> HttpResponse:
    return render(request, "catalog/course_card_list.html", {"cards": selectors.course_card_template_list()})


@catalog_page
def course_card_create(request: HttpRequest) -> HttpResponse:
    form = forms.CourseCardForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            card = services.course_card_template_create(acting_user=acting_user(request), **form.cleaned_data)
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            messages.success(request, _("%(name)s was added; now add its sessions.") % {"name": card.name})
            return redirect("catalog:course_card_edit", card.pk)
    return render(request, "catalog/course_card_form.html", {"form": form, "card": None})


def _card_context(card: CourseCardTemplate, *, item_form: Any = None) -> dict[str, Any]:
    items = CourseCardTemplateItem.objects.filter(template=card).select_related("service").order_by("pk")
    return {"card": card, "items": items, "item_form": item_form or forms.CourseCardItemForm(prefix="item")}


@catalog_page
def course_card_edit(request: HttpRequest, pk: int) -> HttpResponse:
    card = get_object_or_404(CourseCardTemplate, pk=pk)
    initial = {field: getattr(card, field) for field in forms.CourseCardForm.base_fields}
    form = forms.CourseCardForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.course_card_template_update(template=card, acting_user=acting_user(request), **form.cleaned_data)
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            messages.success(request, _("Changes to %(name)s were saved.") % {"name": form.cleaned_data["name"]})
            return redirect("catalog:course_card_list")
    return render(request, "catalog/course_card_form.html", {"form": form, **_card_context(card)})


@catalog_page
@require_POST
def course_card_item_add(request: HttpRequest, pk: int) -> HttpResponse:
    card = get_object_or_404(CourseCardTemplate, pk=pk)
    form = forms.CourseCardItemForm(request.POST, prefix="item")
    if form.is_valid():
        try:
            services.course_card_item_add(template=card, acting_user=acting_user(request), **form.cleaned_data)
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            form = forms.CourseCardItemForm(prefix="item")
    if form.errors and not getattr(request, "htmx", False):
        initial = {field: getattr(card, field) for field in forms.CourseCardForm.base_fields}
        return render(
            request,
            "catalog/course_card_form.html",
            {"form": forms.CourseCardForm(initial=initial), **_card_context(card, item_form=form)},
            status=400,
        )
    return _lines_response(
        request, "catalog/_course_card_items.html", _card_context(card, item_form=form), "catalog:course_card_edit", pk
    )


@catalog_page
@require_POST
def course_card_item_remove(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    item = get_object_or_404(CourseCardTemplateItem, pk=item_pk, template_id=pk)
    services.course_card_item_remove(item=item, acting_user=acting_user(request))
    card = get_object_or_404(CourseCardTemplate, pk=pk)
    return _lines_response(
        request, "catalog/_course_card_items.html", _card_context(card), "catalog:course_card_edit", pk
    )


@catalog_page
@require_POST
def course_card_set_active(request: HttpRequest, pk: int) -> HttpResponse:
    card = get_object_or_404(CourseCardTemplate, pk=pk)
    return _set_active(
        request, card, services.course_card_template_update, "template", url_name="catalog:course_card_list"
    )


# --- staff levels ------------------------------------------------------------------------------


@catalog_page
def staff_level_list(request: HttpRequest) -> HttpResponse:
    form = forms.StaffLevelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            level = core_services.staff_level_create(acting_user=acting_user(request), **form.cleaned_data)
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            messages.success(request, _("%(name)s was added.") % {"name": level.name})
            return redirect("catalog:staff_level_list")
    return render(request, "catalog/staff_level_list.html", {"levels": selectors.staff_level_list(), "form": form})


@catalog_page
def staff_level_edit(request: HttpRequest, pk: int) -> HttpResponse:
    level = get_object_or_404(StaffLevel, pk=pk)
    form = forms.StaffLevelForm(request.POST or None, initial={"name": level.name, "rank": level.rank})
    if request.method == "POST" and form.is_valid():
        try:
            core_services.staff_level_update(level=level, acting_user=acting_user(request), **form.cleaned_data)
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            messages.success(request, _("Changes to %(name)s were saved.") % {"name": form.cleaned_data["name"]})
            return redirect("catalog:staff_level_list")
    return render(
        request,
        "catalog/simple_form.html",
        {"form": form, "title": level.name, "cancel_url": "catalog:staff_level_list"},
    )


@catalog_page
@require_POST
def staff_level_set_active(request: HttpRequest, pk: int) -> HttpResponse:
    level = get_object_or_404(StaffLevel, pk=pk)
    return _set_active(request, level, core_services.staff_level_update, "level", url_name="catalog:staff_level_list")
