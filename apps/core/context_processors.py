from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from apps.core.navigation import MODULES


def staff_app(request: HttpRequest) -> dict[str, Any]:
    tenant = getattr(request, "tenant", None)
    if tenant is None or getattr(tenant, "is_public", False):
        return {"salon": None}
    banner = None
    if tenant.status == "past_due":
        banner = "past_due"
    elif tenant.status == "trial" and tenant.trial_ends is not None:
        banner = "trial"
    trial_days_left = None
    if tenant.trial_ends is not None:
        trial_days_left = max((tenant.trial_ends - timezone.localdate()).days, 0)
    # The module whose pages these are: its path is where the request's path starts (not merely somewhere
    # in it: /members/clients/… belongs to Members, not Clients).
    # The longest prefix wins: /till/reports/… belongs to Reports, not to the Till.
    matches = [m for m in MODULES if m.path_prefix and request.path.startswith(m.path_prefix)]
    nav_current = max(matches, key=lambda m: len(m.path_prefix or "")).slug if matches else None
    return {
        "salon": tenant,
        "nav_modules": MODULES,
        "nav_current": nav_current,
        "status_banner": banner,
        "trial_days_left": trial_days_left,
    }
