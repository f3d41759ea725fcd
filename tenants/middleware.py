from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django_tenants.middleware.main import TenantMainMiddleware
from django_tenants.utils import get_public_schema_name, get_tenant_domain_model

from apps.core.db import salon_timezone_forget
from tenants.db import tenant_connection
from tenants.models import SalonStatus


class _PublicTenant:
    """Stands for the root domain; the public schema holds no salon."""

    schema_name = get_public_schema_name()
    domain_url: str | None = None
    is_public = True
    name = ""
    timezone = settings.DEFAULT_SALON_TIMEZONE
    currency = "CNY"
    status = SalonStatus.ACTIVE

    def get_tenant_type(self) -> str:  # pragma: no cover - multi-type tenants are not used
        return "public"


_CACHE_SECONDS = 5.0
_cache: dict[str, tuple[float, Any]] = {}
_cache_lock = threading.Lock()


def tenant_cache_clear(*_args: Any, **_kwargs: Any) -> None:
    """Forget resolved hosts (connected to Salon/Domain saves; other processes expire within 5 s)."""
    with _cache_lock:
        _cache.clear()
    salon_timezone_forget()


class TenantRoutingMiddleware(TenantMainMiddleware):
    """Root domain → public schema without a query; ``{sub}.{PLATFORM_DOMAIN}`` → that salon.

    Resolved hosts are kept for a few seconds in-process: routing a salon request
    then costs one ``SET search_path`` and no lookup (see docs/benchmarks.md).
    """

    def process_request(self, request: HttpRequest) -> HttpResponse | None:
        hostname = self.hostname_from_request(request)
        if hostname == settings.PLATFORM_DOMAIN:
            tenant_connection.set_schema_to_public()
            tenant: Any = _PublicTenant()
            tenant.domain_url = hostname
            request.tenant = tenant  # type: ignore[attr-defined]
            self.setup_url_routing(request, force_public=True)
            return None
        now = time.monotonic()
        cached = _cache.get(hostname)
        if cached is not None and cached[0] > now:
            tenant = cached[1]
        else:
            tenant_connection.set_schema_to_public()  # tenants_domain lives in public
            domain_model = get_tenant_domain_model()
            try:
                tenant = self.get_tenant(domain_model, hostname)
            except domain_model.DoesNotExist:
                return _no_salon(request, hostname)
            tenant.domain_url = hostname
            with _cache_lock:
                _cache[hostname] = (now + _CACHE_SECONDS, tenant)
        # Each request gets its own shallow copy, so nothing a view sets on request.tenant
        # leaks into other requests through the cache (cheaper than copy.copy on a model).
        shared = tenant
        tenant = object.__new__(type(shared))
        tenant.__dict__.update(shared.__dict__)
        request.tenant = tenant  # type: ignore[attr-defined]
        tenant_connection.set_tenant(tenant)
        self.setup_url_routing(request)
        return None


def _no_salon(request: HttpRequest, hostname: str) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": _("No salon at this address.")}, status=404)
    return render(
        request,
        "tenants/no_salon.html",
        {"hostname": hostname, "platform_domain": settings.PLATFORM_DOMAIN},
        status=404,
    )


# Paths a suspended salon still answers: health checks, static files, and payment notifications (money
# that moved at a provider is recorded whatever the salon's account status).
_ALWAYS_OPEN = ("/healthz", "/static/", "/i18n/", "/payments/notify/")
# The salon's clients' pages: the member centre and online booking.
_CLIENT_PAGES = ("/member/", "/book/")


class SalonStatusMiddleware:
    """Enforces the salon's account status on every salon-domain request.

    suspended: staff see a page saying why; the API answers 402 with a code; the member centre
    tells the salon's clients it is unavailable for now.
    past_due / trial: a banner (set on the request for templates).
    Nothing is ever deleted by a status change.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        tenant = getattr(request, "tenant", None)
        if tenant is None or getattr(tenant, "is_public", False):
            return self.get_response(request)
        if tenant.status == SalonStatus.SUSPENDED and not request.path.startswith(_ALWAYS_OPEN):
            message = _("This salon's account is suspended.")
            if request.path.startswith("/api/"):
                return JsonResponse(
                    {"detail": message, "code": "salon_suspended", "reason": tenant.status_reason}, status=402
                )
            if request.path.startswith(_CLIENT_PAGES):
                # The salon's clients see a friendly page that says their account is safe, never the
                # staff page with the platform's reason for the suspension.
                return render(request, "loyalty/member/unavailable.html", {"salon": tenant}, status=503)
            return render(request, "tenants/suspended.html", {"salon": tenant, "message": message}, status=403)
        return self.get_response(request)
