"""Error codes of scheduling, each mapped once to an HTTP status, a translated message and a field."""

from __future__ import annotations

from enum import Enum

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from apps.core.errors import ServiceError


class SchedulingError(Enum):
    NAME_REQUIRED = "name_required"
    TEXT_TOO_LONG = "text_too_long"
    DUPLICATE_GROUP = "duplicate_group"
    INVALID_PHOTO = "invalid_photo"
    INACTIVE_LEVEL = "inactive_level"
    INACTIVE_SERVICE = "inactive_service"
    INACTIVE_LOCATION = "inactive_location"
    HOME_OUTSIDE_LOCATIONS = "home_outside_locations"


MESSAGES: dict[SchedulingError, Promise] = {
    SchedulingError.NAME_REQUIRED: _("Enter a name."),
    SchedulingError.TEXT_TOO_LONG: _("This text is too long."),
    SchedulingError.DUPLICATE_GROUP: _("A staff group with this name already exists."),
    SchedulingError.INVALID_PHOTO: _("This file is not an acceptable image."),
    SchedulingError.INACTIVE_LEVEL: _("This staff level is no longer in use."),
    SchedulingError.INACTIVE_SERVICE: _("A chosen service is no longer offered."),
    SchedulingError.INACTIVE_LOCATION: _("This location is closed."),
    SchedulingError.HOME_OUTSIDE_LOCATIONS: _("The home location must be one of the locations this person works in."),
}

FIELDS: dict[SchedulingError, str] = {
    SchedulingError.NAME_REQUIRED: "name",
    SchedulingError.DUPLICATE_GROUP: "name",
    SchedulingError.INVALID_PHOTO: "photo",
    SchedulingError.INACTIVE_LEVEL: "level",
    SchedulingError.INACTIVE_SERVICE: "services",
    SchedulingError.INACTIVE_LOCATION: "home_location",
    SchedulingError.HOME_OUTSIDE_LOCATIONS: "home_location",
}


def scheduling_error(
    code: SchedulingError, *, field: str | None = None, message: str | Promise | None = None
) -> ServiceError:
    return ServiceError(
        code, message if message is not None else MESSAGES[code], status=400, field=field or FIELDS.get(code)
    )
