"""Reads of scheduling, one module per topic. Import from here."""

from apps.scheduling.selectors.profiles import (
    staff_group_list,
    staff_profile_of,
    staff_with_profiles,
)

__all__ = [
    "staff_group_list",
    "staff_profile_of",
    "staff_with_profiles",
]
