"""Reads on salons."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from tenants.errors import MESSAGES, TenantError
from tenants.models import Salon
from tenants.validation import RESERVED_SUBDOMAINS, subdomain_format_problem


@dataclass(frozen=True)
class SubdomainAvailability:
    subdomain: str
    available: bool
    reason: str


def subdomain_availability(raw: str) -> SubdomainAvailability:
    """Whether a signup could take this subdomain now, by the same rules as signup itself.

    Advisory only: signup checks again (and the database constraint decides a race).
    """
    subdomain = (raw or "").strip().lower()[:100]
    problem = subdomain_format_problem(subdomain)
    if problem is None and subdomain in RESERVED_SUBDOMAINS:
        problem = str(MESSAGES[TenantError.SUBDOMAIN_RESERVED])
    if problem is None and Salon.objects.filter(subdomain__iexact=subdomain).exists():
        problem = str(MESSAGES[TenantError.SUBDOMAIN_TAKEN])
    return SubdomainAvailability(subdomain, problem is None, problem or _("This subdomain is available."))
