"""Course-card pages (LOY-5): a client's cards with the sessions left per service, the redemption of one
session (with the client's code when the salon requires it), the sale of a card, sessions given back,
cards voided or extended; and the list of every card sold."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from apps.core.db import salon_today
from apps.core.errors import ServiceError
from apps.core.models import User
from apps.core.permissions import acting_user
from apps.core.roles import perm
from apps.core.views import apply_service_error
from apps.crm.models import Client
from apps.loyalty import selectors_courses as selectors
from apps.loyalty.forms.courses import (
    CourseCardExtendForm,
    CourseCardFilterForm,
    CourseCardSellForm,
    CourseCardVoidForm,
    SessionRedeemForm,
    staff_choices,
)
from apps.loyalty.models import CourseCard, CourseCardBalance, CourseCardStatus, CourseRedemption
from apps.loyalty.selectors import member_client
from apps.loyalty.services import courses as course_services
from apps.loyalty.services._common import Verification, loyalty_settings, redemption_code_check, redemption_code_send
from apps.loyalty.views.wallets import PAGE_SIZE, account_context, member_page


def _key() -> str:
    return uuid.uuid4().hex


def _require(request: HttpRequest, codename: str) -> None:
    if not request.user.has_perm(perm(codename)):
        raise PermissionDenied


class _Page:
    """The forms of the page, fresh ones unless the POST being answered bound one of them."""

    def __init__(self, client: Client, *, codes: bool) -> None:
        self.client = client
        self.codes = codes
        self.bound: dict[str, Form] = {}
        self.staff = staff_choices()

    def redeem(self, balance: CourseCardBalance) -> SessionRedeemForm:
        prefix = f"redeem-{balance.pk}"
        form = self.bound.get(prefix)
        if isinstance(form, SessionRedeemForm):
            return form
        return SessionRedeemForm(
            prefix=prefix, codes=self.codes, staff_choices=self.staff, initial={"idempotency_key": _key()}
        )

    def card_form(self, kind: str, card: CourseCard) -> Form:
        prefix = f"{kind}-{card.pk}"
        form_class = CourseCardVoidForm if kind == "void" else CourseCardExtendForm
        return self.bound.get(prefix) or form_class(prefix=prefix)

    def sell(self) -> Form:
        return self.bound.get("sell") or CourseCardSellForm(prefix="sell", initial={"idempotency_key": _key()})


def _card_of(client: Client, pk: Any) -> CourseCard:
    return get_object_or_404(CourseCard, pk=pk, client=client)


def _redeem(request: HttpRequest, client: Client, page: _Page) -> HttpResponse | None:
    balance = get_object_or_404(
        CourseCardBalance.objects.select_related("card", "service"), pk=request.POST.get("redeem"), card__client=client
    )
    prefix = f"redeem-{balance.pk}"
    form = SessionRedeemForm(request.POST, prefix=prefix, codes=page.codes, staff_choices=page.staff)
    page.bound[prefix] = form
    if not form.is_valid():
        return None
    data = form.cleaned_data
    try:
        verification = Verification(override_reason=data.get("override_reason", ""))
        replay = CourseRedemption.objects.filter(idempotency_key=f"page:{data['idempotency_key']}").exists()
        if data.get("code") and not replay:
            verification = redemption_code_check(client=client, code=data["code"])
        redemption = course_services.course_session_redeem(
            card=balance.card,
            service=balance.service,
            idempotency_key=f"page:{data['idempotency_key']}",
            reference=data["reference"],
            staff=User.objects.filter(pk=data["staff"], is_active=True).first() if data["staff"] else None,
            acting_user=acting_user(request),
            verification=verification,
        )
    except ServiceError as error:
        apply_service_error(form, error)
        return None
    messages.success(
        request,
        _("One session of %(service)s was used; %(left)s left.")
        % {"service": balance.service.name, "left": redemption.sessions_left_after},
    )
    return redirect("loyalty:account_courses", pk=client.pk)


def _sell(request: HttpRequest, client: Client, page: _Page) -> HttpResponse | None:
    form = CourseCardSellForm(request.POST, prefix="sell")
    page.bound["sell"] = form
    if not form.is_valid():
        return None
    data = form.cleaned_data
    try:
        card = course_services.course_card_sell(
            client=client,
            template=data["template"],
            idempotency_key=f"page:{data['idempotency_key']}",
            reference=data["reference"],
            price=data["price"],
            acting_user=acting_user(request),
        )
    except ServiceError as error:
        apply_service_error(form, error)
        return None
    messages.success(request, _("%(card)s was added to the client's cards.") % {"card": card.name})
    return redirect("loyalty:account_courses", pk=client.pk)


def _void_or_extend(request: HttpRequest, client: Client, page: _Page, kind: str) -> HttpResponse | None:
    _require(request, "issue_refunds" if kind == "void" else "adjust_balances")
    card = _card_of(client, request.POST.get(kind))
    prefix = f"{kind}-{card.pk}"
    form: Form = (CourseCardVoidForm if kind == "void" else CourseCardExtendForm)(request.POST, prefix=prefix)
    page.bound[prefix] = form
    if not form.is_valid():
        return None
    try:
        if kind == "void":
            course_services.course_card_void(card=card, acting_user=acting_user(request), **form.cleaned_data)
        else:
            course_services.course_card_extend(card=card, acting_user=acting_user(request), **form.cleaned_data)
    except ServiceError as error:
        apply_service_error(form, error)
        return None
    messages.success(request, _("The card was voided.") if kind == "void" else _("The card was extended."))
    return redirect("loyalty:account_courses", pk=client.pk)


def _reverse(request: HttpRequest, client: Client) -> HttpResponse:
    _require(request, "issue_refunds")
    redemption = get_object_or_404(CourseRedemption, pk=request.POST.get("reverse"), card__client=client)
    try:
        # One give-back per session: the key is the redemption's own, so a second click replays it.
        course_services.course_session_reverse(
            redemption=redemption, idempotency_key=f"page:reverse:{redemption.pk}", acting_user=acting_user(request)
        )
    except ServiceError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The session was given back to the card."))
    return redirect("loyalty:account_courses", pk=client.pk)


def _send_code(request: HttpRequest, client: Client) -> HttpResponse:
    try:
        redemption_code_send(client=client)
    except ServiceError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("A code was sent to the client's phone."))
    return redirect("loyalty:account_courses", pk=client.pk)


@member_page
def account_courses(request: HttpRequest, pk: int) -> HttpResponse:
    client = member_client(pk)
    page = _Page(client, codes=loyalty_settings().require_redemption_code)
    if request.method == "POST":
        response: HttpResponse | None
        if "redeem" in request.POST:
            response = _redeem(request, client, page)
        elif "sell" in request.POST:
            response = _sell(request, client, page)
        elif "void" in request.POST or "extend" in request.POST:
            response = _void_or_extend(request, client, page, "void" if "void" in request.POST else "extend")
        elif "reverse" in request.POST:
            response = _reverse(request, client)
        elif "send_code" in request.POST:
            response = _send_code(request, client)
        else:
            response = redirect("loyalty:account_courses", pk=client.pk)
        if response is not None:
            return response
    cards = list(selectors.course_cards_of(client))
    rows = [
        {
            "card": card,
            "usable": card.status == CourseCardStatus.ACTIVE and not card.is_expired_on(salon_today()),
            "balances": [(balance, page.redeem(balance)) for balance in card.balances.all()],
            "void_form": page.card_form("void", card),
            "extend_form": page.card_form("extend", card),
        }
        for card in cards
    ]
    history = Paginator(selectors.client_redemptions(client), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "loyalty/account_courses.html",
        account_context(
            request, client, rows=rows, page=history, sell_form=page.sell(), codes=page.codes, today=salon_today()
        ),
    )


@member_page
def course_card_list(request: HttpRequest) -> HttpResponse:
    """Every card sold, filtered: active, expiring in 30 days, used up, expired, voided."""
    form = CourseCardFilterForm(request.GET or None)
    show = form.cleaned_data["show"] if form.is_valid() else ""
    page = Paginator(selectors.course_card_list(show=show), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "loyalty/course_card_list.html",
        {
            "form": form,
            "page": page,
            "show": show,
            "today": salon_today(),
            "expiring_before": selectors.expiring_before(),
        },
    )
