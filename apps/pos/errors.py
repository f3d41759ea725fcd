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
    RECEIPT_NOT_AVAILABLE = "receipt_not_available"
    NO_RECIPIENT = "no_recipient"
    CASH_SESSION_ALREADY_OPEN = "cash_session_already_open"
    CASH_SESSION_CLOSED = "cash_session_closed"
    CASH_SESSION_REQUIRED = "cash_session_required"
    INACTIVE_LOCATION = "inactive_location"
    AMOUNT_INVALID = "amount_invalid"
    REASON_REQUIRED = "reason_required"
    PAY_OUT_EXCEEDS_CASH = "pay_out_exceeds_cash"
    UNKNOWN_TENDER_METHOD = "unknown_tender_method"
    # reports, expenses and invoices


MESSAGES: dict[PosError, Promise] = {
    # general
    PosError.INVALID: _("Enter a valid value."),
    # bills and tenders
    # commission
    # receipts and cash sessions
    PosError.RECEIPT_NOT_AVAILABLE: _("A receipt is available once the bill is paid."),
    PosError.NO_RECIPIENT: _("This bill's client has no WeChat, mobile phone or e-mail to send a receipt to."),
    PosError.CASH_SESSION_ALREADY_OPEN: _("A cash session is already open at this location."),
    PosError.CASH_SESSION_CLOSED: _("This cash session is closed."),
    PosError.CASH_SESSION_REQUIRED: _("Open a cash session at this location before taking cash."),
    PosError.INACTIVE_LOCATION: _("This location is closed."),
    PosError.AMOUNT_INVALID: _("Enter an amount from ¥0.01 to ¥100,000,000.00."),
    PosError.REASON_REQUIRED: _("Say what the cash is for (at most 200 characters)."),
    PosError.PAY_OUT_EXCEEDS_CASH: _("There is not that much cash in the drawer."),
    PosError.UNKNOWN_TENDER_METHOD: _("This payment method does not exist."),
    # reports, expenses and invoices
}

FIELDS: dict[PosError, str] = {
    # receipts and cash sessions
    PosError.INACTIVE_LOCATION: "location",
    PosError.AMOUNT_INVALID: "amount",
    PosError.REASON_REQUIRED: "reason",
    PosError.PAY_OUT_EXCEEDS_CASH: "amount",
    PosError.UNKNOWN_TENDER_METHOD: "counted",
}

# Everything else is 400.
STATUSES: dict[PosError, int] = {
    # receipts and cash sessions
    PosError.RECEIPT_NOT_AVAILABLE: 409,
    PosError.CASH_SESSION_ALREADY_OPEN: 409,
    PosError.CASH_SESSION_CLOSED: 409,
    PosError.CASH_SESSION_REQUIRED: 409,
}


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
