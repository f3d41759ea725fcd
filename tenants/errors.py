from __future__ import annotations

from enum import Enum

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from apps.core.errors import ServiceError


class TenantError(Enum):
    INVALID = "invalid"
    SUBDOMAIN_TAKEN = "subdomain_taken"
    SUBDOMAIN_RESERVED = "subdomain_reserved"
    PROVISIONING_FAILED = "provisioning_failed"


MESSAGES: dict[TenantError, Promise] = {
    TenantError.SUBDOMAIN_TAKEN: _("This subdomain is already taken."),
    TenantError.SUBDOMAIN_RESERVED: _("This subdomain is reserved. Please choose another."),
    TenantError.PROVISIONING_FAILED: _("We could not create your salon just now. Nothing was saved; please try again."),
}
STATUS: dict[TenantError, int] = {
    TenantError.SUBDOMAIN_TAKEN: 409,
    TenantError.SUBDOMAIN_RESERVED: 409,
    TenantError.PROVISIONING_FAILED: 503,
}
FIELDS: dict[TenantError, str] = {TenantError.SUBDOMAIN_TAKEN: "subdomain", TenantError.SUBDOMAIN_RESERVED: "subdomain"}


def tenant_error(code: TenantError) -> ServiceError:
    return ServiceError(code, MESSAGES[code], status=STATUS[code], field=FIELDS.get(code))
