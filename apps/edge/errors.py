"""Error codes of the edge app, each mapped once to an HTTP status, a translated message and a field."""

from __future__ import annotations

from enum import Enum

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from apps.core.errors import ServiceError


class EdgeError(Enum):
    INVALID = "invalid"
    INVALID_PAYLOAD = "invalid_payload"
    INVALID_KIND = "invalid_kind"
    INACTIVE_LOCATION = "inactive_location"
    INVALID_TRANSITION = "invalid_transition"
    UNKNOWN_SOURCE = "unknown_source"


MESSAGES: dict[EdgeError, Promise] = {
    EdgeError.INVALID: _("Enter a valid value."),
    EdgeError.INVALID_PAYLOAD: _("The content to print is not in a form the printer understands."),
    EdgeError.INVALID_KIND: _("This kind of print job does not exist."),
    EdgeError.INACTIVE_LOCATION: _("This location is closed."),
    EdgeError.INVALID_TRANSITION: _("The print job cannot go to this status from its current one."),
    EdgeError.UNKNOWN_SOURCE: _("Nothing of this kind can be printed."),
}

FIELDS: dict[EdgeError, str] = {
    EdgeError.INVALID_PAYLOAD: "payload",
    EdgeError.INVALID_KIND: "kind",
    EdgeError.INACTIVE_LOCATION: "location",
    EdgeError.UNKNOWN_SOURCE: "source",
}

# Everything else is 400. A status the job has moved past is a conflict with what happened meanwhile.
STATUSES: dict[EdgeError, int] = {EdgeError.INVALID_TRANSITION: 409}


def edge_error(
    code: EdgeError,
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
