"""The schema the database connection is on (django-tenants adds it to the connection at run time)."""

from __future__ import annotations

from django.db import connection


def current_schema() -> str:
    """Schema of the salon being served, or "public" on the root domain and in platform tasks."""
    return str(getattr(connection, "schema_name", "public"))
