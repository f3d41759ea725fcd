"""The member-card tab of a client's member account: the current card with the changes its status and
the staff member's role allow, issuing a card when there is none, and the history of the client's cards."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from apps.core.errors import ServiceError
from apps.core.permissions import acting_user
from apps.core.roles import perm
from apps.core.views import apply_service_error
from apps.crm.models import Client
from apps.loyalty import selectors_cards
from apps.loyalty.forms.cards import CardIssueForm, CardNoteForm, CardReasonForm, CardReissueForm
from apps.loyalty.models import MemberCard
from apps.loyalty.selectors import member_client
from apps.loyalty.services import cards as card_services
from apps.loyalty.views.wallets import account_context, member_page


@dataclass(frozen=True)
class Change:
    """One status change offered on the tab: its service, the permission it needs, its form and words."""

    service: Callable[..., MemberCard]
    permission: str
    form: type[forms.Form]
    button: Promise
    label: Promise | str = ""
    danger: bool = False


CHANGES: dict[str, Change] = {
    "report_lost": Change(
        card_services.member_card_report_lost,
        "take_payments",
        CardReasonForm,
        gettext_lazy("Report lost (挂失)"),
        gettext_lazy("How was the loss reported?"),
        danger=True,
    ),
    "freeze": Change(
        card_services.member_card_freeze,
        "take_payments",
        CardReasonForm,
        gettext_lazy("Freeze"),
        gettext_lazy("Why is it frozen?"),
    ),
    "unfreeze": Change(
        card_services.member_card_unfreeze,
        "manage_loyalty",
        CardNoteForm,
        gettext_lazy("Unfreeze / found again"),
        gettext_lazy("Note on unfreezing"),
    ),
    "reissue": Change(
        card_services.member_card_reissue, "manage_loyalty", CardReissueForm, gettext_lazy("Reissue (补办)")
    ),
    "cancel": Change(
        card_services.member_card_cancel,
        "manage_loyalty",
        CardReasonForm,
        gettext_lazy("Cancel the card"),
        gettext_lazy("Why is it cancelled?"),
        danger=True,
    ),
}

DONE = {
    "report_lost": gettext_lazy("The card was reported lost: stored value and points are blocked until it is found."),
    "freeze": gettext_lazy("The card was frozen."),
    "unfreeze": gettext_lazy("The card is active again."),
    "reissue": gettext_lazy("A new card was issued; the balance moved to it."),
    "cancel": gettext_lazy("The card was cancelled."),
}


def _form(name: str, data: Any = None) -> forms.Form:
    change = CHANGES[name]
    if change.form is CardReasonForm:
        return CardReasonForm(data, prefix=name, label=str(change.label))
    return change.form(data, prefix=name)


def _page(request: HttpRequest, client: Client, **bound: forms.Form) -> HttpResponse:
    """The tab, with any form that was just refused shown with its errors."""
    account_ctx = account_context(request, client)
    card = account_ctx["account"].card
    offered = []
    if card is not None:
        for name, change in CHANGES.items():
            if card.status in card_services.FROM_STATUSES[name] and request.user.has_perm(perm(change.permission)):
                offered.append({"name": name, "change": change, "form": bound.get(name) or _form(name)})
    history = selectors_cards.client_cards(client)
    issue = bound.get("issue")
    if issue is None and card is None:
        # A number typed on the client record before cards were issued here is offered first.
        number = client.card_number if not MemberCard.objects.filter(number=client.card_number).exists() else ""
        issue = CardIssueForm(prefix="issue", initial={"number": number})
    return render(
        request,
        "loyalty/account_cards.html",
        {**account_ctx, "card": card, "offered": offered, "history": history, "issue_form": issue},
    )


def _refused(request: HttpRequest, client: Client, error: ServiceError) -> HttpResponse:
    # A refusal that concerns the card rather than a field (its status changed meanwhile, a card is
    # already held): the form it came from may no longer be offered, so say it on top of the fresh tab.
    messages.error(request, error.message)
    return redirect("loyalty:account_cards", pk=client.pk)


@member_page
def account_cards(request: HttpRequest, pk: int) -> HttpResponse:
    return _page(request, member_client(pk))


@member_page
@require_POST
def card_issue(request: HttpRequest, pk: int) -> HttpResponse:
    client = member_client(pk)
    form = CardIssueForm(request.POST, prefix="issue")
    if form.is_valid():
        try:
            card = card_services.member_card_issue(client=client, acting_user=acting_user(request), **form.cleaned_data)
        except ServiceError as error:
            if not error.errors:
                return _refused(request, client, error)
            apply_service_error(form, error)
        else:
            messages.success(request, _("Card %(number)s was issued.") % {"number": card.number})
            return redirect("loyalty:account_cards", pk=client.pk)
    return _page(request, client, issue=form)


@member_page
@require_POST
def card_change(request: HttpRequest, pk: int, change: str) -> HttpResponse:
    """One status change of a card; the role is checked here and again by the service."""
    if change not in CHANGES:
        raise Http404
    spec = CHANGES[change]
    if not request.user.has_perm(perm(spec.permission)):
        raise PermissionDenied
    card = get_object_or_404(MemberCard, pk=pk)
    client = member_client(card.client_id)
    form = _form(change, request.POST)
    if form.is_valid():
        try:
            spec.service(card=card, acting_user=acting_user(request), **form.cleaned_data)
        except ServiceError as error:
            if not error.errors:
                return _refused(request, client, error)
            apply_service_error(form, error)
        else:
            messages.success(request, str(DONE[change]))
            return redirect("loyalty:account_cards", pk=client.pk)
    return _page(request, client, **{change: form})
