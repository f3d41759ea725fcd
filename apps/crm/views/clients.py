"""Staff pages: the client list and search, the client form, the 360° page, history, tags, tiers,
merges, and personal-data export and erasure. Thin: parse, check, call a service, render."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from apps.core.errors import ServiceError
from apps.core.permissions import acting_user, staff_permission_required
from apps.core.roles import perm
from apps.core.views import apply_service_error
from apps.crm import selectors
from apps.crm.forms import ClientForm, EraseForm, PurchaseFilterForm, PurchaseForm, TagForm, TierForm
from apps.crm.models import Client, ClientMerge, MembershipTier, PurchaseSource, Source, Tag
from apps.crm.sections import client_sections_for
from apps.crm.services import clients as client_services
from apps.crm.services import merge as merge_services
from apps.crm.services import privacy
from apps.crm.services import tags as tag_services

PAGE_SIZES = (20, 50, 100)


def _can_see_contact(request: HttpRequest) -> bool:
    return bool(request.user.has_perm(perm("view_client_contact")))


def _page_size(request: HttpRequest) -> int:
    try:
        size = int(request.GET.get("size", 20))
    except ValueError:
        return 20
    return size if size in PAGE_SIZES else 20


@login_required
def client_list(request: HttpRequest) -> HttpResponse:
    """The list with one search box (results as you type), filters and a selection for bulk tagging."""
    qs = selectors.client_list_filtered(request.GET)
    page = Paginator(qs, _page_size(request)).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    tags = list(Tag.objects.order_by("name"))
    context = {
        "page": page,
        "clients": list(page.object_list),
        "query_string": query.urlencode(),
        "tags": tags,
        "manual_tags": [t for t in tags if not t.rule],
        "tiers": list(MembershipTier.objects.order_by("rank")),
        "sources": Source.choices,
        "filters": request.GET,
        "can_see_contact": _can_see_contact(request),
        "page_sizes": PAGE_SIZES,
    }
    template = "crm/_client_rows.html" if request.htmx else "crm/client_list.html"  # type: ignore[attr-defined]
    return render(request, template, context)


@login_required
def client_pick(request: HttpRequest) -> HttpResponse:
    """Search results for picking a client when booking or billing, each with its health alert."""
    clients = selectors.client_search(query=request.GET.get("q", ""), limit=10)
    return render(
        request,
        "crm/_client_pick.html",
        {"clients": clients, "can_see_contact": _can_see_contact(request), "q": request.GET.get("q", "")},
    )


@staff_permission_required("manage_clients")
def client_create(request: HttpRequest) -> HttpResponse:
    form = ClientForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        fields = dict(form.cleaned_data)
        tags = fields.pop("tags")
        try:
            client = client_services.client_create(acting_user=acting_user(request), tags=tags, **fields)
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            messages.success(request, _("Client %(name)s added.") % {"name": client.name})
            return redirect("crm:client_detail", pk=client.pk)
    return render(request, "crm/client_form.html", {"form": form, "client": None})


def _active_client(pk: int) -> Client:
    client = selectors.client_get(pk=pk)
    if client is None:
        raise Http404
    return client


@staff_permission_required("manage_clients")
def client_edit(request: HttpRequest, pk: int) -> HttpResponse:
    client = _active_client(pk)
    can_see = _can_see_contact(request)
    form = ClientForm(request.POST or None, initial=ClientForm.initial_for(client), can_see_contact=can_see)
    if request.method == "POST" and form.is_valid():
        fields = dict(form.cleaned_data)
        tags = fields.pop("tags")
        try:
            client_services.client_update(client=client, acting_user=acting_user(request), tags=tags, **fields)
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("crm:client_detail", pk=client.pk)
    return render(request, "crm/client_form.html", {"form": form, "client": client})


@login_required
def client_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The client 360° page: profile, alerts, figures, history and every registered section."""
    client = selectors.client_get(pk=pk, include_inactive=True)
    if client is None:
        raise Http404
    if not client.is_active and client.merged_into_id:
        messages.info(request, _("This client was merged into another record."))
        return redirect("crm:client_detail", pk=client.merged_into_id)
    if not client.is_active:
        raise Http404
    return render(
        request,
        "crm/client_detail.html",
        {
            "client": client,
            "summary": selectors.client_summary(client=client),
            "next_birthday": client_services.client_next_birthday(client),
            "purchases": list(selectors.client_purchases(client=client)[:10]),
            "merges": list(selectors.client_merges(client=client)[:5]),
            "sections": client_sections_for(request, client),
            "can_see_contact": _can_see_contact(request),
        },
    )


@login_required
def client_purchases(request: HttpRequest, pk: int) -> HttpResponse:
    client = _active_client(pk)
    filters = PurchaseFilterForm(request.GET or None)
    qs = selectors.client_purchases(client=client, params=filters.selector_params())
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "crm/client_purchases.html",
        {"client": client, "filters": filters, "page": page, "query_string": query.urlencode()},
    )


@staff_permission_required("manage_clients")
def purchase_add(request: HttpRequest, pk: int) -> HttpResponse:
    """Record a past purchase by hand (history from before the salon used this system)."""
    client = _active_client(pk)
    form = PurchaseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            client_services.purchase_record(
                client=client,
                occurred_at=data["occurred_at"],
                item_name=data["item_name"],
                kind=data["kind"],
                amount=int(data["amount_yuan"] * 100),
                staff=data.get("staff"),
                tender=data.get("tender", ""),
                note=data.get("note", ""),
                source=PurchaseSource.MANUAL,
            )
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            messages.success(request, _("Purchase recorded."))
            return redirect("crm:client_purchases", pk=client.pk)
    return render(request, "crm/purchase_form.html", {"client": client, "form": form})


@staff_permission_required("manage_clients")
@require_POST
def client_bulk_tag(request: HttpRequest) -> HttpResponse:
    """Give or remove one manual tag for the clients selected in the list."""
    ids = [int(v) for v in request.POST.getlist("clients") if v.isdigit()]
    tag_id = request.POST.get("tag") or ""
    tag = Tag.objects.filter(pk=int(tag_id)).first() if tag_id.isdigit() else None
    back = reverse("crm:client_list") + ("?" + request.POST["back"] if request.POST.get("back") else "")
    if not ids:
        messages.error(request, _("Select at least one client."))
        return redirect(back)
    if tag is None:
        messages.error(request, _("Choose a tag."))
        return redirect(back)
    try:
        if request.POST.get("action") == "remove":
            count = tag_services.clients_untag(client_ids=ids, tag=tag, acting_user=acting_user(request))
            messages.success(
                request,
                ngettext(
                    "Tag %(tag)s removed from %(count)d client.", "Tag %(tag)s removed from %(count)d clients.", count
                )
                % {"tag": tag.name, "count": count},
            )
        else:
            count = tag_services.clients_tag(client_ids=ids, tag=tag, acting_user=acting_user(request))
            messages.success(
                request,
                ngettext("Tag %(tag)s given to %(count)d client.", "Tag %(tag)s given to %(count)d clients.", count)
                % {"tag": tag.name, "count": count},
            )
    except ServiceError as error:
        messages.error(request, error.message if not error.errors else next(iter(error.errors.values()))[0])
    return redirect(back)


@staff_permission_required("manage_clients")
def client_merge(request: HttpRequest, pk: int) -> HttpResponse:
    """Find the duplicate, see both side by side, merge it into this client."""
    survivor = _active_client(pk)
    other = None
    if (request.GET.get("other") or request.POST.get("other") or "").isdigit():
        other = selectors.client_get(pk=int(request.GET.get("other") or request.POST["other"]))
    if request.method == "POST" and other is not None:
        try:
            record = merge_services.client_merge(survivor=survivor, merged=other, acting_user=acting_user(request))
        except ServiceError as error:
            messages.error(request, error.message)
        else:
            messages.success(
                request, _("%(other)s was merged into this client. You can undo it below.") % {"other": other.name}
            )
            return redirect(reverse("crm:client_detail", args=[survivor.pk]) + f"#merge-{record.pk}")
    query = request.GET.get("q", "")
    candidates = [c for c in selectors.client_search(query=query, limit=10) if c.pk != survivor.pk] if query else []
    return render(
        request,
        "crm/client_merge.html",
        {
            "client": survivor,
            "other": other if other is not None and other.pk != survivor.pk else None,
            "q": query,
            "candidates": candidates,
            "can_see_contact": _can_see_contact(request),
        },
    )


@staff_permission_required("manage_clients")
@require_POST
def merge_undo(request: HttpRequest, pk: int) -> HttpResponse:
    record = get_object_or_404(ClientMerge, pk=pk)
    try:
        merged = merge_services.client_merge_undo(merge=record, acting_user=acting_user(request))
    except ServiceError as error:
        messages.error(request, error.message)
        return redirect("crm:client_detail", pk=record.survivor_id)
    messages.success(request, _("The merge was undone: %(name)s is a separate client again.") % {"name": merged.name})
    return redirect("crm:client_detail", pk=merged.pk)


@staff_permission_required("export_data")
def client_personal_data(request: HttpRequest, pk: int) -> HttpResponse:
    """Download everything held about the client as JSON (a PIPL request). Audited."""
    client = _active_client(pk)
    data = privacy.client_personal_data(client=client, acting_user=acting_user(request))
    response = HttpResponse(
        json.dumps(data, ensure_ascii=False, indent=2, default=str), content_type="application/json; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="client-{client.pk}-personal-data.json"'
    response["Cache-Control"] = "no-store"
    return response


@staff_permission_required("manage_clients")
def client_erase(request: HttpRequest, pk: int) -> HttpResponse:
    """Erase the client's personal data on request, after typing the name to confirm."""
    client = _active_client(pk)
    form = EraseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if form.cleaned_data["confirm_name"].strip() != client.name:
            form.add_error("confirm_name", _("The name does not match."))
        else:
            privacy.client_erase(client=client, acting_user=acting_user(request), reason=form.cleaned_data["reason"])
            messages.success(request, _("The client's personal data was erased."))
            return redirect("crm:client_list")
    return render(request, "crm/client_erase.html", {"client": client, "form": form})


# --- tags and tiers ----------------------------------------------------------


@staff_permission_required("manage_clients")
def tag_list(request: HttpRequest) -> HttpResponse:
    form = TagForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            tag = tag_services.tag_create(acting_user=acting_user(request), **form.service_kwargs())
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            messages.success(request, _("Tag %(name)s created.") % {"name": tag.name})
            return redirect("crm:tag_list")
    return render(request, "crm/tag_list.html", {"form": form, "tags": selectors.tag_list().order_by("name")})


@staff_permission_required("manage_clients")
def tag_edit(request: HttpRequest, pk: int) -> HttpResponse:
    tag = get_object_or_404(Tag, pk=pk)
    initial: dict[str, Any] = {
        "name": tag.name,
        "color": tag.color,
        "description": tag.description,
        "rule": tag.rule,
        "rule_amount_yuan": tag.rule_amount // 100 if tag.rule_amount else None,
        "rule_count": tag.rule_count,
        "rule_months": tag.rule_months,
        "rule_days": tag.rule_days,
    }
    form = TagForm(request.POST or None, initial=initial)
    if request.method == "POST" and request.POST.get("delete"):
        tag_services.tag_delete(tag=tag, acting_user=acting_user(request))
        messages.success(request, _("Tag %(name)s deleted.") % {"name": tag.name})
        return redirect("crm:tag_list")
    if request.method == "POST" and request.POST.get("recompute"):
        added, removed = tag_services.tag_rule_apply(tag=tag)
        messages.success(
            request, _("Recomputed: %(added)d added, %(removed)d removed.") % {"added": added, "removed": removed}
        )
        return redirect("crm:tag_edit", pk=tag.pk)
    if request.method == "POST" and form.is_valid():
        try:
            tag_services.tag_update(tag=tag, acting_user=acting_user(request), **form.service_kwargs())
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("crm:tag_list")
    return render(request, "crm/tag_edit.html", {"form": form, "tag": tag})


@staff_permission_required("manage_catalog")
def tier_list(request: HttpRequest) -> HttpResponse:
    form = TierForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            tag_services.tier_create(acting_user=acting_user(request), **form.cleaned_data)
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            messages.success(request, _("Tier %(name)s created.") % {"name": form.cleaned_data["name"]})
            return redirect("crm:tier_list")
    return render(request, "crm/tier_list.html", {"form": form, "tiers": MembershipTier.objects.order_by("rank")})


@staff_permission_required("manage_catalog")
def tier_edit(request: HttpRequest, pk: int) -> HttpResponse:
    tier = get_object_or_404(MembershipTier, pk=pk)
    form = TierForm(request.POST or None, initial={"name": tier.name, "rank": tier.rank, "color": tier.color})
    if request.method == "POST" and request.POST.get("delete"):
        try:
            tag_services.tier_delete(tier=tier, acting_user=acting_user(request))
        except ServiceError as error:
            messages.error(request, error.message)
            return redirect("crm:tier_edit", pk=tier.pk)
        messages.success(request, _("Tier %(name)s deleted.") % {"name": tier.name})
        return redirect("crm:tier_list")
    if request.method == "POST" and form.is_valid():
        try:
            tag_services.tier_update(tier=tier, acting_user=acting_user(request), **form.cleaned_data)
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("crm:tier_list")
    return render(request, "crm/tier_edit.html", {"form": form, "tier": tier})


urlpatterns = [
    path("", client_list, name="client_list"),
    path("pick/", client_pick, name="client_pick"),
    path("new/", client_create, name="client_create"),
    path("bulk-tag/", client_bulk_tag, name="client_bulk_tag"),
    path("tags/", tag_list, name="tag_list"),
    path("tags/<int:pk>/", tag_edit, name="tag_edit"),
    path("tiers/", tier_list, name="tier_list"),
    path("tiers/<int:pk>/", tier_edit, name="tier_edit"),
    path("merges/<int:pk>/undo/", merge_undo, name="merge_undo"),
    path("<int:pk>/", client_detail, name="client_detail"),
    path("<int:pk>/edit/", client_edit, name="client_edit"),
    path("<int:pk>/purchases/", client_purchases, name="client_purchases"),
    path("<int:pk>/purchases/new/", purchase_add, name="purchase_add"),
    path("<int:pk>/merge/", client_merge, name="client_merge"),
    path("<int:pk>/personal-data.json", client_personal_data, name="client_personal_data"),
    path("<int:pk>/erase/", client_erase, name="client_erase"),
]
