"""Structured (JSON) logs, one object per line, each with the tenant it ran for."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from salon_platform.request_context import current_request_id

_RESERVED = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "schema_name", "domain_url"}


class TenantContextFilter(logging.Filter):
    """Adds the schema of the connection in use (the salon) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            from django.db import connection

            tenant = getattr(connection, "tenant", None)
            if getattr(record, "tenant", None) is None:  # an explicit extra={"tenant": ...} wins
                record.tenant = getattr(tenant, "schema_name", None) or getattr(connection, "schema_name", None)
        except Exception:  # logging must never break because settings are not ready
            record.tenant = None
        if getattr(record, "request_id", None) is None:
            record.request_id = current_request_id()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "tenant": getattr(record, "tenant", None),
        }
        request_id = getattr(record, "request_id", None)
        if request_id:
            payload["request_id"] = request_id
        for key, value in vars(record).items():
            if key not in _RESERVED and key not in payload and not key.startswith("_"):
                payload[key] = value if isinstance(value, str | int | float | bool | type(None)) else repr(value)
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return json.dumps(payload, ensure_ascii=False)
