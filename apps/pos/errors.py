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
    PERMISSION_DENIED = "permission_denied"
    TEXT_TOO_LONG = "text_too_long"
    KEY_INVALID = "idempotency_key_invalid"
    KEY_REUSED = "idempotency_key_reused"
    NO_LOCATION = "no_location"
    CLIENT_INACTIVE = "client_inactive"
    CLIENT_MISMATCH = "client_mismatch"
    APPOINTMENT_NOT_DONE = "appointment_not_done"
    INVALID_BILL_KIND = "invalid_bill_kind"
    ROOM_ONLY_ON_ROOM_BILL = "room_only_on_room_bill"
    ROOM_REQUIRED = "room_required"
    ROOM_OTHER_LOCATION = "room_other_location"
    INVALID_GUEST_COUNT = "invalid_guest_count"
    BILL_NOT_OPEN = "bill_not_open"
    BILL_ALREADY_PAID = "bill_already_paid"
    BILL_HAS_PAYMENTS = "bill_has_payments"
    BILL_EMPTY = "bill_empty"
    TOO_MANY_LINES = "too_many_lines"
    LINE_NOT_ON_BILL = "line_not_on_bill"
    ITEM_REQUIRED = "item_required"
    ITEM_INACTIVE = "item_inactive"
    INVALID_QUANTITY = "invalid_quantity"
    ONE_AT_A_TIME = "one_at_a_time"
    INVALID_AMOUNT = "invalid_amount"
    INVALID_PRICE = "invalid_price"
    PRICE_REASON_REQUIRED = "price_reason_required"
    PRICE_OVERRIDE_DENIED = "price_override_denied"
    HOLDER_REQUIRED = "holder_required"
    GUEST_ONLY_ON_GROUP_BILL = "guest_only_on_group_bill"
    STAFF_INACTIVE = "staff_inactive"
    STAFF_DUPLICATE = "staff_duplicate"
    STAFF_SHARES_SUM = "staff_shares_sum"
    COUPON_NEEDS_CLIENT = "coupon_needs_client"
    COUPON_NOT_CLIENTS = "coupon_not_clients"
    COUPON_ALREADY_APPLIED = "coupon_already_applied"
    COUPON_NOT_APPLIED = "coupon_not_applied"
    COUPON_NOT_USABLE = "coupon_not_usable"
    COUPON_NOT_TOGETHER = "coupon_not_together"
    TENDERS_REQUIRED = "tenders_required"
    TOO_MANY_TENDERS = "too_many_tenders"
    TENDER_INVALID_METHOD = "tender_invalid_method"
    TENDER_NOT_ENABLED = "tender_not_enabled"
    TENDER_NOT_CONNECTED = "tender_not_connected"
    DEPOSIT_NOT_APPLIED = "deposit_not_applied"
    GATEWAY_ONE_PER_PAYMENT = "gateway_one_per_payment"
    GATEWAY_CODE_REQUIRED = "gateway_code_required"
    GATEWAY_CODE_INVALID = "gateway_code_invalid"
    GATEWAY_ACCOUNT_NOT_READY = "gateway_account_not_ready"
    GATEWAY_PAYMENT_IN_PROGRESS = "gateway_payment_in_progress"
    GATEWAY_PAYMENT_FAILED = "gateway_payment_failed"
    TENDER_INVALID_AMOUNT = "tender_invalid_amount"
    TENDERS_DO_NOT_SUM = "tenders_do_not_sum"
    CASH_TENDERED_SHORT = "cash_tendered_short"
    TENDER_NEEDS_CLIENT = "tender_needs_client"
    MEMBER_TENDERS_OVER_TOP_UP = "member_tenders_over_top_up"
    POINTS_AMOUNT_MISMATCH = "points_amount_mismatch"
    COURSE_LINE_REQUIRED = "course_line_required"
    COURSE_CARD_OTHER_CLIENT = "course_card_other_client"
    COURSE_LINE_COVERED = "course_line_covered"
    TENDER_NOT_PENDING = "tender_not_pending"
    REASON_REQUIRED = "reason_required"
    REFUND_NOT_PAID = "refund_not_paid"
    REFUND_LINES_OR_AMOUNT = "refund_lines_or_amount"
    REFUND_TOO_LARGE = "refund_too_large"
    REFUND_TOP_UP = "refund_top_up"
    REFUND_COURSE_CARD_USED = "refund_course_card_used"
    REFUND_PACKAGE_WHOLE = "refund_package_whole"
    REFUND_NOT_ALLOCATABLE = "refund_not_allocatable"
    REFUND_PART_NOT_FAILED = "refund_part_not_failed"
    TOP_UP_METHOD = "top_up_method"
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
    CASH_REASON_REQUIRED = "cash_reason_required"
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
    PosError.PERMISSION_DENIED: _("You do not have permission to do this."),
    PosError.TEXT_TOO_LONG: _("This text is too long."),
    PosError.KEY_INVALID: _("The idempotency key must be 1 to 60 characters."),
    PosError.KEY_REUSED: _("This idempotency key was already used for a different payment of this bill."),
    PosError.NO_LOCATION: _("Choose an active location for the bill."),
    PosError.CLIENT_INACTIVE: _("This client record is no longer active."),
    PosError.CLIENT_MISMATCH: _("The appointment belongs to another client."),
    PosError.APPOINTMENT_NOT_DONE: _("Only a finished appointment (下钟) can be checked out."),
    PosError.INVALID_BILL_KIND: _("Choose a standard, group or room bill."),
    PosError.ROOM_ONLY_ON_ROOM_BILL: _("Only a room bill names a room."),
    PosError.ROOM_REQUIRED: _("Choose the room of this room bill."),
    PosError.ROOM_OTHER_LOCATION: _("Choose a room at the bill's location."),
    PosError.INVALID_GUEST_COUNT: _("Enter a number of guests from 1 to 50."),
    PosError.BILL_NOT_OPEN: _("This bill is no longer open."),
    PosError.BILL_ALREADY_PAID: _("This bill has already been paid."),
    PosError.BILL_HAS_PAYMENTS: _("Part of this bill is already paid; it can no longer be changed."),
    PosError.BILL_EMPTY: _("Add at least one line before taking payment."),
    PosError.TOO_MANY_LINES: _("A bill holds at most 200 lines."),
    PosError.LINE_NOT_ON_BILL: _("This line is not on this bill."),
    PosError.ITEM_REQUIRED: _("Choose a service, product, package or course card, or enter a top-up."),
    PosError.ITEM_INACTIVE: _("This item is no longer on sale."),
    PosError.INVALID_QUANTITY: _("Enter a quantity from 1 to 999."),
    PosError.ONE_AT_A_TIME: _("Top-ups and course cards are sold one per line."),
    PosError.INVALID_AMOUNT: _("Enter an amount of more than ¥0.00."),
    PosError.INVALID_PRICE: _("Enter a price of ¥0.00 or more."),
    PosError.PRICE_REASON_REQUIRED: _("Say why the price is changed."),
    PosError.PRICE_OVERRIDE_DENIED: _("You do not have permission to change prices."),
    PosError.HOLDER_REQUIRED: _("A top-up or a course card needs a client to hold it."),
    PosError.GUEST_ONLY_ON_GROUP_BILL: _("Only a group bill names a guest per line."),
    PosError.STAFF_INACTIVE: _("Choose active staff members."),
    PosError.STAFF_DUPLICATE: _("Each staff member appears once per line."),
    PosError.STAFF_SHARES_SUM: _("The staff shares of a line must add up to 100%."),
    PosError.COUPON_NEEDS_CLIENT: _("Coupons are used on a client's bill, not a walk-in's."),
    PosError.COUPON_NOT_CLIENTS: _("This coupon belongs to another client."),
    PosError.COUPON_ALREADY_APPLIED: _("This coupon is already on the bill."),
    PosError.COUPON_NOT_APPLIED: _("This coupon is not on the bill."),
    PosError.COUPON_NOT_USABLE: _("This coupon cannot be used on this bill."),
    PosError.COUPON_NOT_TOGETHER: _("These coupons cannot be used together."),
    PosError.TENDERS_REQUIRED: _("Add at least one payment."),
    PosError.DEPOSIT_NOT_APPLIED: _("A deposit is held for this visit: take it as one of the payments."),
    PosError.TOO_MANY_TENDERS: _("A bill is paid with at most 10 payments."),
    PosError.TENDER_INVALID_METHOD: _("Choose cash, WeChat Pay, Alipay, stored value, points or a course card."),
    PosError.TENDER_NOT_ENABLED: _("This salon does not take this kind of payment."),
    PosError.TENDER_NOT_CONNECTED: _("This payment gateway is not connected to the till yet."),
    PosError.GATEWAY_ONE_PER_PAYMENT: _("Take one WeChat Pay or Alipay payment at a time."),
    PosError.GATEWAY_CODE_REQUIRED: _("Scan the client's payment code, or show a QR code to scan."),
    PosError.GATEWAY_CODE_INVALID: _("This is not a valid payment code: scan it again."),
    PosError.GATEWAY_ACCOUNT_NOT_READY: _("The salon's merchant account for this gateway is not set up or is off."),
    PosError.GATEWAY_PAYMENT_IN_PROGRESS: _("A WeChat Pay or Alipay payment of this bill is waiting for the client."),
    PosError.GATEWAY_PAYMENT_FAILED: _("The payment did not go through."),
    PosError.TENDER_INVALID_AMOUNT: _("Each payment needs an amount of more than ¥0.00."),
    PosError.TENDERS_DO_NOT_SUM: _("The payments do not add up to the amount due."),
    PosError.CASH_TENDERED_SHORT: _("The cash handed over is less than the amount it pays."),
    PosError.TENDER_NEEDS_CLIENT: _("Stored value, points and course cards are used on a client's bill."),
    PosError.MEMBER_TENDERS_OVER_TOP_UP: _("Stored value, points and course cards do not pay for a top-up."),
    PosError.POINTS_AMOUNT_MISMATCH: _("These points are not worth the amount entered."),
    PosError.COURSE_LINE_REQUIRED: _("A course-card session pays for one service line of this bill."),
    PosError.COURSE_CARD_OTHER_CLIENT: _("This course card belongs to another client."),
    PosError.COURSE_LINE_COVERED: _("Every unit of this line is already paid by a session."),
    PosError.TENDER_NOT_PENDING: _("This payment is no longer waiting for the client."),
    PosError.REASON_REQUIRED: _("Enter a reason."),
    PosError.REFUND_NOT_PAID: _("Only a paid bill can be refunded."),
    PosError.REFUND_LINES_OR_AMOUNT: _("Choose lines to refund, or an amount."),
    PosError.REFUND_TOO_LARGE: _("This is more than is left to refund."),
    PosError.REFUND_TOP_UP: _("A top-up is refunded from the member account (card refund), not from the bill."),
    PosError.REFUND_COURSE_CARD_USED: _("Sessions of this course card have been used; it can no longer be refunded."),
    PosError.REFUND_PACKAGE_WHOLE: _(
        "The sessions of this package are on one card: refund every package of the line, or none."
    ),
    PosError.REFUND_PART_NOT_FAILED: _(
        "Only a WeChat Pay or Alipay refund the gateway refused can be sent again or given back in cash."
    ),
    PosError.REFUND_NOT_ALLOCATABLE: _(
        "This amount cannot be given back to the payments: points come back whole only. Refund more or less."
    ),
    PosError.TOP_UP_METHOD: _("A top-up is paid in cash, by WeChat Pay or by Alipay."),
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
    PosError.CASH_REASON_REQUIRED: _("Say what the cash is for (at most 200 characters)."),
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
    # bills and tenders
    PosError.KEY_INVALID: "idempotency_key",
    PosError.NO_LOCATION: "location",
    PosError.CLIENT_INACTIVE: "client",
    PosError.CLIENT_MISMATCH: "client",
    PosError.APPOINTMENT_NOT_DONE: "appointment",
    PosError.INVALID_BILL_KIND: "kind",
    PosError.ROOM_ONLY_ON_ROOM_BILL: "room",
    PosError.ROOM_REQUIRED: "room",
    PosError.ROOM_OTHER_LOCATION: "room",
    PosError.INVALID_GUEST_COUNT: "guest_count",
    PosError.LINE_NOT_ON_BILL: "line",
    PosError.ITEM_REQUIRED: "item",
    PosError.ITEM_INACTIVE: "item",
    PosError.INVALID_QUANTITY: "quantity",
    PosError.ONE_AT_A_TIME: "quantity",
    PosError.INVALID_AMOUNT: "amount",
    PosError.INVALID_PRICE: "price",
    PosError.PRICE_REASON_REQUIRED: "price_reason",
    PosError.PRICE_OVERRIDE_DENIED: "price",
    PosError.HOLDER_REQUIRED: "client",
    PosError.GUEST_ONLY_ON_GROUP_BILL: "guest",
    PosError.STAFF_INACTIVE: "staff",
    PosError.STAFF_DUPLICATE: "staff",
    PosError.STAFF_SHARES_SUM: "staff",
    PosError.COUPON_NOT_CLIENTS: "coupon",
    PosError.COUPON_ALREADY_APPLIED: "coupon",
    PosError.COUPON_NOT_APPLIED: "coupon",
    PosError.TENDERS_REQUIRED: "payments",
    PosError.TOO_MANY_TENDERS: "payments",
    PosError.TENDER_INVALID_METHOD: "payments",
    PosError.TENDER_NOT_ENABLED: "payments",
    PosError.TENDER_NOT_CONNECTED: "payments",
    PosError.GATEWAY_ONE_PER_PAYMENT: "payments",
    PosError.GATEWAY_CODE_REQUIRED: "auth_code",
    PosError.GATEWAY_CODE_INVALID: "auth_code",
    PosError.GATEWAY_ACCOUNT_NOT_READY: "payments",
    PosError.TENDER_INVALID_AMOUNT: "payments",
    PosError.CASH_TENDERED_SHORT: "payments",
    PosError.TENDER_NEEDS_CLIENT: "payments",
    PosError.MEMBER_TENDERS_OVER_TOP_UP: "payments",
    PosError.POINTS_AMOUNT_MISMATCH: "payments",
    PosError.COURSE_LINE_REQUIRED: "payments",
    PosError.COURSE_CARD_OTHER_CLIENT: "payments",
    PosError.COURSE_LINE_COVERED: "payments",
    PosError.CASH_REASON_REQUIRED: "reason",
    PosError.REFUND_LINES_OR_AMOUNT: "lines",
    PosError.REFUND_TOO_LARGE: "amount",
    PosError.REFUND_TOP_UP: "lines",
    PosError.REFUND_COURSE_CARD_USED: "lines",
    PosError.REFUND_PACKAGE_WHOLE: "lines",
    PosError.REFUND_NOT_ALLOCATABLE: "amount",
    PosError.TOP_UP_METHOD: "method",
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
    # bills and tenders
    PosError.PERMISSION_DENIED: 403,
    PosError.PRICE_OVERRIDE_DENIED: 403,
    PosError.KEY_REUSED: 409,
    PosError.BILL_NOT_OPEN: 409,
    PosError.BILL_ALREADY_PAID: 409,
    PosError.BILL_HAS_PAYMENTS: 409,
    PosError.REFUND_NOT_PAID: 409,
    PosError.REFUND_PART_NOT_FAILED: 409,
    PosError.TENDER_NOT_PENDING: 409,
    PosError.GATEWAY_PAYMENT_IN_PROGRESS: 409,
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
