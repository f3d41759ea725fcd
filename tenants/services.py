"""Writes on salons: signup, status changes, profile. The rules of BIL-2 and the status rules live here."""

from __future__ import annotations

import datetime as dt
import logging
import time
import zoneinfo
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.files.uploadedfile import UploadedFile
from django.db import DatabaseError, IntegrityError, transaction
from django.http.request import split_domain_port
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tenants.utils import schema_context

from apps.core import services as core_services
from apps.core.errors import ServiceError
from apps.core.models import User
from apps.core.roles import Role
from tenants import provisioning
from tenants.db import tenant_connection
from tenants.errors import TenantError, tenant_error
from tenants.models import Domain, Salon, SalonStatus
from tenants.validation import SignupData, signup_validate

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SignupResult:
    salon: Salon
    owner_id: int
    provisioned_by: str  # "pool" or "clone"
    seconds: float


def salon_domain(subdomain: str) -> str:
    return f"{subdomain}.{settings.PLATFORM_DOMAIN}"


def port_from_host(host: str) -> int | None:
    """The port a visitor typed (``localhost:8000`` → 8000), so links to the salon keep it."""
    _domain, port = split_domain_port(host)
    return int(port) if port.isdigit() else None


def salon_url(salon: Salon, *, scheme: str = "http", port: int | None = None) -> str:
    port_part = f":{port}" if port and port not in (80, 443) else ""
    return f"{scheme}://{salon_domain(salon.subdomain)}{port_part}/"


def salon_signup(*, raw: dict[str, Any], language: str = "zh-hans") -> SignupResult:
    """Create a ready salon: schema, domain, owner (all roles' groups), default location, 14-day trial.

    All or nothing: one transaction covers the schema (pool claim or clone), the
    public rows and the rows inside the new schema.
    """
    started = time.perf_counter()
    data = signup_validate(raw)
    if Salon.objects.filter(subdomain__iexact=data.subdomain).exists():
        raise tenant_error(TenantError.SUBDOMAIN_TAKEN)
    # Hash outside the transaction: it is the slowest step and holds no lock.
    password_hash = make_password(data.password)
    try:
        with transaction.atomic():
            schema_name = provisioning.pool_claim()
            provisioned_by = "pool"
            if schema_name is None:
                schema_name = provisioning.new_schema_name()
                provisioning.schema_clone_from_template(schema_name)
                provisioned_by = "clone"
            salon, owner = _salon_create_rows(data, schema_name, password_hash, language)
    except IntegrityError as exc:
        if "salon_subdomain_unique_ci" in str(exc) or "tenants_domain_domain_key" in str(exc):
            raise tenant_error(TenantError.SUBDOMAIN_TAKEN) from exc
        logger.exception("signup failed")
        raise tenant_error(TenantError.PROVISIONING_FAILED) from exc
    except DatabaseError as exc:  # the database went away mid-signup: nothing was committed
        logger.exception("signup failed")
        raise tenant_error(TenantError.PROVISIONING_FAILED) from exc
    finally:
        tenant_connection.set_schema_to_public()
    seconds = time.perf_counter() - started
    transaction.on_commit(_queue_pool_refill)
    logger.info(
        "salon signed up", extra={"salon": salon.subdomain, "via": provisioned_by, "seconds": round(seconds, 3)}
    )
    return SignupResult(salon=salon, owner_id=owner.pk, provisioned_by=provisioned_by, seconds=seconds)


def _salon_create_rows(data: SignupData, schema_name: str, password_hash: str, language: str) -> tuple[Salon, User]:
    today = timezone.localdate()
    salon = Salon.objects.create(
        schema_name=schema_name,
        name=data.salon_name,
        subdomain=data.subdomain,
        status=SalonStatus.TRIAL,
        trial_ends=today + dt.timedelta(days=settings.SALON_TRIAL_DAYS),
        owner_email=data.owner_email,
        owner_phone=data.owner_phone,
        status_changed_at=timezone.now(),
    )
    Domain.objects.create(domain=salon_domain(data.subdomain), tenant=salon, is_primary=True)
    with schema_context(schema_name):
        core_services.roles_sync()
        location = core_services.location_create(name=_("Main store"))
        owner = core_services.staff_create(
            name=data.owner_name,
            role=Role.OWNER,
            email=data.owner_email,
            phone=data.owner_phone,
            username=data.owner_email,
            password_hash=password_hash,
            locations=[location],
            language=language,
        )
        core_services.audit_record(action="salon.created", actor=owner, data={"subdomain": data.subdomain})
    return salon, owner


def _queue_pool_refill() -> None:
    if settings.SALON_POOL_SIZE <= 0:
        return
    from tenants.tasks import pool_refill

    try:
        pool_refill.delay()
    except Exception:  # the broker being down must not fail a signup; beat refills later
        logger.exception("could not queue pool refill")


@transaction.atomic
def salon_set_status(*, salon: Salon, status: str, reason: str = "", actor: User | None = None) -> Salon:
    """Move a salon to another status. Only access changes: no salon data is ever deleted here."""
    if status not in SalonStatus.values:
        raise ServiceError(TenantError.INVALID, _("Unknown status."), field="status")
    salon = Salon.objects.select_for_update().get(pk=salon.pk)
    previous = salon.status
    if previous == status and salon.status_reason == reason:
        return salon
    salon.status = status
    salon.status_reason = reason.strip()[:300]
    salon.status_changed_at = timezone.now()
    salon.save(update_fields=["status", "status_reason", "status_changed_at"])
    # Recorded in the public schema's audit log, where operators act.
    with schema_context("public"):
        core_services.audit_record(
            action="salon.status_changed",
            actor=actor,
            target=salon,
            data={"from": previous, "to": status, "reason": salon.status_reason},
        )
    return salon


def salon_suspend(*, salon: Salon, reason: str, actor: User | None = None) -> Salon:
    if not reason.strip():
        raise ServiceError(TenantError.INVALID, _("Give a reason for the suspension."), field="reason")
    return salon_set_status(salon=salon, status=SalonStatus.SUSPENDED, reason=reason, actor=actor)


def salon_resume(*, salon: Salon, actor: User | None = None) -> Salon:
    """Lift a suspension: back to trial while the trial lasts, otherwise active."""
    trial_left = (
        salon.trial_ends is not None and salon.trial_ends >= timezone.localdate() and salon.plan_code == "trial"
    )
    status = SalonStatus.TRIAL if trial_left else SalonStatus.ACTIVE
    return salon_set_status(salon=salon, status=status, reason="", actor=actor)


ALLOWED_CURRENCIES = ("CNY", "HKD", "TWD", "MOP", "SGD", "MYR", "JPY", "KRW", "USD", "EUR", "GBP", "AUD", "CAD")


@transaction.atomic
def salon_profile_update(
    *,
    salon: Salon,
    acting_user: User,
    name: str | None = None,
    timezone_name: str | None = None,
    currency: str | None = None,
    logo: UploadedFile | None = None,
    remove_logo: bool = False,
) -> Salon:
    """Edit the salon's name, time zone, currency and logo (owner only, audited in the salon)."""
    errors: dict[str, list[str]] = {}
    salon = Salon.objects.select_for_update().get(pk=salon.pk)
    changed: list[str] = []
    if name is not None:
        name = name.strip()
        if not name or len(name) > 100:
            errors["name"] = [_("Enter a name of 1 to 100 characters.")]
        elif name != salon.name:
            salon.name = name
            changed.append("name")
    if timezone_name is not None and timezone_name != salon.timezone:
        if timezone_name not in zoneinfo.available_timezones():
            errors["timezone"] = [_("Unknown time zone.")]
        else:
            salon.timezone = timezone_name
            changed.append("timezone")
    if currency is not None and currency != salon.currency:
        if currency not in ALLOWED_CURRENCIES:
            errors["currency"] = [_("Unsupported currency.")]
        else:
            salon.currency = currency
            changed.append("currency")
    if logo is not None:
        logo_error = _logo_problem(logo)
        if logo_error:
            errors["logo"] = [logo_error]
    if errors:
        raise ServiceError(TenantError.INVALID, next(iter(errors.values()))[0], errors=errors)
    if logo is not None:
        salon.logo.save(f"{salon.schema_name}/{logo.name}", logo, save=False)
        changed.append("logo")
    elif remove_logo and salon.logo:
        salon.logo.delete(save=False)
        changed.append("logo")
    if changed:
        salon.save(update_fields=changed)
        core_services.audit_record(
            action="salon.profile_updated", actor=acting_user, target=salon, data={"changed": changed}
        )
    return salon


MAX_LOGO_BYTES = 2 * 1024 * 1024


def _logo_problem(upload: UploadedFile) -> str | None:
    from PIL import Image, UnidentifiedImageError

    if upload.size is None or upload.size > MAX_LOGO_BYTES:
        return _("The logo must be an image of at most 2 MB.")
    try:
        upload.seek(0)
        with Image.open(upload) as image:
            image.verify()
            if image.format not in ("PNG", "JPEG", "WEBP", "GIF"):
                return _("The logo must be a PNG, JPEG, WebP or GIF image.")
    except (UnidentifiedImageError, OSError, ValueError):
        return _("This file is not an image.")
    finally:
        upload.seek(0)
    return None
