"""Pages of the stock documents: transfers between locations, purchase orders (create, place, receive in
part or in full, cancel) and stocktakes (a count sheet usable on a tablet, posting, the variance)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from apps.catalog.models import Supplier
from apps.core.errors import ServiceError
from apps.core.permissions import acting_user, staff_permission_required
from apps.core.views import apply_service_error
from apps.inventory import selectors
from apps.inventory.forms import (
    CancelForm,
    LineRow,
    PurchaseOrderForm,
    StocktakeOpenForm,
    TransferForm,
    blank_rows,
    parse_lines,
    products,
    receive_form,
)
from apps.inventory.models import PurchaseOrder, PurchaseOrderStatus, Stocktake
from apps.inventory.services import purchasing, stocktakes, transfers
from apps.inventory.services.purchasing import OrderLineSpec

inventory_page = staff_permission_required("manage_inventory")
PAGE_SIZE = 30


def _id(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and len(value) < 18 else None


def _line_error(error: ServiceError) -> str:
    return " ".join(str(m) for messages_ in error.errors.values() for m in messages_) or error.message


# --- transfers -------------------------------------------------------------------------------------


@inventory_page
def transfer_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.transfers().order_by("-id"), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "inventory/transfer_list.html", {"page": page})


@inventory_page
def transfer_create(request: HttpRequest) -> HttpResponse:
    """Move stock between two locations: every line moves, or none does."""
    form = TransferForm(request.POST or None)
    rows: list[LineRow] = []
    problem = ""
    if request.method == "POST":
        lines, rows, rows_ok = parse_lines(request.POST)
        if form.is_valid() and rows_ok:
            values = form.cleaned_data
            try:
                transfer = transfers.stock_transfer_create(
                    from_location=values["from_location"],
                    to_location=values["to_location"],
                    lines=[(product, quantity) for product, quantity, _cost in lines],
                    note=values["note"],
                    idempotency_key=f"page:{values['idempotency_key']}",
                    acting_user=acting_user(request),
                )
            except ServiceError as error:
                if error.field in form.fields:
                    apply_service_error(form, error)
                else:
                    problem = _line_error(error)
            else:
                messages.success(request, _("Transfer %(number)s was recorded.") % {"number": transfer.number})
                return redirect("inventory:transfer_list")
        elif rows_ok and not form.errors:
            problem = _("Check the lines.")
    return render(
        request,
        "inventory/transfer_form.html",
        {"form": form, "rows": blank_rows(rows), "products": list(products()), "problem": problem},
        status=400 if request.method == "POST" else 200,
    )


@inventory_page
def line_row(request: HttpRequest) -> HttpResponse:
    """One more empty row for a lines table (the "Add a line" button, by htmx)."""
    number = _id(request.GET.get("n")) or 1
    return render(
        request,
        "inventory/_line_row.html",
        {"row": LineRow(), "number": number, "products": list(products()), "with_cost": request.GET.get("cost") == "1"},
    )


# --- purchase orders --------------------------------------------------------------------------------


@inventory_page
def order_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    rows = selectors.purchase_orders(status=status if status in PurchaseOrderStatus.values else None)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "inventory/order_list.html",
        {"page": page, "statuses": PurchaseOrderStatus.choices, "chosen_status": status},
    )


def _order_form_page(request: HttpRequest, order: PurchaseOrder | None) -> HttpResponse:
    initial: dict[str, Any] = {}
    if order is not None:
        initial = {f: getattr(order, f) for f in ("supplier", "location", "expected_on", "note")}
    else:
        for name in ("supplier", "location"):
            if (value := _id(request.GET.get(name))) is not None:
                initial[name] = value
    form = PurchaseOrderForm(request.POST or None, initial=initial)
    if order is not None:
        form.fields["supplier"].queryset = Supplier.objects.filter(pk=order.supplier_id) | Supplier.objects.filter(  # type: ignore[attr-defined]
            is_active=True
        )
    rows: list[LineRow] = []
    problem = ""
    if order is not None and request.method != "POST":
        rows = [
            LineRow(
                product=str(line.product_id),
                quantity=f"{line.quantity_ordered.normalize():f}",
                unit_cost=f"{line.unit_cost / 100:.2f}",
            )
            for line in selectors.order_lines(order)
        ]
    if request.method == "POST":
        lines, rows, rows_ok = parse_lines(request.POST, with_cost=True)
        if form.is_valid() and rows_ok:
            values = form.cleaned_data
            specs = [OrderLineSpec(product, quantity, cost) for product, quantity, cost in lines]
            try:
                if order is None:
                    order = purchasing.purchase_order_create(acting_user=acting_user(request), lines=specs, **values)
                    messages.success(
                        request, _("Purchase order %(number)s was saved as a draft.") % {"number": order.number}
                    )
                else:
                    purchasing.purchase_order_update(
                        order=order, acting_user=acting_user(request), lines=specs, **values
                    )
                    messages.success(request, _("The purchase order was saved."))
            except ServiceError as error:
                if error.field in form.fields:
                    apply_service_error(form, error)
                else:
                    problem = _line_error(error)
            else:
                return redirect("inventory:order_detail", pk=order.pk)
    return render(
        request,
        "inventory/order_form.html",
        {"form": form, "order": order, "rows": blank_rows(rows), "products": list(products()), "problem": problem},
        status=400 if request.method == "POST" else 200,
    )


@inventory_page
def order_create(request: HttpRequest) -> HttpResponse:
    return _order_form_page(request, None)


@inventory_page
def order_edit(request: HttpRequest, pk: int) -> HttpResponse:
    order = get_object_or_404(PurchaseOrder, pk=pk)
    if order.status != PurchaseOrderStatus.DRAFT:
        messages.error(request, _("Only a draft order can be changed or placed."))
        return redirect("inventory:order_detail", pk=order.pk)
    return _order_form_page(request, order)


def _order_context(order: PurchaseOrder, **extra: Any) -> dict[str, Any]:
    lines = selectors.order_lines(order)
    return {
        "order": order,
        "lines": lines,
        "total": selectors.order_total(lines),
        "receipts": selectors.order_receipts(order),
        "receive_form": extra.pop("receive_form", None) or receive_form(lines),
        "cancel_form": extra.pop("cancel_form", None) or CancelForm(),
        **extra,
    }


@inventory_page
def order_detail(request: HttpRequest, pk: int) -> HttpResponse:
    order = get_object_or_404(PurchaseOrder.objects.select_related("supplier", "location"), pk=pk)
    return render(request, "inventory/order_detail.html", _order_context(order))


@inventory_page
@require_POST
def order_place(request: HttpRequest, pk: int) -> HttpResponse:
    order = get_object_or_404(PurchaseOrder, pk=pk)
    try:
        purchasing.purchase_order_place(order=order, acting_user=acting_user(request))
    except ServiceError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Purchase order %(number)s was placed.") % {"number": order.number})
    return redirect("inventory:order_detail", pk=order.pk)


@inventory_page
@require_POST
def order_receive(request: HttpRequest, pk: int) -> HttpResponse:
    """A delivery: what arrived of each line (empty or 0: nothing of it this time)."""
    order = get_object_or_404(PurchaseOrder.objects.select_related("supplier", "location"), pk=pk)
    form = receive_form(selectors.order_lines(order), request.POST)
    if form.is_valid():
        arrived = [
            (int(name.removeprefix("line_")), quantity)
            for name, quantity in form.cleaned_data.items()
            if name.startswith("line_") and quantity
        ]
        if not arrived:
            form.add_error(None, _("Enter what arrived of at least one line."))
        else:
            try:
                result = purchasing.purchase_order_receive(
                    order=order,
                    lines=arrived,
                    note=form.cleaned_data["note"],
                    idempotency_key=f"page:{form.cleaned_data['idempotency_key']}",
                    acting_user=acting_user(request),
                )
            except ServiceError as error:
                form.add_error(None, error.message)
            else:
                messages.success(
                    request,
                    _("The delivery was received: %(status)s.") % {"status": result.order.get_status_display()},
                )
                return redirect("inventory:order_detail", pk=order.pk)
    order.refresh_from_db()
    return render(request, "inventory/order_detail.html", _order_context(order, receive_form=form), status=400)


@inventory_page
@require_POST
def order_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    order = get_object_or_404(PurchaseOrder.objects.select_related("supplier", "location"), pk=pk)
    form = CancelForm(request.POST)
    if form.is_valid():
        try:
            purchasing.purchase_order_cancel(order=order, acting_user=acting_user(request), **form.cleaned_data)
        except ServiceError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("Purchase order %(number)s was cancelled.") % {"number": order.number})
    return redirect("inventory:order_detail", pk=order.pk)


# --- stocktakes ------------------------------------------------------------------------------------


@inventory_page
def stocktake_list(request: HttpRequest) -> HttpResponse:
    form = StocktakeOpenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            stocktake = stocktakes.stocktake_open(acting_user=acting_user(request), **form.cleaned_data)
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            return redirect("inventory:stocktake", pk=stocktake.pk)
    page = Paginator(selectors.stocktakes(), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request, "inventory/stocktake_list.html", {"form": form, "page": page}, status=400 if form.errors else 200
    )


def _sheet_context(request: HttpRequest, stocktake: Stocktake, **extra: Any) -> dict[str, Any]:
    search = request.GET.get("q", "").strip()[:100]
    uncounted = request.GET.get("uncounted") == "1"
    return {
        "stocktake": stocktake,
        "lines": list(selectors.stocktake_lines(stocktake, search=search, uncounted_only=uncounted)),
        "search": search,
        "uncounted": uncounted,
        "report": selectors.stocktake_variance(stocktake),
        **extra,
    }


@inventory_page
def stocktake_sheet(request: HttpRequest, pk: int) -> HttpResponse:
    """The count sheet (open) or the variance report (posted)."""
    stocktake = get_object_or_404(Stocktake.objects.select_related("location"), pk=pk)
    return render(request, "inventory/stocktake.html", _sheet_context(request, stocktake))


@inventory_page
@require_POST
def stocktake_count(request: HttpRequest, pk: int) -> HttpResponse:
    """Save counts: one row by htmx (the row comes back), or every row typed on the sheet at once."""
    stocktake = get_object_or_404(Stocktake.objects.select_related("location"), pk=pk)
    single = _id(request.POST.get("row")) if getattr(request, "htmx", False) else None
    counts = []
    if single is not None:
        counts.append((single, str(request.POST.get(f"counted_{single}", "")).strip() or None))
    else:
        for name, value in request.POST.items():
            if name.startswith("counted_") and (product_id := _id(name.removeprefix("counted_"))) is not None:
                counts.append((product_id, str(value).strip() or None))
    problem = ""
    try:
        stocktakes.stocktake_count(stocktake=stocktake, counts=counts, acting_user=acting_user(request))
    except ServiceError as error:
        problem = error.message
    if single is not None:
        line = selectors.stocktake_lines(stocktake).filter(product_id=single).first()
        if line is None:
            return HttpResponse(problem, status=404)
        return render(
            request,
            "inventory/_count_row.html",
            # 200 with the problem in the row: htmx swaps only successful answers in.
            {"stocktake": stocktake, "line": line, "problem": problem, "typed": counts[0][1], "saved": not problem},
        )
    if problem:
        messages.error(request, problem)
    else:
        messages.success(request, _("The counts were saved."))
    return redirect("inventory:stocktake", pk=stocktake.pk)


@inventory_page
@require_POST
def stocktake_post(request: HttpRequest, pk: int) -> HttpResponse:
    stocktake = get_object_or_404(Stocktake, pk=pk)
    try:
        result = stocktakes.stocktake_post(stocktake=stocktake, acting_user=acting_user(request))
    except ServiceError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("The stocktake was posted: %(count)s differences were booked.") % {"count": len(result.movements)},
        )
    return redirect("inventory:stocktake", pk=stocktake.pk)


@inventory_page
@require_POST
def stocktake_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    stocktake = get_object_or_404(Stocktake, pk=pk)
    try:
        stocktakes.stocktake_cancel(stocktake=stocktake, acting_user=acting_user(request))
    except ServiceError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The stocktake was cancelled; the stock was not changed."))
    return redirect("inventory:stocktake_list")
