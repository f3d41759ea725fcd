"""Roles and the permission matrix (SEC-1).

A role is a Django group of the same name in each salon's schema; its
permissions are this matrix, written to the groups by ``roles_sync``.
docs/permissions.md renders the same matrix for people.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    MANAGER = "manager", _("Manager")
    FRONT_DESK = "front_desk", _("Front desk")
    TECHNICIAN = "technician", _("Technician")
    ACCOUNTANT = "accountant", _("Accountant")


# codename -> human description. They live on core.User's Meta so they exist in every schema.
PERMISSIONS: dict[str, str] = {
    "manage_settings": "Edit the salon profile and locations",
    "manage_staff": "Create, edit and deactivate staff; assign roles",
    "manage_catalog": "Edit services, products, packages and prices",
    "manage_clients": "Create, edit, import and merge clients",
    "view_client_contact": "See clients' full phone and ID numbers (others see them masked)",
    "book_appointments": "Book, move and cancel any appointment",
    "view_own_schedule": "See one's own schedule and clock services on and off",
    "take_payments": "Open bills, take payments, sell top-ups",
    "issue_refunds": "Refund and void bills",
    "override_prices": "Change a price at the till",
    "adjust_balances": "Adjust stored value, points and course cards by hand",
    "view_reports": "See sales, booking and staff reports",
    "export_data": "Export client and sales data",
    "manage_expenses": "Record expenses and invoices",
    "manage_campaigns": "Create segments, campaigns and automations",
    "manage_devices": "Pair and revoke edge devices (printers, card readers)",
    "view_audit_log": "Read the audit log",
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
