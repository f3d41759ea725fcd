"""Reads of scheduling, shaped for lists (a fixed number of queries whatever the page size)."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from apps.core.models import User
from apps.scheduling.models import StaffGroup, StaffProfile


def staff_with_profiles(*, include_inactive: bool = True) -> QuerySet[User]:
    """Staff with their profile, level, group, home location, skills and locations loaded."""
    staff = (
        User.objects.select_related(
            "staff_profile", "staff_profile__level", "staff_profile__group", "staff_profile__home_location"
        )
        .prefetch_related("locations", "staff_profile__skills")
        .order_by("-is_active", "name", "pk")
    )
    return staff if include_inactive else staff.filter(is_active=True)


def staff_profile_of(user: User) -> StaffProfile | None:
    return (
        StaffProfile.objects.select_related("level", "group", "home_location")
        .prefetch_related("skills")
        .filter(user=user)
        .first()
    )


def staff_group_list() -> QuerySet[StaffGroup]:
    return StaffGroup.objects.annotate(member_count=Count("members")).order_by("name", "pk")
