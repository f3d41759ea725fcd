from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable

from django.db import connection
from django.http import HttpRequest, HttpResponse

from salon_platform.request_context import reset_request_id, set_request_id

_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
access_log = logging.getLogger("salon.access")


class RequestIdMiddleware:
    """Gives each request an id (kept from a proxy's X-Request-ID when sane) for logs and replies,
    and writes one JSON access-log line per request (with the salon, via the log filter)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _SAFE_ID.match(incoming) else uuid.uuid4().hex
        token = set_request_id(request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            if access_log.isEnabledFor(logging.INFO):
                access_log.info(
                    "%s %s %s",
                    request.method,
                    request.path,
                    response.status_code,
                    extra={
                        "method": request.method,
                        "path": request.path,
                        "status": response.status_code,
                        "ms": round((time.perf_counter() - started) * 1000, 1),
                        "host": request.get_host() if response.status_code != 400 else "",
                        "tenant": getattr(connection, "schema_name", None),
                        "request_id": request_id,
                    },
                )
        finally:
            reset_request_id(token)
        response["X-Request-ID"] = request_id
        return response
