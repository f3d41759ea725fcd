"""Pages of receipts (POS-3): a paid bill's receipt as a printable page (58 or 80 mm paper) and a PDF, and
the actions to print it at the front desk and send it to the client. Thin: parse, call one service,
render. Everything needs ``take_payments``."""

from __future__ import annotations

import secrets
from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from apps.core.errors import ServiceError
from apps.core.permissions import acting_user, staff_permission_required
from apps.pos.models import Bill, ReceiptWidth
from apps.pos.receipts_pdf import payload_pdf
from apps.pos.selectors.receipts import Receipt, receipt_payload
from apps.pos.services import receipts as services


def _bill(pk: int) -> Bill:
    bill = Bill.objects.select_related("location", "client").filter(pk=pk).first()
    if bill is None:
        raise Http404
    return bill


def _receipt(request: HttpRequest, pk: int) -> Receipt:
    try:
        return services.receipt_of(pk, language=request.GET.get("lang"), width=request.GET.get("width"))
    except LookupError:
        raise Http404


def _back(bill_pk: int, request: HttpRequest) -> str:
    """Back to the receipt page as it was shown (same paper width and language)."""
    kept = {
        "width": request.POST.get("width", "") if request.POST.get("width") in ("58", "80") else "",
        "lang": request.POST.get("lang", "") if request.POST.get("lang") in ("zh-hans", "en") else "",
    }
    query = urlencode({k: v for k, v in kept.items() if v})
    return reverse("pos:receipt", args=[bill_pk]) + (f"?{query}" if query else "")


@staff_permission_required("take_payments")
def receipt_page(request: HttpRequest, pk: int) -> HttpResponse:
    """The receipt, laid out for the receipt paper when printed from the browser (``?width=58|80``,
    ``?lang=en``)."""
    try:
        receipt = _receipt(request, pk)
    except ServiceError as error:
        return render(request, "pos/receipts/unavailable.html", {"message": error.message}, status=error.status)
    bill = _bill(pk)
    return render(
        request,
        "pos/receipts/receipt.html",
        {
            "receipt": receipt,
            "t": receipt.terms,
            "bill": bill,
            "widths": ReceiptWidth.values,
            "form_key": secrets.token_hex(8),
        },
    )


@staff_permission_required("take_payments")
def receipt_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        receipt = _receipt(request, pk)
    except ServiceError as error:
        return render(request, "pos/receipts/unavailable.html", {"message": error.message}, status=error.status)
    response = HttpResponse(
        payload_pdf(receipt_payload(receipt), title=f"{receipt.salon} {receipt.number}", author=receipt.salon),
        content_type="application/pdf",
    )
    response["Content-Disposition"] = f'inline; filename="receipt-{receipt.number}.pdf"'
    return response


@staff_permission_required("take_payments")
@require_POST
def receipt_print(request: HttpRequest, pk: int) -> HttpResponse:
    """Queue the receipt for the front-desk printer (``copy=1`` for a numbered copy)."""
    bill = _bill(pk)
    try:
        job = services.receipt_print(
            bill=bill,
            copy=request.POST.get("copy") == "1",
            idempotency_key=request.POST.get("key") or None,
            acting_user=acting_user(request),
            width=request.POST.get("width"),
            language=request.POST.get("lang"),
        )
    except ServiceError as error:
        messages.error(request, error.message)
    else:
        if job.is_replay:
            messages.info(request, _("This receipt is already queued for the printer; print a copy to have another."))
        elif job.copy_number:
            messages.success(request, _("Copy %(number)s is queued for the printer.") % {"number": job.copy_number})
        else:
            messages.success(request, _("The receipt is queued for the printer."))
    return redirect(_back(pk, request))


@staff_permission_required("take_payments")
@require_POST
def receipt_send(request: HttpRequest, pk: int) -> HttpResponse:
    """Send the receipt to the client (WeChat, text message or e-mail)."""
    bill = _bill(pk)
    try:
        services.receipt_send(
            bill=bill, idempotency_key=request.POST.get("key") or None, acting_user=acting_user(request)
        )
    except ServiceError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The receipt is on its way to the client."))
    return redirect(_back(pk, request))
