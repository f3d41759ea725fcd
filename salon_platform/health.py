"""GET /healthz on every host: database and broker state, for load balancers and monitors."""

from __future__ import annotations

import time

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache

from tenants.db import tenant_connection


def _check_db() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return "ok"
    except Exception as exc:  # report, never raise: this is the page that says what is broken
        return f"error: {exc.__class__.__name__}"


def _check_broker() -> str:
    from salon_platform.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return "ok"
    except Exception as exc:
        return f"error: {exc.__class__.__name__}"


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    started = time.perf_counter()
    db = _check_db()
    broker = _check_broker()
    tenant = getattr(request, "tenant", None)
    body = {
        "db": db,
        "broker": broker,
        "schema": tenant_connection.schema_name,
        "salon": None if tenant is None or getattr(tenant, "is_public", False) else tenant.subdomain,
        "ms": round((time.perf_counter() - started) * 1000, 1),
    }
    return JsonResponse(body, status=200 if db == "ok" else 503)
