"""Scheduling pages: staff groups (in the catalogue settings) and a staff member's profile (SCH-1).
Thin: parse a form, call one service, render."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from apps.core.errors import ServiceError
from apps.core.models import User
from apps.core.permissions import acting_user, staff_permission_required
from apps.core.views import apply_service_error
from apps.scheduling import selectors, services
from apps.scheduling.forms import StaffGroupForm, StaffProfileForm
from apps.scheduling.models import StaffGroup


@staff_permission_required("manage_catalog")
def group_list(request: HttpRequest) -> HttpResponse:
    form = StaffGroupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            group = services.staff_group_create(name=form.cleaned_data["name"], acting_user=acting_user(request))
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            messages.success(request, _("%(name)s was added.") % {"name": group.name})
            return redirect("scheduling:group_list")
    return render(request, "scheduling/group_list.html", {"groups": selectors.staff_group_list(), "form": form})


@staff_permission_required("manage_catalog")
def group_edit(request: HttpRequest, pk: int) -> HttpResponse:
    group = get_object_or_404(StaffGroup, pk=pk)
    form = StaffGroupForm(request.POST or None, initial={"name": group.name})
    if request.method == "POST" and form.is_valid():
        try:
            services.staff_group_update(group=group, name=form.cleaned_data["name"], acting_user=acting_user(request))
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            messages.success(request, _("Changes to %(name)s were saved.") % {"name": form.cleaned_data["name"]})
            return redirect("scheduling:group_list")
    return render(
        request, "catalog/simple_form.html", {"form": form, "title": group.name, "cancel_url": "scheduling:group_list"}
    )


@staff_permission_required("manage_catalog")
@require_POST
def group_delete(request: HttpRequest, pk: int) -> HttpResponse:
    group = get_object_or_404(StaffGroup, pk=pk)
    services.staff_group_delete(group=group, acting_user=acting_user(request))
    messages.success(request, _("%(name)s was removed; its members now have no group.") % {"name": group.name})
    return redirect("scheduling:group_list")


@staff_permission_required("manage_staff")
def staff_profile(request: HttpRequest, pk: int) -> HttpResponse:
    """Photo, level, group, skills and home location of one staff member."""
    member = get_object_or_404(User, pk=pk)
    profile = selectors.staff_profile_of(member)
    initial = {}
    if profile is not None:
        initial = {
            "level": profile.level,
            "group": profile.group,
            "home_location": profile.home_location,
            "skills": list(profile.skills.all()),
            "bio": profile.bio,
        }
    form = StaffProfileForm(request.POST or None, request.FILES or None, initial=initial, profile=profile)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.staff_profile_update(
                user=member,
                acting_user=acting_user(request),
                level=data["level"],
                group=data["group"],
                home_location=data["home_location"],
                skills=data["skills"],
                bio=data["bio"],
                photo=data["photo"],
                remove_photo=data.get("remove_photo", False),
            )
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            messages.success(request, _("The profile of %(name)s was saved.") % {"name": member.name})
            return redirect("core:staff_list")
    return render(request, "scheduling/staff_profile.html", {"form": form, "member": member, "profile": profile})
