"""The till's pages (POS-1…4, POS-11): open bills, a new bill (a client or a walk-in), the check-out of a
finished appointment, the bill screen (lines found by search, staff and shares, prices by hand, coupons,
split payment with change), the paid bill with its refunds, voids, and the till's settings.

Thin: parse the form, check the permission, call one service, redirect (or show the refusal on the form).
Searches and the change shown while typing amounts are htmx partials; every form also works without
script."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from apps.catalog.models import CourseCardTemplate, Package, Product, Service
from apps.core.errors import ServiceError
from apps.core.money import fen_to_yuan
from apps.core.permissions import acting_user, staff_permission_required
from apps.core.roles import perm
from apps.core.views import apply_service_error
from apps.crm import selectors as client_selectors
from apps.loyalty.services._common import (
    Verification,
    loyalty_settings,
    redemption_code_check,
    redemption_code_send,
)
from apps.pos.forms_bills import (
    BillOpenForm,
    LineAddForm,
    LineEditForm,
    NotesForm,
    PayForm,
    ReasonForm,
    RefundForm,
    TillSettingsForm,
    staff_choices_read,
)
from apps.pos.models import Bill, BillLine, BillStatus, PosSettings, TenderMethod
from apps.pos.selectors import bills as selectors
from apps.pos.services import bill_coupons, checkout, refunds, till_settings, top_ups
from apps.pos.services import bills as services
from apps.pos.views import gateway_tenders
from apps.scheduling.models import Appointment, Deposit, DepositMethod
from apps.scheduling.selectors.deposits import deposit_held

till_page = staff_permission_required("take_payments")
LIST_SIZE = 50


# --- lists and opening ----------------------------------------------------------------------------------


@till_page
def bill_list(request: HttpRequest) -> HttpResponse:
    """Open bills (the default), today's paid bills, or all bills filtered by status and day; and the
    form that opens a new one."""
    show = request.GET.get("show", "open")
    if show == "paid":
        bills = selectors.bills_paid_today()
    elif show == "all":
        try:
            bills = selectors.bill_list(params={k: v for k, v in request.GET.items() if k in ("status", "date")})
        except ValueError:
            bills = selectors.bill_list()
            messages.error(request, _("Enter a valid status and date."))
    else:
        show, bills = "open", selectors.open_bills()
    return render(
        request,
        "pos/bills/list.html",
        {"bills": list(bills[:LIST_SIZE]), "show": show, "statuses": BillStatus.choices},
    )


@till_page
def client_pick(request: HttpRequest) -> HttpResponse:
    """Clients matching a name, phone or last four digits, to open a bill for one (or a group guest)."""
    q = (request.GET.get("q") or request.GET.get("guest_q") or "").strip()
    return render(
        request,
        "pos/bills/_client_pick.html",
        {
            "found": client_selectors.client_search(query=q, limit=10) if q else [],
            "q": q,
            "field": "guest" if request.GET.get("field") == "guest" else "client",
            "can_see_contact": request.user.has_perm(perm("view_client_contact")),
        },
    )


@till_page
def bill_new(request: HttpRequest) -> HttpResponse:
    """Open a bill for the client chosen (none: a walk-in)."""
    form = BillOpenForm(request.POST or None)
    q = (request.GET.get("q") or request.POST.get("q") or "").strip()
    found = client_selectors.client_search(query=q, limit=10) if q else []
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            bill = services.bill_open(
                location=top_ups.till_location(acting_user(request)),
                client=data["client"],
                kind=data["kind"],
                room=data["room"],
                guest_count=data["guest_count"],
                notes=data["notes"],
                acting_user=acting_user(request),
            )
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            return redirect("pos:bill_detail", pk=bill.pk)
    context = {
        "form": form,
        "q": q,
        "found": found,
        "can_see_contact": request.user.has_perm(perm("view_client_contact")),
    }
    return render(request, "pos/bills/new.html", context, status=400 if form.errors else 200)


@till_page
@require_POST
def bill_from_appointment(request: HttpRequest, pk: int) -> HttpResponse:
    """Check out a finished appointment: its bill (opened now, or the one already open for it)."""
    appointment = get_object_or_404(Appointment, pk=pk)
    try:
        bill = services.bill_open(location=None, appointment=appointment, acting_user=acting_user(request))
    except ServiceError as error:
        messages.error(request, error.message)
        return redirect("pos:bill_list")
    return redirect("pos:bill_detail", pk=bill.pk)


# --- the bill screen ------------------------------------------------------------------------------------


def _items(q: str) -> list[tuple[str, str, int]]:
    """(value, name, price) of catalogue items on sale matching ``q``, a few of each kind."""
    if not q:
        return []
    found: list[tuple[str, str, int]] = []
    for kind, model in (
        ("service", Service),
        ("product", Product),
        ("package", Package),
        ("course_card", CourseCardTemplate),
    ):
        matches = model.objects.filter(is_active=True).filter(Q(name__icontains=q))
        if model is Product:
            matches = model.objects.filter(is_active=True).filter(
                Q(name__icontains=q) | Q(brand__icontains=q) | Q(barcode=q)
            )
        found += [(f"{kind}:{item.pk}", str(item), item.price) for item in matches.order_by("name", "id")[:8]]
    return found


def bill_context(request: HttpRequest, pk: int, **forms: Any) -> dict[str, Any]:
    bill = selectors.bill_detail(pk)
    lines = list(bill.lines.all())
    settings_row = selectors.pos_settings()
    is_open = bill.status == BillStatus.OPEN
    q = (request.GET.get("q") or "").strip()
    context: dict[str, Any] = {
        "bill": bill,
        "lines": lines,
        "coupons": list(bill.coupons.all()),
        "tenders": list(bill.tenders.all()),
        "refund_list": list(bill.refunds.all()),
        "due": bill.total - bill.paid_total if is_open else 0,
        "is_open": is_open,
        "is_editable": is_open and not bill.paid_total,
        "can_override": request.user.has_perm(perm("override_prices")),
        "can_refund": request.user.has_perm(perm("issue_refunds")),
        "q": q,
        "items": _items(q),
        "settings_row": settings_row,
    }
    if is_open:
        staff = staff_choices_read()
        advice = bill_coupons.bill_coupon_suggest(bill=bill) if bill.client_id else None
        applied = {c.coupon_id for c in context["coupons"]}
        context["advice"] = advice
        context["coupon_options"] = [o for o in advice.options if o.coupon.pk not in applied] if advice else []
        context["show_best"] = bool(advice and advice.best and {c.pk for c in advice.best} != applied)
        context["line_form"] = forms.get("line_form") or LineAddForm(staff_choices=staff)
        context["edit_forms"] = {
            line.pk: forms.get(f"edit_{line.pk}")
            or LineEditForm(initial=_edit_initial(line), prefix=f"line{line.pk}", staff_choices=staff)
            for line in lines
        }
        held = deposit_held(bill.appointment_id)
        context["deposit_held"] = held
        context["codes_required"] = _codes_required(bill)
        context["can_skip_code"] = request.user.has_perm(perm("adjust_balances"))
        context["pay_form"] = forms.get("pay_form") or _pay_form(
            bill, initial=_pay_initial(context["due"], settings_row, held), settings_row=settings_row, held=held
        )
        context["has_cards"] = bool(bill.client_id) and context["pay_form"].fields["course_card_1"].queryset.exists()
        context["pay_key"] = uuid.uuid4().hex
        context.update(gateway_tenders.pending_context(bill))
        context["notes_form"] = forms.get("notes_form") or NotesForm(initial={"notes": bill.notes})
        context["void_form"] = forms.get("void_form") or ReasonForm()
    elif bill.status == BillStatus.PAID:
        context["refund_form"] = forms.get("refund_form") or RefundForm(lines=lines)
        context["pay_key"] = uuid.uuid4().hex
    context["edit_forms_list"] = [(line, context.get("edit_forms", {}).get(line.pk)) for line in lines]
    return context


def _codes_required(bill: Bill) -> bool:
    """Whether the salon asks this bill's client for a one-time code before stored value, points or
    sessions are taken (LOY-8); a walk-in's bill takes none of them."""
    return bool(bill.client_id) and loyalty_settings().require_redemption_code


def _pay_form(
    bill: Bill,
    data: Any = None,
    *,
    initial: dict[str, Any] | None = None,
    settings_row: PosSettings | None = None,
    held: Deposit | None = None,
) -> PayForm:
    if held is None and bill.appointment_id is not None:
        held = deposit_held(bill.appointment_id)
    return PayForm(
        data,
        bill=bill,
        settings_row=settings_row or selectors.pos_settings(),
        deposit_held=held.amount if held is not None else 0,
        require_code=_codes_required(bill),
        initial=initial,
    )


def _pay_initial(due: int, settings_row: PosSettings, held: Deposit | None) -> dict[str, Any]:
    """The first rows of the payment form: the visit's deposit first (up to what is due), then cash for the
    rest when the salon takes cash."""
    cash = TenderMethod.CASH if settings_row.accepts_cash else ""
    if held is None or not due:
        return {"method_1": cash, "amount_1": due}
    applied = min(held.amount, due)
    initial: dict[str, Any] = {"method_1": TenderMethod.DEPOSIT, "amount_1": applied}
    if due > applied:
        initial.update({"method_2": cash, "amount_2": due - applied})
    return initial


def _edit_initial(line: BillLine) -> dict[str, Any]:
    initial: dict[str, Any] = {"quantity": line.quantity, "notes": line.notes}
    for n, share in enumerate(line.staff_shares.all(), start=1):
        if n > 3:
            break
        initial[f"staff_{n}"] = share.staff_id
        initial[f"share_{n}"] = share.share / 100
        if n == 1:
            initial["is_requested"] = share.is_requested
    if line.is_manual_price:
        initial["price"] = line.unit_price
        initial["price_reason"] = line.price_reason
    return initial


def _render_bill(request: HttpRequest, pk: int, *, status: int = 200, **forms: Any) -> HttpResponse:
    return render(request, "pos/bills/detail.html", bill_context(request, pk, **forms), status=status)


@till_page
def bill_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_bill(request, pk)


@till_page
def item_search(request: HttpRequest, pk: int) -> HttpResponse:
    """Catalogue items matching the search, to add one to the bill (htmx partial)."""
    q = (request.GET.get("q") or "").strip()
    return render(request, "pos/bills/_items.html", {"items": _items(q), "q": q})


def _bill(pk: int) -> Bill:
    return get_object_or_404(Bill, pk=pk)


@till_page
@require_POST
def line_add(request: HttpRequest, pk: int) -> HttpResponse:
    bill = _bill(pk)
    form = LineAddForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.bill_line_add(
                bill=bill,
                item=data.get("item_object"),
                top_up_amount=data["top_up"] if not data.get("item_object") else None,
                quantity=data["quantity"],
                staff=form.staff_shares() or [],
                price=data["price"],
                price_reason=data["price_reason"],
                guest=data["guest"],
                guest_label=data["guest_label"],
                notes=data["notes"],
                acting_user=acting_user(request),
            )
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            return redirect("pos:bill_detail", pk=pk)
    return _render_bill(request, pk, status=400, line_form=form)


@till_page
@require_POST
def line_update(request: HttpRequest, pk: int, line_pk: int) -> HttpResponse:
    line = get_object_or_404(BillLine, pk=line_pk, bill_id=pk)
    form = LineEditForm(request.POST, prefix=f"line{line.pk}")
    if form.is_valid():
        data = form.cleaned_data
        changes: dict[str, Any] = {"quantity": data["quantity"], "notes": data["notes"]}
        shares = form.staff_shares()
        if shares is not None:
            changes["staff"] = shares
        if data["back_to_catalogue"]:
            changes["price"] = None
        elif data["price"] is not None and data["price"] != line.unit_price:
            changes["price"], changes["price_reason"] = data["price"], data["price_reason"]
        try:
            services.bill_line_update(line=line, acting_user=acting_user(request), **changes)
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            return redirect("pos:bill_detail", pk=pk)
    return _render_bill(request, pk, status=400, **{f"edit_{line.pk}": form})


def _run(request: HttpRequest, pk: int, action: Any, success: str = "") -> HttpResponse:
    """Call a service from a one-button form: a refusal is shown as a message on the bill."""
    try:
        action()
    except ServiceError as error:
        messages.error(request, error.message)
    else:
        if success:
            messages.success(request, success)
    return redirect("pos:bill_detail", pk=pk)


@till_page
@require_POST
def line_remove(request: HttpRequest, pk: int, line_pk: int) -> HttpResponse:
    line = get_object_or_404(BillLine, pk=line_pk, bill_id=pk)
    return _run(request, pk, lambda: services.bill_line_remove(line=line, acting_user=acting_user(request)))


@till_page
@require_POST
def coupon_apply(request: HttpRequest, pk: int) -> HttpResponse:
    bill = _bill(pk)
    user = acting_user(request)
    wanted = request.POST.get("coupon", "")
    if wanted == "best":
        return _run(request, pk, lambda: bill_coupons.bill_coupons_apply_best(bill=bill, acting_user=user))
    from apps.loyalty.models import Coupon

    coupon = get_object_or_404(Coupon, pk=int(wanted)) if wanted.isdigit() else None
    if coupon is None:
        messages.error(request, _("Choose a coupon."))
        return redirect("pos:bill_detail", pk=pk)
    return _run(request, pk, lambda: bill_coupons.bill_coupon_apply(bill=bill, coupon=coupon, acting_user=user))


@till_page
@require_POST
def coupon_remove(request: HttpRequest, pk: int, coupon_pk: int) -> HttpResponse:
    from apps.loyalty.models import Coupon

    bill = _bill(pk)
    coupon = get_object_or_404(Coupon, pk=coupon_pk)
    return _run(
        request,
        pk,
        lambda: bill_coupons.bill_coupon_remove(bill=bill, coupon=coupon, acting_user=acting_user(request)),
    )


@till_page
@require_POST
def notes_save(request: HttpRequest, pk: int) -> HttpResponse:
    form = NotesForm(request.POST)
    if form.is_valid():
        try:
            services.bill_update(bill=_bill(pk), notes=form.cleaned_data["notes"], acting_user=acting_user(request))
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            return redirect("pos:bill_detail", pk=pk)
    return _render_bill(request, pk, status=400, notes_form=form)


@staff_permission_required("issue_refunds")
@require_POST
def bill_void(request: HttpRequest, pk: int) -> HttpResponse:
    form = ReasonForm(request.POST)
    if form.is_valid():
        try:
            refunds.bill_void(bill=_bill(pk), reason=form.cleaned_data["reason"], acting_user=acting_user(request))
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            messages.success(request, _("The bill was voided."))
            return redirect("pos:bill_detail", pk=pk)
    return _render_bill(request, pk, status=400, void_form=form)


# --- paying ---------------------------------------------------------------------------------------------


def _tender_requests(bill: Bill, rows: list[dict[str, Any]], *, key: str) -> list[checkout.TenderRequest]:
    """The rows as tenders; a client's code is checked (and used up) here, before the payment's transaction,
    except when the form's key already paid (a second click): the payment is then answered as it was."""
    replay = any(row["code"] for row in rows) and selectors.payment_taken(bill.pk, key)
    requests = []
    for row in rows:
        verification = None
        if row["code"] and bill.client is not None and not replay:
            verification = redemption_code_check(client=bill.client, code=row["code"])
        elif row["override_reason"]:
            verification = Verification(override_reason=row["override_reason"])
        requests.append(
            checkout.TenderRequest(
                method=row["method"],
                amount=row["amount"],
                tendered=row["tendered"] if row["method"] == TenderMethod.CASH else None,
                points=row["points"] if row["method"] == TenderMethod.POINTS else None,
                course_card=row["course_card"] if row["method"] == TenderMethod.COURSE_CARD else None,
                bill_line=row["line"] if row["method"] == TenderMethod.COURSE_CARD else None,
                verification=verification,
            )
        )
    return requests


def _held_amount(bill: Bill) -> int:
    held = deposit_held(bill.appointment_id)
    return held.amount if held is not None else 0


@till_page
@require_POST
def bill_pay(request: HttpRequest, pk: int) -> HttpResponse:
    """Take the payment: every row at once, all or nothing. The form's key makes a double click (or a
    resubmitted page) pay once."""
    bill = get_object_or_404(Bill.objects.select_related("client"), pk=pk)
    form = _pay_form(bill, request.POST)
    if form.is_valid():
        key = (request.POST.get("idempotency_key") or "").strip() or uuid.uuid4().hex
        try:
            if any(row["method"] in checkout.GATEWAYS for row in form.tenders()):
                answer = gateway_tenders.gateway_pay(
                    request,
                    bill,
                    _tender_requests(bill, form.tenders(), key=key[:60]),
                    key=key[:60],
                    auth_code=form.cleaned_data.get("auth_code") or "",
                )
                if answer is not None:
                    return answer
            payment = checkout.bill_pay(
                bill=bill,
                tenders=_tender_requests(bill, form.tenders(), key=key[:60]),
                idempotency_key=key[:60],
                acting_user=acting_user(request),
            )
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            if payment.bill.change_given:
                messages.success(
                    request, _("Paid. Give ¥%(change)s change.") % {"change": fen_to_yuan(payment.bill.change_given)}
                )
            else:
                messages.success(request, _("Paid."))
            for tender in payment.tenders:
                deposit = tender.deposit if tender.method == TenderMethod.DEPOSIT else None
                if deposit is not None and deposit.amount > deposit.applied_amount:
                    rest = fen_to_yuan(deposit.amount - deposit.applied_amount)
                    if deposit.method == DepositMethod.DESK:
                        note = _("Give back ¥%(rest)s of the deposit in cash.") % {"rest": rest}
                    else:
                        note = _("¥%(rest)s of the deposit went back to the client's stored value.") % {"rest": rest}
                    messages.info(request, note)
            return redirect("pos:bill_detail", pk=pk)
    return _render_bill(request, pk, status=400, pay_form=form)


@till_page
@require_POST
def bill_send_code(request: HttpRequest, pk: int) -> HttpResponse:
    """Text the bill's client the one-time code that lets the till take their stored value, points or
    sessions (LOY-8; at most once a minute). The payment form comes back as it was typed, the code to be
    entered."""
    bill = get_object_or_404(Bill.objects.select_related("client"), pk=pk)
    if bill.client is None or bill.status != BillStatus.OPEN:
        return redirect("pos:bill_detail", pk=pk)
    try:
        redemption_code_send(client=bill.client)
    except ServiceError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("A code was sent to the client's phone. Ask them for it."))
    typed = {
        name: value
        for name, value in request.POST.items()
        if name != "csrfmiddlewaretoken" and not name.startswith("code_") and value
    }
    return _render_bill(request, pk, pay_form=_pay_form(bill, initial=typed))


@till_page
@require_POST
def pay_preview(request: HttpRequest, pk: int) -> HttpResponse:
    """What the amounts typed so far make: entered, left to pay, change from the cash (htmx partial)."""
    bill = get_object_or_404(Bill, pk=pk)
    form = PayForm(request.POST, bill=bill, settings_row=selectors.pos_settings(), deposit_held=_held_amount(bill))
    due = bill.total - bill.paid_total
    entered = change = 0
    if form.is_valid():
        for row in form.tenders():
            entered += row["amount"] or 0
            if row["method"] == TenderMethod.CASH and row["tendered"] and row["amount"]:
                change += max(0, row["tendered"] - row["amount"])
    return render(
        request,
        "pos/bills/_pay_preview.html",
        {"due": due, "entered": entered, "left": due - entered, "change": change, "valid": form.is_valid()},
    )


# --- refunds --------------------------------------------------------------------------------------------


@staff_permission_required("issue_refunds")
@require_POST
def bill_refund(request: HttpRequest, pk: int) -> HttpResponse:
    bill = _bill(pk)
    form = RefundForm(request.POST, lines=list(BillLine.objects.filter(bill=bill).order_by("position", "id")))
    if form.is_valid():
        key = (request.POST.get("idempotency_key") or "").strip() or uuid.uuid4().hex
        try:
            refund = refunds.bill_refund(
                bill=bill,
                reason=form.cleaned_data["reason"],
                idempotency_key=key[:60],
                acting_user=acting_user(request),
                lines=[refunds.RefundLineRequest(line, quantity) for line, quantity in form.refund_lines()],
                amount=form.cleaned_data["amount"] or None,
            )
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            messages.success(request, _("Refunded ¥%(amount)s.") % {"amount": fen_to_yuan(refund.amount)})
            return redirect("pos:bill_detail", pk=pk)
    return _render_bill(request, pk, status=400, refund_form=form)


# --- settings -------------------------------------------------------------------------------------------


@staff_permission_required("manage_settings")
def settings_page(request: HttpRequest) -> HttpResponse:
    row = selectors.pos_settings()
    form = TillSettingsForm(request.POST or None, instance=row)
    if request.method == "POST" and form.is_valid():
        try:
            till_settings.pos_settings_update(
                acting_user=acting_user(request), **{name: form.cleaned_data[name] for name in form.fields}
            )
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            messages.success(request, _("The till settings were saved."))
            return redirect("pos:settings")
    return render(request, "pos/bills/settings.html", {"form": form}, status=400 if form.errors else 200)
