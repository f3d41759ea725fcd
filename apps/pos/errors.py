"""Error codes of the till, each mapped once to an HTTP status, a translated message and a field.

Each topic keeps its codes in its own section of the enum and of the maps below."""

from __future__ import annotations

from enum import Enum

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from apps.core.errors import ServiceError


class PosError(Enum):
    # general
    INVALID = "invalid"
    # bills and tenders
    # commission
    # receipts and cash sessions
    # reports, expenses and invoices


MESSAGES: dict[PosError, Promise] = {
    # general
    PosError.INVALID: _("Enter a valid value."),
    # bills and tenders
    # commission
    # receipts and cash sessions
    # reports, expenses and invoices
}

FIELDS: dict[PosError, str] = {}

# Everything else is 400.
STATUSES: dict[PosError, int] = {}


def pos_error(
    code: PosError,
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
