"""Tier pages (LOY-1): every tier with its benefits and thresholds, the benefits of one tier, and a
client's tier with the progress to the next, the history and a change by hand."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from apps.core.errors import ServiceError
from apps.core.permissions import acting_user
from apps.core.roles import perm
from apps.core.views import apply_service_error
from apps.crm.models import MembershipTier
from apps.loyalty import selectors_tiers
from apps.loyalty.forms.tiers import ClientTierForm, TierBenefitForm
from apps.loyalty.selectors import member_client
from apps.loyalty.services import tiers as tier_services
from apps.loyalty.services._common import loyalty_settings
from apps.loyalty.views.wallets import account_context, member_page, setup_page


@setup_page
def tier_list(request: HttpRequest) -> HttpResponse:
    """Every crm tier, best first, with what it gives and how it is reached; POST re-evaluates every
    client now (the same work as the nightly task)."""
    if request.method == "POST":
        counts = tier_services.tiers_evaluate_all()
        messages.success(
            request,
            _("%(clients)s clients evaluated: %(upgraded)s upgraded, %(downgraded)s downgraded.") % counts,
        )
        return redirect("loyalty:tier_list")
    return render(
        request,
        "loyalty/tier_list.html",
        {"tiers": selectors_tiers.tiers_with_benefits(), "settings": loyalty_settings()},
    )


@setup_page
def tier_edit(request: HttpRequest, pk: int) -> HttpResponse:
    tier = get_object_or_404(MembershipTier, pk=pk)
    benefit = tier_services.benefit_of(tier)
    initial = {field: getattr(benefit, field) for field in TierBenefitForm.base_fields} if benefit else None
    form = TierBenefitForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            tier_services.tier_benefit_set(tier=tier, acting_user=acting_user(request), **form.cleaned_data)
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            messages.success(request, _("The benefits of %(tier)s were saved.") % {"tier": tier.name})
            return redirect("loyalty:tier_list")
    return render(request, "loyalty/tier_edit.html", {"form": form, "tier": tier, "settings": loyalty_settings()})


@member_page
def account_tier(request: HttpRequest, pk: int) -> HttpResponse:
    """The client's tier, progress to the next and history; a manager may change the tier by hand or
    have it evaluated now."""
    client = member_client(pk)
    form = ClientTierForm(initial={"tier": client.tier_id})
    if request.method == "POST":
        if request.POST.get("action") == "evaluate":
            change = tier_services.tier_evaluate(client=client)
            if change is None:
                messages.info(request, _("The tier stays as it is."))
            else:
                messages.success(
                    request, _("The client is now in %(tier)s.") % {"tier": change.to_name or _("no tier")}
                )
            return redirect("loyalty:account_tier", pk=client.pk)
        if not request.user.has_perm(perm("manage_loyalty")):
            raise PermissionDenied
        form = ClientTierForm(request.POST)
        if form.is_valid():
            try:
                tier_services.client_tier_set(client=client, acting_user=acting_user(request), **form.cleaned_data)
            except ServiceError as error:
                apply_service_error(form, error)
            else:
                messages.success(request, _("The tier was changed."))
                return redirect("loyalty:account_tier", pk=client.pk)
    return render(
        request,
        "loyalty/account_tier.html",
        account_context(
            request,
            client,
            progress=selectors_tiers.tier_progress(client),
            history=selectors_tiers.tier_history(client)[:100],
            benefit=tier_services.benefit_of(client.tier),
            form=form,
        ),
    )
