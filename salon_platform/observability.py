"""Sentry: initialised only when SENTRY_DSN is set; every event carries the salon (tenant)."""

from __future__ import annotations

from typing import Any


def _tag_tenant(event: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any]:
    from django.db import connection

    schema = getattr(connection, "schema_name", None)
    tags = event.setdefault("tags", {})
    if isinstance(tags, dict):
        tags.setdefault("tenant", schema or "public")
    return event


def init_sentry(dsn: str, *, environment: str, **extra: Any) -> None:
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        before_send=_tag_tenant,  # type: ignore[arg-type]
        traces_sample_rate=0.0,
        **extra,
    )
