"""Coupon pages: the salon's coupon templates with their figures, a template with its bulk issue and
rules, the rules, and a client's coupons (available, used, expired) with manual issue and void."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from apps.core.errors import ServiceError
from apps.core.permissions import acting_user
from apps.core.roles import perm
from apps.core.views import apply_service_error
from apps.crm.selectors import client_search
from apps.loyalty import selectors_coupons as selectors
from apps.loyalty.forms.coupons import (
    CouponBulkIssueForm,
    CouponIssueForm,
    CouponRuleForm,
    CouponTemplateForm,
    CouponVoidForm,
    chosen_clients,
)
from apps.loyalty.models import Coupon, CouponIssueRule, CouponSource, CouponTemplate
from apps.loyalty.selectors import member_client
from apps.loyalty.services import coupon_rules as rule_services
from apps.loyalty.services import coupon_templates as template_services
from apps.loyalty.services import coupons as coupon_services
from apps.loyalty.views.wallets import account_context, member_page, setup_page

# --- templates ---------------------------------------------------------------------------------


@setup_page
def coupon_template_list(request: HttpRequest) -> HttpResponse:
    templates = selectors.coupon_templates_with_stats()
    rows = [(template, selectors.stats_of(template)) for template in templates]
    return render(request, "loyalty/coupon_template_list.html", {"rows": rows})


def _template_error(form: CouponTemplateForm, error: ServiceError) -> None:
    """The service names ``value``; the form has the money and the percent fields for it."""
    if error.field == "value":
        form.add_error(form.value_field(), error.message)
    else:
        apply_service_error(form, error)


@setup_page
def coupon_template_create(request: HttpRequest) -> HttpResponse:
    form = CouponTemplateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            template = template_services.coupon_template_create(
                acting_user=acting_user(request), **form.service_values()
            )
        except ServiceError as error:
            _template_error(form, error)
        else:
            messages.success(request, _("The coupon %(name)s was added.") % {"name": template.name})
            return redirect("loyalty:coupon_template_edit", pk=template.pk)
    return render(request, "loyalty/coupon_template_form.html", {"form": form, "template": None})


def _edit_context(template: CouponTemplate, **extra: Any) -> dict[str, Any]:
    return {
        "template": template,
        "stats": selectors.coupon_template_stats(template),
        "rules": selectors.coupon_rules(template),
        "issue_form": CouponBulkIssueForm(initial={"batch_key": uuid.uuid4().hex}),
        "chosen": [],
        **extra,
    }


@setup_page
def coupon_template_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """The template's form, its figures, its rules and the form to issue it to many clients."""
    template = get_object_or_404(CouponTemplate, pk=pk)
    if request.method == "POST":
        form = CouponTemplateForm(request.POST, template=template)
        if form.is_valid():
            try:
                template_services.coupon_template_update(
                    template=template, acting_user=acting_user(request), **form.service_values()
                )
            except ServiceError as error:
                _template_error(form, error)
            else:
                messages.success(request, _("The coupon was saved."))
                return redirect("loyalty:coupon_template_edit", pk=template.pk)
    else:
        form = CouponTemplateForm(template=template)
    return render(request, "loyalty/coupon_template_form.html", _edit_context(template, form=form))


@setup_page
@require_POST
def coupon_template_issue(request: HttpRequest, pk: int) -> HttpResponse:
    """Issue the template to every client chosen (by tag, ticked, pasted); a resubmitted form issues nothing twice."""
    template = get_object_or_404(CouponTemplate, pk=pk)
    issue_form = CouponBulkIssueForm(request.POST)
    if issue_form.is_valid():
        try:
            issued = coupon_services.coupons_issue_bulk(
                template=template,
                clients=issue_form.cleaned_data["recipients"],
                acting_user=acting_user(request),
                batch_key=issue_form.cleaned_data["batch_key"],
            )
        except ServiceError as error:
            apply_service_error(issue_form, error)
        else:
            messages.success(
                request,
                ngettext("%(count)s coupon was issued.", "%(count)s coupons were issued.", issued) % {"count": issued},
            )
            return redirect("loyalty:coupon_template_edit", pk=template.pk)
    chosen = chosen_clients([int(v) for v in request.POST.getlist("clients") if v.isdigit()])
    context = _edit_context(template, form=CouponTemplateForm(template=template), issue_form=issue_form, chosen=chosen)
    return render(request, "loyalty/coupon_template_form.html", context)


@setup_page
def coupon_client_pick(request: HttpRequest) -> HttpResponse:
    """Search results to tick for a bulk issue (htmx); clients already ticked stay listed and ticked."""
    query = request.GET.get("q", "")
    ticked = chosen_clients([int(v) for v in request.GET.getlist("clients") if v.isdigit()])
    ticked_ids = {client.pk for client in ticked}
    found = [client for client in client_search(query=query, limit=10) if client.pk not in ticked_ids]
    return render(
        request,
        "loyalty/_coupon_client_pick.html",
        {
            "ticked": ticked,
            "found": found,
            "q": query,
            "can_see_contact": request.user.has_perm(perm("view_client_contact")),
        },
    )


# --- rules -------------------------------------------------------------------------------------


@setup_page
def coupon_rule_create(request: HttpRequest, pk: int) -> HttpResponse:
    template = get_object_or_404(CouponTemplate, pk=pk)
    form = CouponRuleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            rule_services.coupon_rule_create(template=template, acting_user=acting_user(request), **form.cleaned_data)
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            messages.success(request, _("The rule was added."))
            return redirect("loyalty:coupon_template_edit", pk=template.pk)
    return render(request, "loyalty/coupon_rule_form.html", {"form": form, "template": template, "rule": None})


@setup_page
def coupon_rule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    rule = get_object_or_404(CouponIssueRule.objects.select_related("template"), pk=pk)
    initial = {name: getattr(rule, name) for name in CouponRuleForm.base_fields}
    form = CouponRuleForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            rule_services.coupon_rule_update(rule=rule, acting_user=acting_user(request), **form.cleaned_data)
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            messages.success(request, _("The rule was saved."))
            return redirect("loyalty:coupon_template_edit", pk=rule.template_id)
    return render(request, "loyalty/coupon_rule_form.html", {"form": form, "template": rule.template, "rule": rule})


# --- a client's coupons ------------------------------------------------------------------------


def _account_coupons(
    request: HttpRequest, client: Any, *, issue_form: CouponIssueForm | None = None, status: int = 200
) -> HttpResponse:
    groups = selectors.coupons_by_state(client)
    can_manage = request.user.has_perm(perm("manage_loyalty"))
    if issue_form is None and can_manage:
        issue_form = CouponIssueForm(initial={"issue_key": uuid.uuid4().hex})
    context = account_context(request, client, groups=groups, issue_form=issue_form, can_manage=can_manage)
    return render(request, "loyalty/account_coupons.html", context, status=status)


@member_page
def account_coupons(request: HttpRequest, pk: int) -> HttpResponse:
    return _account_coupons(request, member_client(pk))


@setup_page
@require_POST
def account_coupon_issue(request: HttpRequest, pk: int) -> HttpResponse:
    client = member_client(pk)
    form = CouponIssueForm(request.POST)
    if form.is_valid():
        try:
            coupon = coupon_services.coupon_issue(
                template=form.cleaned_data["template"],
                client=client,
                source=CouponSource.MANUAL,
                issue_key=f"page:{form.cleaned_data['issue_key']}",
                acting_user=acting_user(request),
            )
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            messages.success(request, _("Coupon %(code)s was issued.") % {"code": coupon.code})
            return redirect("loyalty:account_coupons", pk=client.pk)
    return _account_coupons(request, client, issue_form=form, status=400)


@setup_page
@require_POST
def account_coupon_void(request: HttpRequest, pk: int, coupon_pk: int) -> HttpResponse:
    client = member_client(pk)
    coupon = get_object_or_404(Coupon, pk=coupon_pk, client=client)
    form = CouponVoidForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Enter why the coupon is voided."))
        return redirect("loyalty:account_coupons", pk=client.pk)
    try:
        coupon_services.coupon_void(coupon=coupon, reason=form.cleaned_data["reason"], acting_user=acting_user(request))
    except ServiceError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Coupon %(code)s was voided.") % {"code": coupon.code})
    return redirect("loyalty:account_coupons", pk=client.pk)
