from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from apps.core.db import current_schema

SESSION_SCHEMA_KEY = "_salon_schema"


@receiver(user_logged_in, dispatch_uid="core_bind_session_to_schema")
def bind_session_to_schema(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    """Remember which salon a session was opened in (checked by TenantSessionGuardMiddleware)."""
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_SCHEMA_KEY] = current_schema()
