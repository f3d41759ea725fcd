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
    PERIOD_BACKWARDS = "end_before_start"
    PERIOD_TOO_LONG = "range_too_long"
    PERMISSION_DENIED = "permission_denied"
    AMOUNT_INVALID = "invalid_amount"
    TEXT_TOO_LONG = "text_too_long"
    REQUIRED = "required"
    DATE_IN_FUTURE = "date_in_future"
    LOCATION_INACTIVE = "location_inactive"
    ATTACHMENT_TOO_LARGE = "attachment_too_large"
    ATTACHMENT_TYPE = "attachment_type_not_allowed"
    EXPENSE_CATEGORY_TAKEN = "expense_category_taken"
    EXPENSE_CATEGORY_INACTIVE = "expense_category_inactive"
    EXPENSE_REVERSED = "expense_already_reversed"
    EXPENSE_IS_REVERSAL = "expense_is_reversal"
    EXPENSE_UNCHANGED = "expense_unchanged"
    INVOICE_BILL_NOT_PAID = "invoice_bill_not_paid"
    INVOICE_AMOUNT_TOO_HIGH = "invoice_amount_too_high"
    INVOICE_TAX_ID_INVALID = "invoice_tax_id_invalid"
    INVOICE_DETAILS_REQUIRED = "invoice_details_required"
    INVOICE_EMAIL_INVALID = "invoice_email_invalid"
    INVOICE_NOT_OPEN = "invoice_not_open"
    INVOICE_NUMBER_TAKEN = "invoice_number_taken"


MESSAGES: dict[PosError, Promise] = {
    # general
    PosError.INVALID: _("Enter a valid value."),
    # bills and tenders
    # commission
    # receipts and cash sessions
    # reports, expenses and invoices
    PosError.PERIOD_BACKWARDS: _("The end of the period is before its start."),
    PosError.PERIOD_TOO_LONG: _("Report at most 366 days at a time."),
    PosError.PERMISSION_DENIED: _("You do not have permission to do this."),
    PosError.AMOUNT_INVALID: _("Enter an amount above zero (at most ¥100,000,000)."),
    PosError.TEXT_TOO_LONG: _("This text is too long."),
    PosError.REQUIRED: _("This field is required."),
    PosError.DATE_IN_FUTURE: _("The date cannot be in the future."),
    PosError.LOCATION_INACTIVE: _("This location is closed."),
    PosError.ATTACHMENT_TOO_LARGE: _("The file must be at most 10 MB."),
    PosError.ATTACHMENT_TYPE: _("Attach a PDF, JPEG, PNG or WebP file."),
    PosError.EXPENSE_CATEGORY_TAKEN: _("An expense category with this name already exists."),
    PosError.EXPENSE_CATEGORY_INACTIVE: _("This expense category is no longer in use."),
    PosError.EXPENSE_REVERSED: _("This expense was already removed or corrected."),
    PosError.EXPENSE_IS_REVERSAL: _("A reversal cannot be changed; record a new expense instead."),
    PosError.EXPENSE_UNCHANGED: _("Nothing was changed."),
    PosError.INVOICE_BILL_NOT_PAID: _("Only a paid bill can be invoiced."),
    PosError.INVOICE_AMOUNT_TOO_HIGH: _("The amount is more than what is left to invoice on this bill."),
    PosError.INVOICE_TAX_ID_INVALID: _(
        "Enter the 18-character unified social credit code (or an older 15- or 20-character tax number)."
    ),
    PosError.INVOICE_DETAILS_REQUIRED: _(
        "A special VAT invoice needs the buyer's tax ID, address and phone, and bank account."
    ),
    PosError.INVOICE_EMAIL_INVALID: _("Enter a valid e-mail address."),
    PosError.INVOICE_NOT_OPEN: _("This invoice request was already handled."),
    PosError.INVOICE_NUMBER_TAKEN: _("Another issued invoice already has this number."),
}

FIELDS: dict[PosError, str] = {
    # reports, expenses and invoices
    PosError.PERIOD_BACKWARDS: "date_to",
    PosError.PERIOD_TOO_LONG: "date_to",
    PosError.AMOUNT_INVALID: "amount",
    PosError.ATTACHMENT_TOO_LARGE: "attachment",
    PosError.ATTACHMENT_TYPE: "attachment",
    PosError.EXPENSE_CATEGORY_TAKEN: "name",
    PosError.EXPENSE_CATEGORY_INACTIVE: "category",
    PosError.LOCATION_INACTIVE: "location",
    PosError.INVOICE_AMOUNT_TOO_HIGH: "amount",
    PosError.INVOICE_TAX_ID_INVALID: "buyer_tax_id",
    PosError.INVOICE_EMAIL_INVALID: "email",
    PosError.INVOICE_NUMBER_TAKEN: "invoice_number",
}

# Everything else is 400.
STATUSES: dict[PosError, int] = {
    # reports, expenses and invoices
    PosError.PERMISSION_DENIED: 403,
    PosError.EXPENSE_REVERSED: 409,
    PosError.INVOICE_BILL_NOT_PAID: 409,
    PosError.INVOICE_NOT_OPEN: 409,
    PosError.INVOICE_NUMBER_TAKEN: 409,
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
