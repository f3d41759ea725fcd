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
    COMMISSION_PERMISSION_DENIED = "commission_permission_denied"
    COMMISSION_BILL_NOT_PAID = "commission_bill_not_paid"
    COMMISSION_REFUND_NOT_DONE = "commission_refund_not_done"
    COMMISSION_SCOPE_INVALID = "commission_scope_invalid"
    COMMISSION_TARGET_REQUIRED = "commission_target_required"
    COMMISSION_METHOD_INVALID = "commission_method_invalid"
    COMMISSION_RATE_INVALID = "commission_rate_invalid"
    COMMISSION_AMOUNT_INVALID = "commission_amount_invalid"
    COMMISSION_TIERS_INVALID = "commission_tiers_invalid"
    COMMISSION_WINDOW_INVALID = "commission_window_invalid"
    COMMISSION_RULE_OVERLAP = "commission_rule_overlap"
    COMMISSION_TEXT_TOO_LONG = "commission_text_too_long"
    COMMISSION_PERIOD_INVALID = "commission_period_invalid"
    COMMISSION_PERIOD_TOO_LONG = "commission_period_too_long"
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
    REPORT_PERIOD_BACKWARDS = "end_before_start"
    REPORT_PERIOD_TOO_LONG = "range_too_long"
    ACCOUNTS_PERMISSION_DENIED = "accounts_permission_denied"
    ACCOUNTS_AMOUNT_INVALID = "accounts_invalid_amount"
    ACCOUNTS_TEXT_TOO_LONG = "accounts_text_too_long"
    ACCOUNTS_REQUIRED = "accounts_required"
    ACCOUNTS_DATE_IN_FUTURE = "accounts_date_in_future"
    ACCOUNTS_LOCATION_INACTIVE = "accounts_location_inactive"
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
    PosError.COMMISSION_PERMISSION_DENIED: _("You do not have permission to do this."),
    PosError.COMMISSION_BILL_NOT_PAID: _("Commission is recorded once the bill is paid."),
    PosError.COMMISSION_REFUND_NOT_DONE: _("Commission is given back once the refund has gone through."),
    PosError.COMMISSION_SCOPE_INVALID: _("Choose what the rule applies to."),
    PosError.COMMISSION_TARGET_REQUIRED: _("Choose the item, category or kind the rule applies to."),
    PosError.COMMISSION_METHOD_INVALID: _("Choose how the commission is worked out."),
    PosError.COMMISSION_RATE_INVALID: _("Enter a rate from 0 to 100 %."),
    PosError.COMMISSION_AMOUNT_INVALID: _("Enter an amount from ¥0 to ¥100,000,000."),
    PosError.COMMISSION_TIERS_INVALID: _(
        "Give up to ten tiers with different volumes; the first starts at ¥0 and each rate is 0 to 100 %."
    ),
    PosError.COMMISSION_WINDOW_INVALID: _("The end of validity cannot be before its start."),
    PosError.COMMISSION_RULE_OVERLAP: _(
        "Another active rule for the same item and staff level is valid on some of these days."
    ),
    PosError.COMMISSION_TEXT_TOO_LONG: _("This text is too long."),
    PosError.COMMISSION_PERIOD_INVALID: _("The end of the period cannot be before its start."),
    PosError.COMMISSION_PERIOD_TOO_LONG: _("Report at most 366 days at a time."),
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
    PosError.REPORT_PERIOD_BACKWARDS: _("The end of the period is before its start."),
    PosError.REPORT_PERIOD_TOO_LONG: _("Report at most 366 days at a time."),
    PosError.ACCOUNTS_PERMISSION_DENIED: _("You do not have permission to do this."),
    PosError.ACCOUNTS_AMOUNT_INVALID: _("Enter an amount above zero (at most ¥100,000,000)."),
    PosError.ACCOUNTS_TEXT_TOO_LONG: _("This text is too long."),
    PosError.ACCOUNTS_REQUIRED: _("This field is required."),
    PosError.ACCOUNTS_DATE_IN_FUTURE: _("The date cannot be in the future."),
    PosError.ACCOUNTS_LOCATION_INACTIVE: _("This location is closed."),
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
    # commission
    PosError.COMMISSION_SCOPE_INVALID: "scope",
    PosError.COMMISSION_METHOD_INVALID: "method",
    PosError.COMMISSION_RATE_INVALID: "rate_bp",
    PosError.COMMISSION_AMOUNT_INVALID: "fixed_amount",
    PosError.COMMISSION_TIERS_INVALID: "tiers",
    PosError.COMMISSION_WINDOW_INVALID: "valid_until",
    PosError.COMMISSION_PERIOD_INVALID: "to",
    PosError.COMMISSION_PERIOD_TOO_LONG: "to",
    # receipts and cash sessions
    PosError.INACTIVE_LOCATION: "location",
    PosError.AMOUNT_INVALID: "amount",
    PosError.REASON_REQUIRED: "reason",
    PosError.PAY_OUT_EXCEEDS_CASH: "amount",
    PosError.UNKNOWN_TENDER_METHOD: "counted",
    # reports, expenses and invoices
    PosError.REPORT_PERIOD_BACKWARDS: "date_to",
    PosError.REPORT_PERIOD_TOO_LONG: "date_to",
    PosError.ACCOUNTS_AMOUNT_INVALID: "amount",
    PosError.ATTACHMENT_TOO_LARGE: "attachment",
    PosError.ATTACHMENT_TYPE: "attachment",
    PosError.EXPENSE_CATEGORY_TAKEN: "name",
    PosError.EXPENSE_CATEGORY_INACTIVE: "category",
    PosError.ACCOUNTS_LOCATION_INACTIVE: "location",
    PosError.INVOICE_AMOUNT_TOO_HIGH: "amount",
    PosError.INVOICE_TAX_ID_INVALID: "buyer_tax_id",
    PosError.INVOICE_EMAIL_INVALID: "email",
    PosError.INVOICE_NUMBER_TAKEN: "invoice_number",
}

# Everything else is 400.
STATUSES: dict[PosError, int] = {
    # commission
    PosError.COMMISSION_PERMISSION_DENIED: 403,
    PosError.COMMISSION_BILL_NOT_PAID: 409,
    PosError.COMMISSION_REFUND_NOT_DONE: 409,
    PosError.COMMISSION_RULE_OVERLAP: 409,
    # receipts and cash sessions
    PosError.RECEIPT_NOT_AVAILABLE: 409,
    PosError.CASH_SESSION_ALREADY_OPEN: 409,
    PosError.CASH_SESSION_CLOSED: 409,
    PosError.CASH_SESSION_REQUIRED: 409,
    # reports, expenses and invoices
    PosError.ACCOUNTS_PERMISSION_DENIED: 403,
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
