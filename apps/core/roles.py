"""Roles and the permission matrix (SEC-1).

A role is a Django group of the same name in each salon's schema; its
permissions are this matrix, written to the groups by ``roles_sync``.
docs/permissions.md renders the same matrix for people.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    MANAGER = "manager", _("Manager")
    FRONT_DESK = "front_desk", _("Front desk")
    TECHNICIAN = "technician", _("Technician")
    ACCOUNTANT = "accountant", _("Accountant")


# codename -> description (English; templates translate it). They live on core.User's Meta so they exist
# in every schema.
PERMISSIONS: dict[str, str] = {
    "manage_settings": gettext_noop("Edit the salon profile and locations"),
    "manage_staff": gettext_noop("Create, edit and deactivate staff; assign roles"),
    "manage_catalog": gettext_noop("Edit services, products, packages and prices"),
    "manage_clients": gettext_noop("Create, edit, import and merge clients"),
    "view_client_contact": gettext_noop("See clients' full phone and ID numbers (others see them masked)"),
    "book_appointments": gettext_noop("Book, move and cancel any appointment"),
    "view_own_schedule": gettext_noop("See one's own schedule and clock services on and off"),
    "manage_schedule": gettext_noop("Edit rosters, time off, rooms and resources, and booking settings"),
    "manage_inventory": gettext_noop("Receive stock, count, adjust and transfer stock; purchase orders"),
    "take_payments": gettext_noop("Open bills, take payments, sell top-ups"),
    "issue_refunds": gettext_noop("Refund and void bills"),
    "override_prices": gettext_noop("Change a price at the till"),
    "adjust_balances": gettext_noop("Adjust stored value, points and course cards by hand"),
    "manage_loyalty": gettext_noop("Set up top-up rules, tiers, points, coupons and member cards"),
    "view_reports": gettext_noop("See sales, booking and staff reports"),
    "export_data": gettext_noop("Export client and sales data"),
    "manage_expenses": gettext_noop("Record expenses and invoices"),
    "manage_campaigns": gettext_noop("Create segments, campaigns and automations"),
    "manage_devices": gettext_noop("Pair and revoke edge devices (printers, card readers)"),
    "view_audit_log": gettext_noop("Read the audit log"),
}

_ALL = set(PERMISSIONS)

MATRIX: dict[str, set[str]] = {
    Role.OWNER: _ALL,
    Role.MANAGER: _ALL - {"manage_settings", "export_data", "view_audit_log"},
    Role.FRONT_DESK: {
        "manage_clients",
        "view_client_contact",
        "book_appointments",
        "view_own_schedule",
        "take_payments",
    },
    Role.TECHNICIAN: {"view_own_schedule"},
    Role.ACCOUNTANT: {"view_reports", "export_data", "manage_expenses", "view_audit_log"},
}

# Which roles a role may hand out: nobody but an owner creates another owner.
ASSIGNABLE: dict[str, set[str]] = {
    Role.OWNER: {r.value for r in Role},
    Role.MANAGER: {Role.MANAGER, Role.FRONT_DESK, Role.TECHNICIAN, Role.ACCOUNTANT},
}


def perm(codename: str) -> str:
    """Full permission name for ``user.has_perm``."""
    if codename not in PERMISSIONS:
        raise KeyError(codename)
    return f"core.{codename}"
