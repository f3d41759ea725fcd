"""Signup input rules (BIL-2). Every message is translated and tied to its field."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from apps.core.errors import ServiceError
from apps.core.models import User
from apps.core.validators import normalize_phone
from tenants.errors import TenantError, tenant_error

SUBDOMAIN_RE = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")

# Hosts the platform uses itself or that people would mistake for ours.
RESERVED_SUBDOMAINS = frozenset(
    """
    www www1 www2 admin administrator api apis console static media assets cdn img images mail email smtp
    imap pop pop3 ftp sftp ssh app apps m mobile h5 book booking help support status blog docs doc dev test
    testing staging stage prod production billing pay payment payments checkout invoice invoices ns ns1 ns2
    dns mx root public tenant tenants template tenant-template login logout signin signup register auth oauth
    sso account accounts dashboard platform system security wechat weixin alipay stripe webhook webhooks
    edge agent device devices demo-admin internal intranet vpn proxy git svn files download downloads
    """.split()
)


@dataclass(frozen=True)
class SignupData:
    salon_name: str
    subdomain: str
    owner_name: str
    owner_email: str
    owner_phone: str
    password: str


def subdomain_format_problem(subdomain: str) -> str | None:
    """What is wrong with the shape of a (lower-cased) subdomain, or None."""
    if not subdomain:
        return _("This field is required.")
    if not 3 <= len(subdomain) <= 30:
        return _("The subdomain must be 3 to 30 characters long.")
    if not SUBDOMAIN_RE.match(subdomain):
        return _("Use only lower-case letters a–z, digits and hyphens, not starting or ending with a hyphen.")
    return None


def _required(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def signup_validate(raw: dict[str, object]) -> SignupData:
    """Return cleaned signup data or raise ServiceError with every field's errors at once.

    A reserved subdomain is a 409 (SPEC §4), but only when the rest of the form is valid,
    so a person fixing the form sees every field's problem together.
    """
    errors: dict[str, list[str]] = {}
    required_msg = _("This field is required.")

    salon_name = _required(raw.get("salon_name"))
    if not salon_name:
        errors["salon_name"] = [required_msg]
    elif len(salon_name) > 100:
        errors["salon_name"] = [_("At most 100 characters.")]

    subdomain = _required(raw.get("subdomain")).lower()
    subdomain_error = subdomain_format_problem(subdomain)
    if subdomain_error:
        errors["subdomain"] = [subdomain_error]

    owner_name = _required(raw.get("owner_name"))
    if not owner_name:
        errors["owner_name"] = [required_msg]
    elif len(owner_name) > 100:
        errors["owner_name"] = [_("At most 100 characters.")]

    owner_email = _required(raw.get("owner_email")).lower()
    if not owner_email:
        errors["owner_email"] = [required_msg]
    else:
        try:
            validate_email(owner_email)
        except ValidationError:
            errors["owner_email"] = [_("Enter a valid e-mail address.")]

    owner_phone = _required(raw.get("owner_phone"))
    if not owner_phone:
        errors["owner_phone"] = [required_msg]
    else:
        try:
            owner_phone = normalize_phone(owner_phone)
        except ValidationError as exc:
            errors["owner_phone"] = list(exc.messages)

    password = raw.get("password") if isinstance(raw.get("password"), str) else ""
    assert isinstance(password, str)
    if not password:
        errors["password"] = [required_msg]
    else:
        probe = User(username=owner_email, name=owner_name, email=owner_email, phone=owner_phone)
        try:
            password_validation.validate_password(password, user=probe)
        except ValidationError as exc:
            errors["password"] = list(exc.messages)

    if errors:
        raise ServiceError(TenantError.INVALID, next(iter(errors.values()))[0], errors=errors)
    if subdomain in RESERVED_SUBDOMAINS:
        raise tenant_error(TenantError.SUBDOMAIN_RESERVED)
    return SignupData(salon_name, subdomain, owner_name, owner_email, owner_phone, password)
