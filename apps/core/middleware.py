from __future__ import annotations

import zoneinfo
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation

from apps.core.db import current_schema
from apps.core.signals import SESSION_SCHEMA_KEY


class TenantSessionGuardMiddleware:
    """A session opened in one salon is worthless in any other.

    Sessions are stored per schema already; this also covers session stores
    shared by every schema (cache or signed cookies), where user ids collide
    between salons.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and request.session.get(SESSION_SCHEMA_KEY) != current_schema():
            logout(request)
        return self.get_response(request)


class LanguageAndTimezoneMiddleware:
    """Staff see their own language (Simplified Chinese unless they chose English);
    visitors see the language cookie's, else Chinese; API calls may ask by Accept-Language.
    Times show in the salon's zone."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.languages = dict(settings.LANGUAGES)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        language = None
        if user is not None and user.is_authenticated:
            language = getattr(user, "language", None)
        if language not in self.languages:
            language = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if (
            language not in self.languages
            and request.path.startswith("/api/")
            and "HTTP_ACCEPT_LANGUAGE" in request.META
        ):
            # API clients (token users are known only inside the view) say what they read.
            language = translation.get_language_from_request(request)
        if language not in self.languages:
            language = settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        tenant = getattr(request, "tenant", None)
        tz_name = getattr(tenant, "timezone", None) or settings.DEFAULT_SALON_TIMEZONE
        try:
            timezone.activate(zoneinfo.ZoneInfo(tz_name))
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            timezone.activate(zoneinfo.ZoneInfo(settings.DEFAULT_SALON_TIMEZONE))
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        return response
