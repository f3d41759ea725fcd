"""The points tab of a client's member account: balance, the lots with points left and when they expire,
the ledger; check-in, redemption (with the client's one-time code when the salon requires it, or a
manager's override) and adjustments by hand."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from apps.core.errors import ServiceError
from apps.core.money import fen_to_yuan
from apps.core.permissions import acting_user, staff_permission_required
from apps.core.roles import perm
from apps.core.views import apply_service_error
from apps.crm.models import Client
from apps.loyalty import selectors_points
from apps.loyalty.forms.points import PointsAdjustForm, PointsRedeemForm
from apps.loyalty.models import LoyaltySettings
from apps.loyalty.selectors import member_client
from apps.loyalty.services import _common
from apps.loyalty.services import points as points_services
from apps.loyalty.views.wallets import PAGE_SIZE, account_context, member_page


def _redeem_form(
    request: HttpRequest,
    data: Any = None,
    *,
    initial: dict[str, Any] | None = None,
    settings_row: LoyaltySettings | None = None,
) -> PointsRedeemForm:
    return PointsRedeemForm(
        data,
        prefix="redeem",
        initial={"idempotency_key": uuid.uuid4().hex, **(initial or {})},
        require_code=(settings_row or _common.loyalty_settings()).require_redemption_code,
        can_override=request.user.has_perm(perm("adjust_balances")),
    )


def _page(
    request: HttpRequest,
    client: Client,
    *,
    redeem: PointsRedeemForm | None = None,
    adjust: PointsAdjustForm | None = None,
) -> HttpResponse:
    settings_row = _common.loyalty_settings()
    context = account_context(request, client)
    lots = list(selectors_points.points_lots_open(client))
    context.update(
        page=Paginator(selectors_points.points_entries(client), PAGE_SIZE).get_page(request.GET.get("page")),
        lots=lots,
        next_expiry=selectors_points.points_next_expiry(lots),
        value=points_services.points_value(context["account"].points, settings_row=settings_row),
        check_in_points=settings_row.check_in_points,
        checked_in_today=points_services.points_checked_in_today(client),
        require_code=settings_row.require_redemption_code,
        redeem_form=redeem or _redeem_form(request, settings_row=settings_row),
        adjust_form=adjust or PointsAdjustForm(prefix="adjust", initial={"idempotency_key": uuid.uuid4().hex}),
    )
    return render(request, "loyalty/account_points.html", context)


@member_page
def account_points(request: HttpRequest, pk: int) -> HttpResponse:
    return _page(request, member_client(pk))


@member_page
@require_POST
def points_check_in(request: HttpRequest, pk: int) -> HttpResponse:
    client = member_client(pk)
    try:
        entry = points_services.points_check_in(client=client, acting_user=acting_user(request))
    except ServiceError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Checked in: %(points)s points.") % {"points": entry.points})
    return redirect("loyalty:account_points", pk=client.pk)


@member_page
@require_POST
def points_redeem(request: HttpRequest, pk: int) -> HttpResponse:
    """Redeem points; the form's second button texts the client a code and shows the form again as typed."""
    client = member_client(pk)
    if "send_code" in request.POST:
        return _send_code(request, client)
    form = _redeem_form(request, request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            verification = None
            if (data.get("code") or "").strip():
                verification = _common.redemption_code_check(client=client, code=data["code"])
            elif (data.get("override_reason") or "").strip():
                verification = _common.Verification(override_reason=data["override_reason"])
            common = {
                "client": client,
                "points": data["points"],
                "reference": "",
                "idempotency_key": f"redeem:{data['idempotency_key']}",
                "acting_user": acting_user(request),
                "verification": verification,
            }
            if data["money_off"]:
                result = points_services.points_redeem_for_money(**common)
                done = _("%(points)s points redeemed: take ¥%(value)s off the bill.") % {
                    "points": data["points"],
                    "value": fen_to_yuan(result.value),
                }
            else:
                points_services.points_redeem(description=data["description"], **common)
                done = _("%(points)s points redeemed.") % {"points": data["points"]}
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            messages.success(request, done)
            return redirect("loyalty:account_points", pk=client.pk)
    return _page(request, client, redeem=form)


def _send_code(request: HttpRequest, client: Client) -> HttpResponse:
    try:
        _common.redemption_code_send(client=client)
    except ServiceError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("A code was sent to the client's phone. Ask them for it."))
    # Keep what was typed, unvalidated (the code is still to come).
    typed: dict[str, Any] = {
        name: request.POST.get(f"redeem-{name}", "") for name in ("points", "description", "idempotency_key")
    }
    typed["money_off"] = bool(request.POST.get("redeem-money_off"))
    initial = {name: value for name, value in typed.items() if value not in ("", None)}
    return _page(request, client, redeem=_redeem_form(request, initial=initial))


@staff_permission_required("adjust_balances")
@require_POST
def points_adjust(request: HttpRequest, pk: int) -> HttpResponse:
    client = member_client(pk)
    form = PointsAdjustForm(request.POST, prefix="adjust")
    if form.is_valid():
        try:
            points_services.points_adjust(
                client=client,
                points=form.cleaned_data["points"],
                reason=form.cleaned_data["reason"],
                idempotency_key=f"points-adjust:{form.cleaned_data['idempotency_key']}",
                acting_user=acting_user(request),
            )
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            messages.success(request, _("The adjustment was recorded."))
            return redirect("loyalty:account_points", pk=client.pk)
    return _page(request, client, adjust=form)
