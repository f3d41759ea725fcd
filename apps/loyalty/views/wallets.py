"""Stored-value pages: the members home, a client's wallet and ledger, the refund of a card with its
working, manual adjustments, the salon's top-up rules and loyalty settings."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from apps.core.errors import ServiceError
from apps.core.permissions import acting_user, staff_permission_required
from apps.core.views import apply_service_error
from apps.crm.models import Client
from apps.loyalty import selectors
from apps.loyalty.forms.wallets import LoyaltySettingsForm, TopUpRuleForm, WalletAdjustForm, WalletRefundForm
from apps.loyalty.models import LoyaltySettings, TopUpRule, Wallet
from apps.loyalty.services import settings as settings_services
from apps.loyalty.services import top_up_rules as rule_services
from apps.loyalty.services import wallet_refunds as refund_services
from apps.loyalty.services import wallets as wallet_services
from apps.loyalty.services._common import loyalty_settings

# Reading a member account is front-desk work (they sell top-ups and take payments).
member_page = staff_permission_required("take_payments")
setup_page = staff_permission_required("manage_loyalty")
PAGE_SIZE = 30


def account_context(request: HttpRequest, client: Client, **extra: Any) -> dict[str, Any]:
    """What every tab of a member account needs: the client and the header figures."""
    return {"client": client, "account": selectors.account_header(client), **extra}


@member_page
def home(request: HttpRequest) -> HttpResponse:
    """Find a member; the salon's outstanding stored value and points at a glance."""
    return render(request, "loyalty/home.html", {"liabilities": selectors.liabilities()})


@member_page
def account_wallet(request: HttpRequest, pk: int) -> HttpResponse:
    client = selectors.member_client(pk)
    page = Paginator(selectors.wallet_entries(client), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "loyalty/account_wallet.html", account_context(request, client, page=page))


@staff_permission_required("issue_refunds")
def wallet_refund(request: HttpRequest, pk: int) -> HttpResponse:
    """The refund quote with its working; confirming pays out the refundable principal (退卡)."""
    client = selectors.member_client(pk)
    wallet = Wallet.objects.filter(client=client).first()
    quote = refund_services.wallet_refund_quote(wallet) if wallet is not None else None
    form = WalletRefundForm(request.POST or None, initial={"idempotency_key": uuid.uuid4().hex})
    if request.method == "POST" and form.is_valid():
        try:
            result = refund_services.wallet_refund(
                client=client,
                idempotency_key=f"refund:{form.cleaned_data['idempotency_key']}",
                reason=form.cleaned_data["reason"],
                acting_user=acting_user(request),
            )
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            from apps.core.money import fen_to_yuan

            messages.success(
                request,
                _("The card was refunded: pay the client ¥%(amount)s.")
                % {"amount": fen_to_yuan(result.quote.refundable_principal)},
            )
            return redirect("loyalty:account_wallet", pk=client.pk)
    return render(request, "loyalty/wallet_refund.html", account_context(request, client, quote=quote, form=form))


@staff_permission_required("adjust_balances")
def wallet_adjust(request: HttpRequest, pk: int) -> HttpResponse:
    client = selectors.member_client(pk)
    form = WalletAdjustForm(request.POST or None, initial={"idempotency_key": uuid.uuid4().hex})
    if request.method == "POST" and form.is_valid():
        try:
            wallet_services.wallet_adjust(
                client=client,
                principal_delta=form.cleaned_data["principal_delta"],
                bonus_delta=form.cleaned_data["bonus_delta"],
                reason=form.cleaned_data["reason"],
                idempotency_key=f"adjust:{form.cleaned_data['idempotency_key']}",
                acting_user=acting_user(request),
            )
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            messages.success(request, _("The adjustment was recorded."))
            return redirect("loyalty:account_wallet", pk=client.pk)
    return render(request, "loyalty/wallet_adjust.html", account_context(request, client, form=form))


# --- top-up rules ------------------------------------------------------------------------------


@setup_page
def top_up_rule_list(request: HttpRequest) -> HttpResponse:
    return render(request, "loyalty/top_up_rule_list.html", {"rules": selectors.top_up_rules()})


@setup_page
def top_up_rule_create(request: HttpRequest) -> HttpResponse:
    form = TopUpRuleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        values = dict(form.cleaned_data)
        values.pop("is_active")
        try:
            rule_services.top_up_rule_create(acting_user=acting_user(request), **values)
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            messages.success(request, _("The top-up rule was added."))
            return redirect("loyalty:top_up_rule_list")
    return render(request, "loyalty/top_up_rule_form.html", {"form": form, "rule": None})


@setup_page
def top_up_rule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    rule = get_object_or_404(TopUpRule, pk=pk)
    initial = {field: getattr(rule, field) for field in TopUpRuleForm.base_fields}
    form = TopUpRuleForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            rule_services.top_up_rule_update(rule=rule, acting_user=acting_user(request), **form.cleaned_data)
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            messages.success(request, _("The top-up rule was saved."))
            return redirect("loyalty:top_up_rule_list")
    return render(request, "loyalty/top_up_rule_form.html", {"form": form, "rule": rule})


@setup_page
def settings_edit(request: HttpRequest) -> HttpResponse:
    row: LoyaltySettings = loyalty_settings()
    initial = {field: getattr(row, field) for field in LoyaltySettingsForm.base_fields}
    form = LoyaltySettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            settings_services.loyalty_settings_update(acting_user=acting_user(request), **form.cleaned_data)
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            messages.success(request, _("The loyalty settings were saved."))
            return redirect("loyalty:settings")
    return render(request, "loyalty/settings.html", {"form": form})
