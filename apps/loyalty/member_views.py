"""The member centre (LOY-9): H5 pages for the salon's clients on the salon's own domain.

Sign-in by phone and a one-time code, then read-only pages of the client's own account: balances,
points and tier, coupons, course cards and history. Plain server-rendered HTML for phones and
WeChat's in-app browser; every page reads through selectors_member with the session's client."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from apps.core.crypto import mask_phone
from apps.core.errors import ServiceError
from apps.core.views import apply_service_error
from apps.crm.models import Client
from apps.loyalty import selectors_member as selectors
from apps.loyalty.forms.member import MemberCodeForm, MemberPhoneForm
from apps.loyalty.member_auth import (
    PENDING_PHONE_KEY,
    code_request,
    code_too_soon_message,
    code_wait_seconds,
    current_member,
    member_required,
    member_session_end,
    member_session_start,
    safe_next,
)
from apps.loyalty.services.member_login import member_login_verify

PAGE_SIZE = 20
HISTORY_TABS = ("wallet", "points", "courses")


def _render(request: HttpRequest, template: str, context: dict[str, Any], *, status: int = 200) -> HttpResponse:
    return render(request, f"loyalty/member/{template}", context, status=status)


# --- sign-in -------------------------------------------------------------------------------------


def _code_page_url(next_url: str | None) -> str:
    url = reverse("member:login_code")
    return f"{url}?{urlencode({'next': next_url})}" if next_url else url


@never_cache
def login(request: HttpRequest) -> HttpResponse:
    """Step one: the phone. Every valid number gets the same answer; only a member's phone gets a text."""
    next_url = safe_next(request, request.POST.get("next") or request.GET.get("next"))
    if current_member(request) is not None:
        return redirect(next_url or "member:home")
    form = MemberPhoneForm(request.POST or None, initial={"next": next_url or ""})
    status = 200
    if request.method == "POST" and form.is_valid():
        phone = form.cleaned_data["phone"]
        wait = code_wait_seconds(request, phone)
        if wait:
            form.add_error("phone", code_too_soon_message(wait))
            status = 429
        else:
            code_request(request, phone)
            return redirect(_code_page_url(next_url))
    return _render(request, "login.html", {"form": form}, status=status)


@never_cache
def login_code(request: HttpRequest) -> HttpResponse:
    """Step two: the code from the text message (or a new code, once the resend interval has passed)."""
    phone = request.session.get(PENDING_PHONE_KEY)
    if not phone:
        return redirect("member:login")
    next_url = safe_next(request, request.POST.get("next") or request.GET.get("next"))
    context: dict[str, Any] = {"phone_masked": mask_phone(phone), "resent": False}
    status = 200
    if request.method == "POST" and "resend" in request.POST:
        form = MemberCodeForm(initial={"next": next_url or ""})
        wait = code_wait_seconds(request, phone)
        if wait:
            context["resend_error"] = code_too_soon_message(wait)
            status = 429
        else:
            code_request(request, phone)
            context["resent"] = True
        return _render(request, "login_code.html", {**context, "form": form}, status=status)
    form = MemberCodeForm(request.POST or None, initial={"next": next_url or ""})
    if request.method == "POST" and form.is_valid():
        try:
            client = member_login_verify(phone=phone, code=form.cleaned_data["code"])
        except ServiceError as error:
            apply_service_error(form, error)
            status = error.status
        else:
            member_session_start(request, client)
            return redirect(next_url or "member:home")
    return _render(request, "login_code.html", {**context, "form": form}, status=status)


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    member_session_end(request)
    return redirect("member:login")


# --- the member's own account --------------------------------------------------------------------


@member_required
def home(request: HttpRequest, member: Client) -> HttpResponse:
    return _render(request, "home.html", {"member": member, "home": selectors.member_home(member), "tab": "home"})


@member_required
def coupons(request: HttpRequest, member: Client) -> HttpResponse:
    return _render(
        request, "coupons.html", {"member": member, "coupons": selectors.member_coupons(member), "tab": "coupons"}
    )


@member_required
def course_cards(request: HttpRequest, member: Client) -> HttpResponse:
    return _render(
        request,
        "course_cards.html",
        {"member": member, "cards": selectors.member_course_cards(member), "tab": "course_cards"},
    )


@member_required
def course_card(request: HttpRequest, member: Client, pk: int) -> HttpResponse:
    """One of the member's own course cards with its sessions; any other id is not found."""
    item = selectors.member_course_card(member, pk)
    if item is None:
        return _render(request, "not_found.html", {"member": member}, status=404)
    page = Paginator(selectors.course_history(member, card=item.card), PAGE_SIZE).get_page(request.GET.get("page"))
    return _render(request, "course_card.html", {"member": member, "item": item, "page": page, "tab": "course_cards"})


@member_required
def history(request: HttpRequest, member: Client) -> HttpResponse:
    """Stored value, points or course sessions, newest first, 20 a page."""
    kind = request.GET.get("kind")
    if kind not in HISTORY_TABS:
        kind = HISTORY_TABS[0]
    entries = {
        "wallet": selectors.wallet_history,
        "points": selectors.points_history,
        "courses": selectors.course_history,
    }[kind](member)
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    return _render(request, "history.html", {"member": member, "kind": kind, "page": page, "tab": "history"})
