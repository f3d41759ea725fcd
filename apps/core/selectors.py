"""Reads of the core app."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet

from apps.core.models import AuditEntry, Location, User


def staff_list(*, include_inactive: bool = True) -> QuerySet[User]:
    qs = User.objects.prefetch_related("locations").order_by("-is_active", "name", "pk")
    return qs if include_inactive else qs.filter(is_active=True)


def location_list() -> QuerySet[Location]:
    return Location.objects.annotate(staff_count=Count("staff", filter=Q(staff__is_active=True))).order_by("pk")


@dataclass(frozen=True)
class DashboardFigures:
    active_staff: int
    staff_by_role: dict[str, int]
    active_locations: int


def dashboard_figures() -> DashboardFigures:
    by_role = dict(
        User.objects.filter(is_active=True).values_list("role").annotate(n=Count("pk")).values_list("role", "n")
    )
    return DashboardFigures(
        active_staff=sum(by_role.values()),
        staff_by_role=by_role,
        active_locations=Location.objects.filter(is_active=True).count(),
    )


def audit_recent(*, limit: int = 20) -> QuerySet[AuditEntry]:
    return AuditEntry.objects.select_related("actor").order_by("-id")[:limit]
