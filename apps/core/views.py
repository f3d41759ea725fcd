"""Staff app pages of the core app: sign-in, dashboard, staff, locations, language.

Thin: parse, check, call a service, render."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from apps.core import selectors, services
from apps.core.errors import ServiceError
from apps.core.forms import (
    LanguageForm,
    LocationForm,
    StaffCreateForm,
    StaffForm,
    StaffLoginForm,
    StaffPasswordResetForm,
)
from apps.core.models import Location, User
from apps.core.navigation import MODULES_BY_SLUG
from apps.core.permissions import acting_user, staff_permission_required
from apps.core.roles import ASSIGNABLE, MATRIX, PERMISSIONS, Role


def apply_service_error(form: Any, error: ServiceError) -> None:
    """Show a service's refusal on the form: on its field when it names one, else on top."""
    if error.errors:
        for field, field_messages in error.errors.items():
            for message in field_messages:
                form.add_error(field if field in form.fields else None, message)
    else:
        form.add_error(None, error.message)


class LoginView(auth_views.LoginView):
    template_name = "core/login.html"
    authentication_form = StaffLoginForm
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    pass


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "core/password_reset.html"
    form_class = StaffPasswordResetForm
    email_template_name = "core/password_reset_email.txt"
    subject_template_name = "core/password_reset_subject.txt"
    success_url = "/password-reset/sent/"


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    figures = selectors.dashboard_figures()
    roles = [(label, figures.staff_by_role.get(value, 0)) for value, label in Role.choices]
    return render(request, "core/dashboard.html", {"figures": figures, "roles": roles})


@login_required
def module_page(request: HttpRequest, slug: str) -> HttpResponse:
    module = MODULES_BY_SLUG.get(slug)
    if module is None:
        raise Http404
    if module.url_name:
        return redirect(module.url)
    return render(request, "core/module.html", {"module": module})


@login_required
@require_POST
def language_set(request: HttpRequest) -> HttpResponse:
    form = LanguageForm(request.POST)
    target = request.POST.get("next") or reverse("core:dashboard")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("core:dashboard")
    if form.is_valid():
        services.user_set_language(user=acting_user(request), language=form.cleaned_data["language"])
    return HttpResponseRedirect(target)


# --- staff -------------------------------------------------------------------


@staff_permission_required("manage_staff")
def staff_list(request: HttpRequest) -> HttpResponse:
    return render(request, "core/staff_list.html", {"staff": selectors.staff_list()})


def _assignable_choices(user: User) -> list[tuple[str, Any]]:
    allowed = ASSIGNABLE.get(user.role, set())
    return [(value, label) for value, label in Role.choices if value in allowed]


@staff_permission_required("manage_staff")
def staff_create(request: HttpRequest) -> HttpResponse:
    acting = acting_user(request)
    form = StaffCreateForm(request.POST or None)
    form.fields["role"].choices = _assignable_choices(acting)  # type: ignore[attr-defined]
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            member = services.staff_create(
                name=data["name"],
                role=data["role"],
                email=data["email"],
                phone=data["phone"],
                password=data["password"],
                locations=data["locations"],
                acting_user=acting,
            )
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            messages.success(request, _("%(name)s was added.") % {"name": member.name})
            return redirect("core:staff_list")
    return render(request, "core/staff_form.html", {"form": form, "member": None})


@staff_permission_required("manage_staff")
def staff_edit(request: HttpRequest, pk: int) -> HttpResponse:
    acting = acting_user(request)
    member = get_object_or_404(User, pk=pk)
    initial = {
        "name": member.name,
        "role": member.role,
        "phone": member.phone,
        "email": member.email,
        "locations": list(member.locations.all()),
    }
    form = StaffForm(request.POST or None, initial=initial)
    choices = _assignable_choices(acting)
    if member.role not in dict(choices):
        choices = [(member.role, member.get_role_display()), *choices]
    form.fields["role"].choices = choices  # type: ignore[attr-defined]
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.staff_update(
                user=member,
                acting_user=acting,
                name=data["name"],
                role=data["role"],
                email=data["email"],
                phone=data["phone"],
                locations=data["locations"],
            )
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            messages.success(request, _("Changes to %(name)s were saved.") % {"name": data["name"]})
            return redirect("core:staff_list")
    return render(request, "core/staff_form.html", {"form": form, "member": member})


@staff_permission_required("manage_staff")
@require_POST
def staff_set_active(request: HttpRequest, pk: int) -> HttpResponse:
    acting = acting_user(request)
    member = get_object_or_404(User, pk=pk)
    activate = request.POST.get("active") == "1"
    try:
        if activate:
            services.staff_reactivate(user=member, acting_user=acting)
            messages.success(request, _("%(name)s can sign in again.") % {"name": member.name})
        else:
            services.staff_deactivate(user=member, acting_user=acting)
            messages.success(request, _("%(name)s was deactivated.") % {"name": member.name})
    except ServiceError as error:
        messages.error(request, error.message)
    return redirect("core:staff_list")


@staff_permission_required("manage_staff")
def roles_matrix(request: HttpRequest) -> HttpResponse:
    rows = [
        (codename, description, [codename in MATRIX[role] for role in Role])
        for codename, description in PERMISSIONS.items()
    ]
    return render(request, "core/roles.html", {"rows": rows, "roles": Role.choices})


# --- locations ---------------------------------------------------------------


@staff_permission_required("manage_settings")
def location_list(request: HttpRequest) -> HttpResponse:
    form = LocationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            location = services.location_create(acting_user=acting_user(request), **form.cleaned_data)  # type: ignore[arg-type]
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            messages.success(request, _("Location %(name)s was added.") % {"name": location.name})
            return redirect("core:location_list")
    return render(request, "core/location_list.html", {"locations": selectors.location_list(), "form": form})


@staff_permission_required("manage_settings")
def location_edit(request: HttpRequest, pk: int) -> HttpResponse:
    location = get_object_or_404(Location, pk=pk)
    form = LocationForm(
        request.POST or None, initial={"name": location.name, "address": location.address, "phone": location.phone}
    )
    if request.method == "POST":
        toggle = request.POST.get("active")
        try:
            if toggle in ("0", "1"):
                services.location_update(
                    location=location,
                    acting_user=acting_user(request),
                    is_active=toggle == "1",
                )
                messages.success(request, _("Location %(name)s was updated.") % {"name": location.name})
                return redirect("core:location_list")
            if form.is_valid():
                services.location_update(
                    location=location,
                    acting_user=acting_user(request),
                    **form.cleaned_data,
                )
                messages.success(request, _("Location %(name)s was updated.") % {"name": form.cleaned_data["name"]})
                return redirect("core:location_list")
        except ServiceError as error:
            if toggle in ("0", "1"):
                messages.error(request, error.message)
                return redirect("core:location_list")
            apply_service_error(form, error)
    return render(request, "core/location_form.html", {"form": form, "location": location})
