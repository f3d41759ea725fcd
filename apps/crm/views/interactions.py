"""Staff pages: a client's timeline (CRM-5), complaints, follow-ups and "My tasks today" (CRM-6).

Thin: parse, check, call one service, render. The rules (who may move a complaint or work on
someone else's follow-up) are the services' own; a refusal comes back as a ServiceError.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from apps.core.db import salon_today
from apps.core.errors import ServiceError
from apps.core.permissions import acting_user, staff_permission_required
from apps.core.roles import perm
from apps.core.views import apply_service_error
from apps.crm import selectors_interactions as selectors
from apps.crm.forms_interactions import (
    ComplaintAssignForm,
    ComplaintFilterForm,
    ComplaintTransitionForm,
    FollowUpCancelForm,
    FollowUpCompleteForm,
    FollowUpForm,
    InteractionForm,
    TasksFilterForm,
    TimelineFilterForm,
)
from apps.crm.models import Client, ComplaintStatus, FollowUpStatus, InteractionKind
from apps.crm.sections import ClientSection, client_section_register
from apps.crm.services import interactions as services

TIMELINE_PAGE_SIZE = 25
COMPLAINTS_PAGE_SIZE = 50
TASKS_PAGE_SIZE = 50


def _may_manage(request: HttpRequest) -> bool:
    return bool(request.user.has_perm(perm("manage_clients")))


def _safe_next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return default


def _refused(request: HttpRequest, error: ServiceError) -> None:
    """A refusal for lack of permission is a 403 page, like any other forbidden page."""
    if error.status == 403:
        raise PermissionDenied(error.message)


def _page(request: HttpRequest, items: Any, size: int) -> Any:
    return Paginator(items, size).get_page(request.GET.get("page"))


def _query_without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


# --- timeline -----------------------------------------------------------------------------------


@login_required
def client_interactions(request: HttpRequest, pk: int) -> HttpResponse:
    """The whole timeline of one client, filtered by kind, with the form to record an entry."""
    client = get_object_or_404(Client, pk=pk)
    form = InteractionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.interaction_record(
                client=client,
                kind=data["kind"],
                channel=data["channel"],
                summary=data["summary"],
                body=data["body"],
                rating=data["rating"],
                occurred_at=data["occurred_at"],
                acting_user=acting_user(request),
            )
        except ServiceError as error:
            _refused(request, error)
            apply_service_error(form, error)
        else:
            messages.success(request, _("The entry was added to %(name)s's timeline.") % {"name": client.name})
            return HttpResponseRedirect(_safe_next(request, reverse("crm:client_interactions", args=[client.pk])))
    filters = TimelineFilterForm(request.GET or None)
    kind = filters.cleaned_data["kind"] if filters.is_valid() else ""
    page = _page(request, selectors.client_timeline(client=client, kind=kind or None), TIMELINE_PAGE_SIZE)
    return render(
        request,
        "crm/interactions/timeline.html",
        {
            "client": client,
            "form": form,
            "filters": filters,
            "page": page,
            "query": _query_without_page(request),
            "may_manage": _may_manage(request),
        },
    )


# --- complaints ---------------------------------------------------------------------------------


@staff_permission_required("manage_clients")
def complaint_list(request: HttpRequest) -> HttpResponse:
    """Every complaint still to deal with, salon-wide (managers and front desk)."""
    filters = ComplaintFilterForm(request.GET or None)
    status, owner = "", None
    if filters.is_valid():
        status = filters.cleaned_data["status"]
        owner = filters.cleaned_data["owner"]
    page = _page(request, selectors.complaint_list(status=status or None, owner=owner), COMPLAINTS_PAGE_SIZE)
    return render(
        request,
        "crm/interactions/complaints.html",
        {"filters": filters, "page": page, "query": _query_without_page(request)},
    )


@login_required
def complaint_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One complaint with its workflow: move it on, reopen it, or give it to someone else."""
    complaint = get_object_or_404(selectors.interaction_list(), pk=pk, kind=InteractionKind.COMPLAINT)
    me = acting_user(request)
    form = ComplaintTransitionForm(
        request.POST if request.POST.get("action") == "move" else None,
        initial={"owner": complaint.owner_id or me.pk},
    )
    assign = ComplaintAssignForm(
        request.POST if request.POST.get("action") == "assign" else None, initial={"owner": complaint.owner_id}
    )
    if request.method == "POST":
        try:
            if request.POST.get("action") == "assign" and assign.is_valid():
                services.complaint_assign(complaint=complaint, owner=assign.cleaned_data["owner"], acting_user=me)
                messages.success(request, _("The complaint has a new owner."))
                return redirect("crm:complaint_detail", pk=complaint.pk)
            if request.POST.get("action") == "move" and form.is_valid():
                services.complaint_transition(
                    complaint=complaint,
                    to_status=form.cleaned_data["status"],
                    owner=form.cleaned_data["owner"],
                    resolution=form.cleaned_data["resolution"],
                    acting_user=me,
                )
                messages.success(request, _("The complaint was updated."))
                return redirect("crm:complaint_detail", pk=complaint.pk)
        except ServiceError as error:
            _refused(request, error)
            apply_service_error(assign if request.POST.get("action") == "assign" else form, error)
    moves = sorted(services.COMPLAINT_MOVES.get(complaint.status, set()))
    form.fields["status"].choices = [  # type: ignore[attr-defined]
        (value, label) for value, label in ComplaintStatus.choices if value in moves
    ]
    may_manage = _may_manage(request)
    return render(
        request,
        "crm/interactions/complaint_detail.html",
        {
            "complaint": complaint,
            "form": form,
            "assign": assign if may_manage and complaint.status != ComplaintStatus.RESOLVED else None,
            "may_move": may_manage or complaint.owner_id == me.pk,
            "resolved": ComplaintStatus.RESOLVED,
        },
    )


# --- follow-ups ---------------------------------------------------------------------------------


def _follow_up_staff(request: HttpRequest) -> Any:
    """Whom this staff member may give a follow-up to: anyone active with manage_clients, else only themselves."""
    staff = selectors.assignable_staff()
    return staff if _may_manage(request) else staff.filter(pk=acting_user(request).pk)


@login_required
def follow_up_create(request: HttpRequest, pk: int) -> HttpResponse:
    client = get_object_or_404(Client, pk=pk)
    me = acting_user(request)
    form = FollowUpForm(
        request.POST or None,
        staff=_follow_up_staff(request),
        initial={"assigned_to": me.pk, "due_date": salon_today()},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.follow_up_create(
                client=client,
                assigned_to=data["assigned_to"],
                due_date=data["due_date"],
                purpose=data["purpose"],
                channel=data["channel"],
                acting_user=me,
            )
        except ServiceError as error:
            _refused(request, error)
            apply_service_error(form, error)
        else:
            messages.success(request, _("The follow-up was planned."))
            return HttpResponseRedirect(_safe_next(request, reverse("crm:client_interactions", args=[client.pk])))
    return render(request, "crm/interactions/follow_up_form.html", {"form": form, "client": client, "follow_up": None})


@login_required
def follow_up_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Reschedule, reassign or cancel an open follow-up."""
    follow_up = get_object_or_404(selectors.follow_up_list(), pk=pk)
    me = acting_user(request)
    if follow_up.assigned_to_id != me.pk and not _may_manage(request):
        raise PermissionDenied
    action = request.POST.get("action")
    form = FollowUpForm(
        request.POST if action == "save" else None,
        staff=_follow_up_staff(request) | selectors.assignable_staff().filter(pk=follow_up.assigned_to_id),
        initial={
            "assigned_to": follow_up.assigned_to_id,
            "due_date": follow_up.due_date,
            "purpose": follow_up.purpose,
            "channel": follow_up.channel,
        },
    )
    cancel = FollowUpCancelForm(request.POST if action == "cancel" else None)
    if request.method == "POST":
        try:
            if action == "cancel" and cancel.is_valid():
                services.follow_up_cancel(follow_up=follow_up, reason=cancel.cleaned_data["reason"], acting_user=me)
                messages.success(request, _("The follow-up was cancelled."))
                return HttpResponseRedirect(_safe_next(request, reverse("crm:my_tasks")))
            if action == "save" and form.is_valid():
                data = form.cleaned_data
                services.follow_up_change(
                    follow_up=follow_up,
                    assigned_to=data["assigned_to"],
                    due_date=data["due_date"],
                    purpose=data["purpose"],
                    channel=data["channel"],
                    acting_user=me,
                )
                messages.success(request, _("The follow-up was saved."))
                return HttpResponseRedirect(_safe_next(request, reverse("crm:my_tasks")))
        except ServiceError as error:
            _refused(request, error)
            apply_service_error(cancel if action == "cancel" else form, error)
    return render(
        request,
        "crm/interactions/follow_up_form.html",
        {
            "form": form,
            "cancel": cancel,
            "client": follow_up.client,
            "follow_up": follow_up,
            "is_open": follow_up.status == FollowUpStatus.OPEN,
        },
    )


def _task_context(request: HttpRequest) -> dict[str, Any]:
    return {
        "today": salon_today(),
        "see_phone": request.user.has_perm(perm("view_client_contact")),
    }


@login_required
def my_tasks(request: HttpRequest) -> HttpResponse:
    """The signed-in staff member's open follow-ups due today and overdue; managers may look
    at everyone's or one staff member's."""
    me = acting_user(request)
    may_manage = _may_manage(request)
    filters = TasksFilterForm(request.GET or None, me=me) if may_manage else None
    whose: Any = me
    if filters is not None and filters.is_valid():
        choice = filters.cleaned_data["staff"]
        whose = None if choice == "all" else (int(choice) if choice else me)
    today = salon_today()
    page = _page(request, selectors.follow_ups_due(assigned_to=whose, today=today), TASKS_PAGE_SIZE)
    return render(
        request,
        "crm/interactions/my_tasks.html",
        {
            **_task_context(request),
            "filters": filters,
            "page": page,
            "mine": whose == me,
            "show_assignee": whose != me,
            "query": _query_without_page(request),
        },
    )


@login_required
@require_POST
def follow_up_complete(request: HttpRequest, pk: int) -> HttpResponse:
    """Complete a follow-up with its outcome; from "My tasks" (htmx) the row is replaced in place."""
    follow_up = get_object_or_404(selectors.follow_up_list(), pk=pk)
    form = FollowUpCompleteForm(request.POST)
    error_message = ""
    if form.is_valid():
        try:
            follow_up = services.follow_up_complete(
                follow_up=follow_up,
                outcome=form.cleaned_data["outcome"],
                record_interaction=form.cleaned_data["record_interaction"],
                acting_user=acting_user(request),
            )
        except ServiceError as error:
            _refused(request, error)
            error_message = error.message
    if request.htmx:  # type: ignore[attr-defined]
        return render(
            request,
            "crm/interactions/_task.html",
            {
                **_task_context(request),
                "task": follow_up,
                "error": error_message,
                "outcome": request.POST.get("outcome", ""),
                "show_assignee": follow_up.assigned_to_id != request.user.pk,
            },
        )
    if error_message:
        messages.error(request, error_message)
    else:
        messages.success(request, _("The follow-up was completed."))
    return HttpResponseRedirect(_safe_next(request, reverse("crm:my_tasks")))


# --- sections of the client 360° page -----------------------------------------------------------


def _interactions_section(request: HttpRequest, client: Client) -> dict[str, Any]:
    summary = selectors.client_timeline_summary(client=client)
    return {
        "client": client,
        "timeline": summary,
        "form": InteractionForm(),
        "next": request.get_full_path(),
    }


def _follow_ups_section(request: HttpRequest, client: Client) -> dict[str, Any]:
    return {
        "client": client,
        "follow_ups": selectors.client_follow_ups(client=client),
        "today": salon_today(),
    }


client_section_register(
    ClientSection(
        slug="interactions",
        title=gettext_lazy("Interactions"),
        template="crm/interactions/section_interactions.html",
        context=_interactions_section,
        order=40,
    )
)
client_section_register(
    ClientSection(
        slug="follow_ups",
        title=gettext_lazy("Follow-ups"),
        template="crm/interactions/section_follow_ups.html",
        context=_follow_ups_section,
        order=45,
    )
)


urlpatterns = [
    path("<int:pk>/interactions/", client_interactions, name="client_interactions"),
    path("<int:pk>/follow-ups/new/", follow_up_create, name="follow_up_create"),
    path("complaints/", complaint_list, name="complaints"),
    path("complaints/<int:pk>/", complaint_detail, name="complaint_detail"),
    path("tasks/", my_tasks, name="my_tasks"),
    path("follow-ups/<int:pk>/", follow_up_edit, name="follow_up_edit"),
    path("follow-ups/<int:pk>/complete/", follow_up_complete, name="follow_up_complete"),
]
