"""The schema the database connection is on (django-tenants adds it to the connection at run time)."""

from __future__ import annotations

import datetime
import zoneinfo

from django.conf import settings
from django.db import connection
from django.utils import timezone


def current_schema() -> str:
    """Schema of the salon being served, or "public" on the root domain and in platform tasks."""
    return str(getattr(connection, "schema_name", "public"))


def salon_timezone() -> zoneinfo.ZoneInfo:
    """The time zone of the salon being served (Asia/Shanghai unless it chose another)."""
    name = getattr(getattr(connection, "tenant", None), "timezone", None) or settings.DEFAULT_SALON_TIMEZONE
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(settings.DEFAULT_SALON_TIMEZONE)


def salon_today() -> datetime.date:
    """Today's date where the salon is, whoever is asking and from wherever (a task, a request)."""
    return timezone.now().astimezone(salon_timezone()).date()
