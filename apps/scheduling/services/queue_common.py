"""Checks shared by the waitlist and the walk-in queue: the services asked for (in visit order) and the
technician asked for."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence

from apps.catalog.models import Service
from apps.core.models import Location, User
from apps.scheduling.errors import SchedulingError, scheduling_error
from apps.scheduling.models import StaffProfile

MAX_SERVICES = 5


def services_checked(services: Iterable[Service | int]) -> list[Service]:
    """The services of a visit in the order given: at least one, at most five, each one offered."""
    ids = [s.pk if isinstance(s, Service) else int(s) for s in services]
    if not ids:
        raise scheduling_error(SchedulingError.SERVICES_REQUIRED)
    if len(ids) > MAX_SERVICES:
        raise scheduling_error(SchedulingError.TOO_MANY_SERVICES, field="services")
    found = Service.objects.in_bulk(ids)
    if len(found) != len(set(ids)):
        raise scheduling_error(SchedulingError.UNKNOWN_SERVICE, field="services")
    if not all(found[i].is_active for i in ids):
        raise scheduling_error(SchedulingError.INACTIVE_SERVICE)
    return [found[i] for i in ids]


def services_of(ids: Sequence[int]) -> list[Service]:
    """Stored service ids back to services, in their order (one query)."""
    found = Service.objects.in_bulk(list(ids))
    return [found[i] for i in ids if i in found]


def location_checked(location: Location) -> Location:
    if not location.is_active:
        raise scheduling_error(SchedulingError.INACTIVE_LOCATION, field="location")
    return location


def staff_checked(staff: User, services: Sequence[Service]) -> User:
    """An active staff member who performs every one of ``services``."""
    if not staff.is_active:
        raise scheduling_error(SchedulingError.UNKNOWN_STAFF)
    skills = set(
        StaffProfile.skills.through.objects.filter(
            staffprofile__user_id=staff.pk, service_id__in=[s.pk for s in services]
        ).values_list("service_id", flat=True)
    )
    if any(s.pk not in skills for s in services):
        raise scheduling_error(SchedulingError.STAFF_LACKS_SKILL)
    return staff


def busy_minutes(services: Sequence[Service]) -> datetime.timedelta:
    """How long one technician doing these services one after another is taken: each service's length
    and its buffer."""
    return datetime.timedelta(minutes=sum(s.duration_minutes + s.buffer_minutes for s in services))
