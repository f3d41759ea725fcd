"""Invoice request pages (POS-10): the list with filters, a new request for a paid bill (front desk,
``take_payments``), and a request with the accountant's issue and reject forms (``manage_expenses``) and
the cancel form (either)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from apps.core.errors import ServiceError
from apps.core.permissions import acting_user
from apps.core.roles import perm
from apps.core.views import apply_service_error
from apps.pos.forms_reports import (
    InvoiceCancelForm,
    InvoiceFilterForm,
    InvoiceIssueForm,
    InvoiceRejectForm,
    InvoiceRequestForm,
)
from apps.pos.models import Bill, InvoiceRequest, InvoiceStatus
from apps.pos.selectors.expenses import invoice_request_list
from apps.pos.services import invoices as services


def _may_request(request: HttpRequest) -> bool:
    return bool(request.user.has_perm(perm("take_payments")))


def _may_issue(request: HttpRequest) -> bool:
    return bool(request.user.has_perm(perm("manage_expenses")))


def invoice_staff(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed in, with ``take_payments`` (who request invoices) or ``manage_expenses`` (who issue them)."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not (_may_request(request) or _may_issue(request)):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


@invoice_staff
@require_GET
def invoice_list(request: HttpRequest) -> HttpResponse:
    filters = InvoiceFilterForm(request.GET or None)
    criteria = filters.cleaned_data if filters.is_bound and filters.is_valid() else {}
    rows = invoice_request_list(
        status=criteria.get("status") or "",
        date_from=criteria.get("date_from"),
        date_to=criteria.get("date_to"),
        query=criteria.get("q") or "",
    )
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "pos/reports/invoices.html",
        {
            "filters": filters,
            "page": page,
            "requests": list(page.object_list),
            "query_string": query.urlencode(),
            "may_request": _may_request(request),
        },
    )


@login_required
def invoice_new(request: HttpRequest) -> HttpResponse:
    """Request an invoice for a paid bill (``?bill=<id>`` fills in the bill and what is left to invoice)."""
    if not _may_request(request):
        raise PermissionDenied
    initial: dict[str, Any] = {}
    bill_id = request.GET.get("bill", "")
    if bill_id.isdigit():
        bill = Bill.objects.filter(pk=int(bill_id)).first()
        if bill is not None:
            initial = {"bill_number": bill.number, "amount": services.invoice_amount_open(bill)}
    form = InvoiceRequestForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        bill = Bill.objects.filter(number=data.pop("bill_number").strip()).first()
        if bill is None:
            form.add_error("bill_number", _("No bill has this number."))
        else:
            try:
                created = services.invoice_request_create(bill=bill, acting_user=acting_user(request), **data)
            except ServiceError as error:
                apply_service_error(form, error)
            else:
                messages.success(request, _("Invoice requested for bill %(number)s.") % {"number": bill.number})
                return redirect("pos:invoice_detail", pk=created.pk)
    return render(
        request, "pos/reports/invoice_new.html", {"form": form}, status=400 if request.method == "POST" else 200
    )


@invoice_staff
def invoice_detail(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = get_object_or_404(
        InvoiceRequest.objects.select_related("bill", "bill__location", "requested_by", "decided_by"), pk=pk
    )
    action = request.POST.get("action") if request.method == "POST" else None
    issue_form = InvoiceIssueForm(
        request.POST if action == "issue" else None, request.FILES if action == "issue" else None, prefix="issue"
    )
    reject_form = InvoiceRejectForm(request.POST if action == "reject" else None, prefix="reject")
    cancel_form = InvoiceCancelForm(request.POST if action == "cancel" else None, prefix="cancel")
    forms = {"issue": issue_form, "reject": reject_form, "cancel": cancel_form}
    if action in forms:
        if action in ("issue", "reject") and not _may_issue(request):
            raise PermissionDenied
        form = forms[action]
        if form.is_valid():
            me = acting_user(request)
            try:
                if action == "issue":
                    services.invoice_request_issue(request=invoice, acting_user=me, **form.cleaned_data)
                    messages.success(request, _("The invoice was recorded as issued."))
                elif action == "reject":
                    services.invoice_request_reject(request=invoice, acting_user=me, **form.cleaned_data)
                    messages.success(request, _("The request was rejected."))
                else:
                    services.invoice_request_cancel(request=invoice, acting_user=me, **form.cleaned_data)
                    messages.success(request, _("The request was cancelled."))
            except ServiceError as error:
                apply_service_error(form, error)
            else:
                return redirect("pos:invoice_detail", pk=invoice.pk)
    return render(
        request,
        "pos/reports/invoice_detail.html",
        {
            "invoice": invoice,
            "is_open": invoice.status == InvoiceStatus.REQUESTED,
            "may_issue": _may_issue(request),
            "open_amount": services.invoice_amount_open(invoice.bill),
            **{f"{name}_form": form for name, form in forms.items()},
        },
        status=400 if request.method == "POST" else 200,
    )


@invoice_staff
@require_GET
def invoice_file(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = get_object_or_404(InvoiceRequest, pk=pk)
    if not invoice.file:
        raise Http404
    try:
        handle = invoice.file.open("rb")
    except OSError:
        raise Http404 from None
    response = FileResponse(handle, content_type=invoice.file_type or None)
    response["Content-Disposition"] = f'inline; filename="invoice-{invoice.invoice_number}-{invoice.file_name}"'
    response["X-Content-Type-Options"] = "nosniff"
    return cast(HttpResponse, response)  # streamed; the permission decorators are typed for HttpResponse
