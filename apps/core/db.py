"""The schema the database connection is on (django-tenants adds it to the connection at run time), the
salon's clock, joining the caller's transaction, and the salon's own absolute addresses."""

from __future__ import annotations

import contextlib
import datetime
import time
import zoneinfo
from contextlib import AbstractContextManager
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone


def current_schema() -> str:
    """Schema of the salon being served, or "public" on the root domain and in platform tasks."""
    return str(getattr(connection, "schema_name", "public"))


_ZONE_CACHE: dict[str, tuple[str, float]] = {}
_ZONE_CACHE_SECONDS = 60.0


def salon_timezone() -> zoneinfo.ZoneInfo:
    """The time zone of the salon being served (Asia/Shanghai unless it chose another).

    Requests and tenant-aware tasks carry the salon on the connection; code switched into a schema by
    name (``schema_context``) does not, so the zone is then read from the public salon table (kept for a
    minute per schema, so hot paths run in tasks pay for it once)."""
    name = getattr(getattr(connection, "tenant", None), "timezone", None)
    if not name:
        schema = current_schema()
        if schema != "public":
            cached = _ZONE_CACHE.get(schema)
            if cached is not None and time.monotonic() - cached[1] < _ZONE_CACHE_SECONDS:
                name = cached[0]
            else:
                from django_tenants.utils import get_tenant_model

                model = get_tenant_model()
                name = model.objects.filter(schema_name=schema).values_list("timezone", flat=True).first() or ""
                _ZONE_CACHE[schema] = (name, time.monotonic())
    name = name or settings.DEFAULT_SALON_TIMEZONE
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(settings.DEFAULT_SALON_TIMEZONE)


def salon_timezone_forget() -> None:
    """Drop the cached zones (after a salon changes its zone; tests)."""
    _ZONE_CACHE.clear()


def salon_today() -> datetime.date:
    """Today's date where the salon is, whoever is asking and from wherever (a task, a request)."""
    return timezone.now().astimezone(salon_timezone()).date()


def salon_name() -> str:
    """The name of the salon being served, for messages to its clients ("" on the public schema).

    Requests and tenant-aware tasks carry the salon on the connection; code switched into a schema by
    name (``schema_context``) does not, so the name is then read from the public salon table."""
    tenant = getattr(connection, "tenant", None)
    name = getattr(tenant, "name", "")
    if name:
        return str(name)
    schema = current_schema()
    if schema == "public":
        return ""
    from django_tenants.utils import get_tenant_model

    found = get_tenant_model().objects.filter(schema_name=schema).values_list("name", flat=True).first()
    return found or ""


def joined_transaction() -> AbstractContextManager[Any]:
    """The caller's transaction when there is one, else a new one: for a service whose writes are a
    single statement (atomic by itself) on a hot path. Unlike ``atomic()`` inside a transaction it costs
    no SAVEPOINT and RELEASE, and unlike ``atomic(savepoint=False)`` a refusal it raises before writing
    does not doom the caller's transaction: the caller may catch it and carry on. An error from the
    database itself still aborts the caller's transaction, loudly."""
    return contextlib.nullcontext() if connection.in_atomic_block else transaction.atomic()


def salon_absolute_url(path: str) -> str:
    """``path`` as an absolute address on the domain of the salon being served, for what is built without
    a request (a task, a call after a commit); "" on the public schema. HTTPS when the platform is served
    behind a TLS proxy, else HTTP on the platform's port (development)."""
    tenant = getattr(connection, "tenant", None)
    subdomain = str(getattr(tenant, "subdomain", "") or "")
    if not subdomain:
        schema = current_schema()
        if schema == "public":
            return ""
        from django_tenants.utils import get_tenant_model

        found = get_tenant_model().objects.filter(schema_name=schema).values_list("subdomain", flat=True).first()
        subdomain = str(found or "")
    if not subdomain:
        return ""
    if settings.SECURE_PROXY_SSL_HEADER:
        return f"https://{subdomain}.{settings.PLATFORM_DOMAIN}{path}"
    port = "" if settings.PORT in (80, 443) else f":{settings.PORT}"
    return f"http://{subdomain}.{settings.PLATFORM_DOMAIN}{port}{path}"
