"""WeChat Pay and Alipay on the bill screen: the pay panel's payment code or "Show QR", the waiting panel
(the QR code drawn on the server as SVG, the bill's status polled every 2 s), asking the gateway again and
cancelling."""

from __future__ import annotations

from typing import Any

import segno
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from apps.core.errors import ServiceError
from apps.core.permissions import acting_user, staff_permission_required
from apps.payments.models import GatewayPayment
from apps.payments.selectors import notify_url
from apps.pos.models import Bill, RefundTender, Tender, TenderStatus
from apps.pos.services.checkout import GATEWAYS, TenderRequest
from apps.pos.services.gateway_tenders import (
    bill_pay_gateway,
    gateway_tender_cancel,
    gateway_tender_poll,
    gateway_tender_refresh,
    refund_part_given_in_cash,
    refund_part_resend,
)

till_page = staff_permission_required("take_payments")


def qr_svg(code_url: str) -> SafeString:
    """The QR code of ``code_url`` as inline SVG (drawn here: no third party sees the payment address)."""
    svg = segno.make(code_url, error="m").svg_inline(scale=5, border=2, title=_("QR code to pay"))
    return mark_safe(svg)  # noqa: S308 - segno's own markup of a URL it encodes, no other input


def pending_context(bill: Bill) -> dict[str, Any]:
    """The bill's pending gateway tender, if any, and its QR code (for the waiting panel)."""
    tender = Tender.objects.filter(bill=bill, status=TenderStatus.PENDING, method__in=GATEWAYS).first()
    if tender is None:
        return {}
    payment = GatewayPayment.objects.filter(out_trade_no=tender.out_trade_no).first()
    code_url = payment.code_url if payment is not None else ""
    return {"pending_tender": tender, "pending_qr": qr_svg(code_url) if code_url else ""}


def gateway_pay(
    request: HttpRequest, bill: Bill, tenders: list[TenderRequest], *, key: str, auth_code: str
) -> HttpResponse | None:
    """Take a payment with a WeChat Pay / Alipay row from the pay panel; None when refused (the caller
    shows the form with the error); otherwise back to the bill, which shows the outcome."""
    provider = next(t.method for t in tenders if t.method in GATEWAYS)
    qr = bool(request.POST.get("show_qr"))
    result = bill_pay_gateway(
        bill=bill,
        tenders=tenders,
        idempotency_key=key,
        acting_user=acting_user(request),
        auth_code="" if qr else auth_code,
        qr=qr,
        notify_url=notify_url(request, provider) if qr else "",
    )
    if result.status == TenderStatus.SUCCEEDED:
        messages.success(request, _("Paid."))
    elif result.status == TenderStatus.FAILED:
        messages.error(
            request,
            _("The payment did not go through: %(reason)s")
            % {"reason": result.tender.failure_message or _("refused by the gateway")},
        )
    return redirect("pos:bill_detail", pk=bill.pk)


@till_page
@require_GET
def gateway_status(request: HttpRequest, pk: int, tender_pk: int) -> HttpResponse:
    """The waiting panel, polled every 2 s (the gateway is asked every 5 s when no notice has come); once
    the tender is settled or failed the page reloads."""
    tender = gateway_tender_poll(tender=get_object_or_404(Tender, pk=tender_pk, bill_id=pk))
    if tender.status != TenderStatus.PENDING:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = reverse("pos:bill_detail", args=[pk])
        return response
    return render(request, "pos/bills/_gateway_waiting.html", {"bill": tender.bill, **pending_context(tender.bill)})


@till_page
@require_POST
def gateway_refresh(request: HttpRequest, pk: int, tender_pk: int) -> HttpResponse:
    tender = get_object_or_404(Tender, pk=tender_pk, bill_id=pk)
    tender = gateway_tender_refresh(tender=tender)
    if tender.status == TenderStatus.PENDING:
        messages.info(request, _("The client has not paid yet."))
    return redirect("pos:bill_detail", pk=pk)


@till_page
@require_POST
def gateway_cancel(request: HttpRequest, pk: int, tender_pk: int) -> HttpResponse:
    tender = get_object_or_404(Tender, pk=tender_pk, bill_id=pk)
    try:
        tender = gateway_tender_cancel(tender=tender, acting_user=acting_user(request))
    except ServiceError as error:
        messages.error(request, str(error.message))
    else:
        if tender.status == TenderStatus.SUCCEEDED:
            messages.info(request, _("The client had already paid: the payment is kept."))
        else:
            messages.success(request, _("The WeChat Pay / Alipay payment is cancelled."))
    return redirect("pos:bill_detail", pk=pk)


@staff_permission_required("issue_refunds")
@require_POST
def refund_part_settle(request: HttpRequest, pk: int, part_pk: int, how: str) -> HttpResponse:
    """A WeChat Pay / Alipay refund part the gateway refused: sent again (``how="resend"``) or given back in
    cash out of the drawer (``how="cash"``); back to the bill with the outcome."""
    part = get_object_or_404(RefundTender, pk=part_pk, refund__bill_id=pk)
    try:
        if how == "resend":
            refund_part_resend(part=part, acting_user=acting_user(request))
            messages.success(request, _("The refund was sent to the gateway again."))
        else:
            refund_part_given_in_cash(part=part, acting_user=acting_user(request))
            messages.success(request, _("Recorded: the refund was given back in cash out of the drawer."))
    except ServiceError as error:
        messages.error(request, str(error.message))
    return redirect("pos:bill_detail", pk=pk)
