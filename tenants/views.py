"""Public site (landing, pricing, signup) and the salon-profile settings page. Thin views."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from apps.core.errors import ServiceError
from apps.core.permissions import acting_user, staff_permission_required
from apps.core.views import apply_service_error
from tenants import selectors, services
from tenants.forms import SalonProfileForm, SignupForm
from tenants.models import Salon

PLANS = [
    {"code": "starter", "price_yuan": 199, "staff": 5, "locations": 1, "messages": 500},
    {"code": "growth", "price_yuan": 499, "staff": 20, "locations": 3, "messages": 3000},
    {"code": "chain", "price_yuan": 1299, "staff": 100, "locations": 20, "messages": 20000},
]


def landing(request: HttpRequest) -> HttpResponse:
    form = SignupForm()
    return render(request, "public/landing.html", _landing_context(request, form))


def _landing_context(request: HttpRequest, form: SignupForm) -> dict[str, object]:
    form.fields["subdomain"].help_text = form.fields["subdomain"].help_text % {"domain": settings.PLATFORM_DOMAIN}
    return {
        "form": form,
        "plans": PLANS,
        "platform_domain": settings.PLATFORM_DOMAIN,
        "trial_days": settings.SALON_TRIAL_DAYS,
    }


@require_POST
def signup(request: HttpRequest) -> HttpResponse:
    form = SignupForm(request.POST)
    if form.is_valid():
        try:
            result = services.salon_signup(raw=form.cleaned_data, language=request.LANGUAGE_CODE)  # type: ignore[attr-defined]
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            url = services.salon_url(
                result.salon, scheme=request.scheme or "http", port=services.port_from_host(request.get_host())
            )
            return HttpResponseRedirect(f"{url}login/?welcome=1")
    return render(request, "public/landing.html", _landing_context(request, form), status=400)


def subdomain_check(request: HttpRequest) -> HttpResponse:
    """htmx fragment under the signup form's subdomain field, updated as the person types."""
    result = selectors.subdomain_availability(request.GET.get("subdomain", ""))
    return render(
        request, "public/subdomain_check.html", {"result": result, "platform_domain": settings.PLATFORM_DOMAIN}
    )


@require_POST
def language_set_public(request: HttpRequest) -> HttpResponse:
    language = request.POST.get("language", "")
    target = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "/"
    response = HttpResponseRedirect(target)
    if language in dict(settings.LANGUAGES):
        response.set_cookie(settings.LANGUAGE_COOKIE_NAME, language, max_age=365 * 24 * 3600, samesite="Lax")
    return response


@staff_permission_required("manage_settings")
def salon_profile(request: HttpRequest) -> HttpResponse:
    salon: Salon = request.tenant  # type: ignore[attr-defined]
    form = SalonProfileForm(
        request.POST or None,
        request.FILES or None,
        initial={"name": salon.name, "timezone": salon.timezone, "currency": salon.currency},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.salon_profile_update(
                salon=salon,
                acting_user=acting_user(request),
                name=data["name"],
                timezone_name=data["timezone"],  # type: ignore[arg-type]
                currency=data["currency"],
                logo=data.get("logo"),
                remove_logo=data.get("remove_logo", False),
            )
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            messages.success(request, _("The salon profile was saved."))
            return redirect("salon_profile")
    return render(request, "tenants/salon_profile.html", {"form": form})
