"""Error codes of scheduling, each mapped once to an HTTP status, a translated message and a field."""

from __future__ import annotations

from enum import Enum

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from apps.core.errors import ServiceError


class SchedulingError(Enum):
    # staff profiles
    NAME_REQUIRED = "name_required"
    TEXT_TOO_LONG = "text_too_long"
    DUPLICATE_GROUP = "duplicate_group"
    INVALID_PHOTO = "invalid_photo"
    INACTIVE_LEVEL = "inactive_level"
    INACTIVE_SERVICE = "inactive_service"
    INACTIVE_LOCATION = "inactive_location"
    HOME_OUTSIDE_LOCATIONS = "home_outside_locations"
    # rosters and resources
    INVALID = "invalid"
    END_BEFORE_START = "end_before_start"
    SHIFT_OVERLAP = "shift_overlap"
    UNKNOWN_STAFF = "unknown_staff"
    DUPLICATE_RESOURCE = "duplicate_resource"
    DUPLICATE_RESOURCE_TYPE = "duplicate_resource_type"
    INVALID_CAPACITY = "invalid_capacity"
    # availability and booking
    UNKNOWN_SERVICE = "unknown_service"
    SLOT_IN_PAST = "slot_in_past"
    OUTSIDE_SHIFT = "outside_shift"
    STAFF_ON_TIME_OFF = "staff_on_time_off"
    STAFF_LACKS_SKILL = "staff_lacks_skill"
    STAFF_BUSY = "staff_busy"
    RESOURCE_FULL = "resource_full"
    NO_STAFF_AVAILABLE = "no_staff_available"
    SERVICE_NOT_BOOKABLE_ONLINE = "service_not_bookable_online"
    CLIENT_BLOCKED = "client_blocked"
    TOO_SOON = "too_soon"
    TOO_FAR_AHEAD = "too_far_ahead"
    TOO_MANY_SERVICES = "too_many_services"
    RANGE_TOO_LONG = "range_too_long"
    INVALID_TRANSITION = "invalid_transition"
    CANCELLATION_WINDOW_CLOSED = "cancellation_window_closed"
    DEPOSIT_REQUIRED = "deposit_required"
    DEPOSIT_NOT_HELD = "deposit_not_held"
    DEPOSIT_TOO_LARGE = "deposit_too_large"
    # waitlist, walk-ins, rotation
    OFFER_EXPIRED = "offer_expired"
    OFFER_TAKEN = "offer_taken"
    NO_TECHNICIAN_FREE = "no_technician_free"
    NOT_WAITING = "not_waiting"
    ALREADY_WAITING = "already_waiting"
    SERVICES_REQUIRED = "services_required"


MESSAGES: dict[SchedulingError, Promise] = {
    # staff profiles
    SchedulingError.NAME_REQUIRED: _("Enter a name."),
    SchedulingError.TEXT_TOO_LONG: _("This text is too long."),
    SchedulingError.DUPLICATE_GROUP: _("A staff group with this name already exists."),
    SchedulingError.INVALID_PHOTO: _("This file is not an acceptable image."),
    SchedulingError.INACTIVE_LEVEL: _("This staff level is no longer in use."),
    SchedulingError.INACTIVE_SERVICE: _("A chosen service is no longer offered."),
    SchedulingError.INACTIVE_LOCATION: _("This location is closed."),
    SchedulingError.HOME_OUTSIDE_LOCATIONS: _("The home location must be one of the locations this person works in."),
    # rosters and resources
    SchedulingError.INVALID: _("Enter a valid value."),
    SchedulingError.END_BEFORE_START: _("The end must be after the start."),
    SchedulingError.SHIFT_OVERLAP: _("This overlaps another shift of the same person."),
    SchedulingError.UNKNOWN_STAFF: _("This staff member does not exist or no longer works here."),
    SchedulingError.DUPLICATE_RESOURCE: _("This location already has a resource with this name."),
    SchedulingError.DUPLICATE_RESOURCE_TYPE: _("A resource type with this name already exists."),
    SchedulingError.INVALID_CAPACITY: _("Capacity must be between 1 and 50."),
    # availability and booking
    SchedulingError.UNKNOWN_SERVICE: _("This service does not exist."),
    SchedulingError.SLOT_IN_PAST: _("This time has already passed."),
    SchedulingError.OUTSIDE_SHIFT: _("The technician is not working at this time."),
    SchedulingError.STAFF_ON_TIME_OFF: _("The technician is off at this time."),
    SchedulingError.STAFF_LACKS_SKILL: _("The technician does not perform this service."),
    SchedulingError.STAFF_BUSY: _("The technician is already booked at this time."),
    SchedulingError.RESOURCE_FULL: _("No room or resource this service needs is free at this time."),
    SchedulingError.NO_STAFF_AVAILABLE: _("Nobody who performs this service is free at this time."),
    SchedulingError.SERVICE_NOT_BOOKABLE_ONLINE: _("This service cannot be booked online; please call the salon."),
    SchedulingError.CLIENT_BLOCKED: _("Bookings for this client are not accepted; please speak to the manager."),
    SchedulingError.TOO_SOON: _("This time is too soon to book online."),
    SchedulingError.TOO_FAR_AHEAD: _("This date is too far ahead to book online."),
    SchedulingError.TOO_MANY_SERVICES: _("Book at most five services in one visit."),
    SchedulingError.RANGE_TOO_LONG: _("Search at most 31 days at a time."),
    SchedulingError.INVALID_TRANSITION: _("The appointment cannot go to this status from its current one."),
    SchedulingError.CANCELLATION_WINDOW_CLOSED: _(
        "It is too late to change this booking online; please call the salon."
    ),
    SchedulingError.DEPOSIT_REQUIRED: _("This booking needs a deposit."),
    SchedulingError.DEPOSIT_NOT_HELD: _("No deposit is held for this visit."),
    SchedulingError.DEPOSIT_TOO_LARGE: _("This is more than the deposit held for this visit."),
    # waitlist, walk-ins, rotation
    SchedulingError.OFFER_EXPIRED: _("This offer has expired."),
    SchedulingError.OFFER_TAKEN: _("Sorry, someone else took this slot first."),
    SchedulingError.NO_TECHNICIAN_FREE: _("No technician who performs these services is free now."),
    SchedulingError.NOT_WAITING: _("This client is no longer waiting."),
    SchedulingError.ALREADY_WAITING: _("This client is already on the waitlist for these services at this time."),
    SchedulingError.SERVICES_REQUIRED: _("Choose at least one service."),
}

FIELDS: dict[SchedulingError, str] = {
    SchedulingError.NAME_REQUIRED: "name",
    SchedulingError.DUPLICATE_GROUP: "name",
    SchedulingError.INVALID_PHOTO: "photo",
    SchedulingError.INACTIVE_LEVEL: "level",
    SchedulingError.INACTIVE_SERVICE: "services",
    SchedulingError.INACTIVE_LOCATION: "home_location",
    SchedulingError.HOME_OUTSIDE_LOCATIONS: "home_location",
    SchedulingError.END_BEFORE_START: "end",
    SchedulingError.UNKNOWN_STAFF: "staff",
    SchedulingError.DUPLICATE_RESOURCE: "name",
    SchedulingError.DUPLICATE_RESOURCE_TYPE: "name",
    SchedulingError.INVALID_CAPACITY: "capacity",
    SchedulingError.UNKNOWN_SERVICE: "service",
    SchedulingError.STAFF_LACKS_SKILL: "staff",
    SchedulingError.SERVICES_REQUIRED: "services",
}

# Everything else is 400. A conflict with another booking is 409 (SPEC §4).
STATUSES: dict[SchedulingError, int] = {
    SchedulingError.STAFF_BUSY: 409,
    SchedulingError.RESOURCE_FULL: 409,
    SchedulingError.OFFER_TAKEN: 409,
}


def scheduling_error(
    code: SchedulingError,
    *,
    field: str | None = None,
    message: str | Promise | None = None,
    extra: dict[str, object] | None = None,
) -> ServiceError:
    return ServiceError(
        code,
        message if message is not None else MESSAGES[code],
        status=STATUSES.get(code, 400),
        field=field or FIELDS.get(code),
        extra=extra,
    )
