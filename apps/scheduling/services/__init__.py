"""Writes of scheduling, one module per topic; every rule lives in them. Import from here."""

from apps.scheduling.services.profiles import (
    staff_group_create,
    staff_group_delete,
    staff_group_update,
    staff_member_create,
    staff_member_update,
    staff_profile_update,
)

__all__ = [
    "staff_group_create",
    "staff_group_delete",
    "staff_group_update",
    "staff_member_create",
    "staff_member_update",
    "staff_profile_update",
]
