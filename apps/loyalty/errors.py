"""Error codes of loyalty, each mapped once to an HTTP status, a translated message and a field.

Every refusal names its reason (a lost card, an expired coupon, a condition not met) and nothing is
written when one is raised."""

from __future__ import annotations

from enum import Enum

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from apps.core.errors import ServiceError


class LoyaltyError(Enum):
    # Amounts and idempotency
    INVALID_AMOUNT = "invalid_amount"
    AMOUNT_OVER_LIMIT = "amount_over_limit"
    INVALID_POINTS = "invalid_points"
    KEY_REQUIRED = "idempotency_key_required"
    KEY_REUSED = "idempotency_key_reused"
    TEXT_TOO_LONG = "text_too_long"
    PERMISSION_DENIED = "permission_denied"
    CLIENT_INACTIVE = "client_inactive"
    NOT_FOUND = "not_found"
    # Stored value
    INSUFFICIENT_BALANCE = "insufficient_balance"
    NOTHING_TO_REFUND = "nothing_to_refund"
    REVERSAL_TOO_LARGE = "reversal_too_large"
    NOT_A_PAYMENT = "not_a_payment"
    INVALID_WINDOW = "invalid_window"
    DUPLICATE_TOP_UP_RULE = "duplicate_top_up_rule"
    REASON_REQUIRED = "reason_required"
    # Member cards
    CARD_LOST = "card_lost"
    CARD_FROZEN = "card_frozen"
    CARD_EXPIRED = "card_expired"
    CARD_NOT_CURRENT = "card_not_current"
    CARD_ALREADY_HELD = "card_already_held"
    INVALID_CARD_NUMBER = "invalid_card_number"
    DUPLICATE_CARD_NUMBER = "duplicate_card_number"
    INVALID_CARD_TRANSITION = "invalid_card_transition"
    EXPIRY_IN_PAST = "expiry_in_past"
    INVALID_CARD_TYPE = "invalid_card_type"
    # Points
    INSUFFICIENT_POINTS = "insufficient_points"
    ALREADY_CHECKED_IN = "already_checked_in"
    POINTS_OFF = "points_off"
    NOT_AN_EARNING = "not_an_earning"
    NOT_A_REDEMPTION = "not_a_redemption"
    POINTS_TOO_FEW = "points_too_few"
    # Tiers
    INVALID_PERCENT = "invalid_percent"
    INVALID_MULTIPLIER = "invalid_multiplier"
    INVALID_THRESHOLD = "invalid_threshold"
    TIER_UNCHANGED = "tier_unchanged"
    # Course cards
    COURSE_CARD_EXPIRED = "course_card_expired"
    COURSE_CARD_NOT_ACTIVE = "course_card_not_active"
    COURSE_SERVICE_NOT_ON_CARD = "course_service_not_on_card"
    NO_SESSIONS_LEFT = "no_sessions_left"
    TEMPLATE_INACTIVE = "template_inactive"
    TEMPLATE_EMPTY = "template_empty"
    ALREADY_REVERSED = "already_reversed"
    NOT_A_SESSION_USED = "not_a_session_used"
    COURSE_CARD_VOIDED = "course_card_voided"
    EXPIRY_NOT_LATER = "expiry_not_later"
    # Coupons
    COUPON_EXPIRED = "coupon_expired"
    COUPON_NOT_YET_VALID = "coupon_not_yet_valid"
    COUPON_NOT_AVAILABLE = "coupon_not_available"
    COUPON_MIN_SPEND = "coupon_min_spend"
    COUPON_NO_ELIGIBLE_ITEM = "coupon_no_eligible_item"
    COUPON_ONE_PER_BILL = "coupon_one_per_bill"
    COUPON_NOT_STACKABLE = "coupon_not_stackable"
    COUPON_OTHER_CLIENT = "coupon_other_client"
    COUPON_LIMIT_REACHED = "coupon_limit_reached"
    COUPON_INVALID_VALUE = "coupon_invalid_value"
    NAME_REQUIRED = "name_required"
    NO_RECIPIENTS = "no_recipients"
    COUPON_INVALID_KIND = "coupon_invalid_kind"
    COUPON_ITEMS_REQUIRED = "coupon_items_required"
    COUPON_GIFT_REQUIRED = "coupon_gift_required"
    COUPON_TEMPLATE_INACTIVE = "coupon_template_inactive"
    COUPON_WINDOW_ENDED = "coupon_window_ended"
    COUPON_LIMIT_BELOW_ISSUED = "coupon_limit_below_issued"
    COUPON_INVALID_LINE = "coupon_invalid_line"
    COUPON_INVALID_TRIGGER = "coupon_invalid_trigger"
    COUPON_RULE_TIER_REQUIRED = "coupon_rule_tier_required"
    COUPON_NOT_REDEEMED = "coupon_not_redeemed"
    # Referral
    NO_REFERRER = "no_referrer"
    # Merging clients
    MERGE_BOTH_WALLETS = "merge_both_wallets"
    MERGE_BOTH_CARDS = "merge_both_cards"
    # Redemption safety
    CODE_REQUIRED = "code_required"
    CODE_INVALID = "code_invalid"
    NO_PHONE = "no_phone"
    OVERRIDE_REASON_REQUIRED = "override_reason_required"


MESSAGES: dict[LoyaltyError, Promise] = {
    LoyaltyError.INVALID_AMOUNT: _("Enter an amount of more than ¥0.00."),
    LoyaltyError.AMOUNT_OVER_LIMIT: _("This amount is above the salon's limit for one transaction."),
    LoyaltyError.INVALID_POINTS: _("Enter a whole number of points greater than zero."),
    LoyaltyError.KEY_REQUIRED: _("An idempotency key is required."),
    LoyaltyError.KEY_REUSED: _("This idempotency key was already used for a different operation."),
    LoyaltyError.TEXT_TOO_LONG: _("This text is too long."),
    LoyaltyError.PERMISSION_DENIED: _("You do not have permission to do this."),
    LoyaltyError.CLIENT_INACTIVE: _("This client record is no longer active."),
    LoyaltyError.NOT_FOUND: _("This entry does not exist."),
    LoyaltyError.INSUFFICIENT_BALANCE: _("The stored-value balance is not enough for this amount."),
    LoyaltyError.NOTHING_TO_REFUND: _("There is nothing left on this card to refund."),
    LoyaltyError.REVERSAL_TOO_LARGE: _("This is more than is left to give back of that payment."),
    LoyaltyError.NOT_A_PAYMENT: _("Only a payment by stored value can be given back to the card."),
    LoyaltyError.INVALID_WINDOW: _("The end date must not be before the start date."),
    LoyaltyError.DUPLICATE_TOP_UP_RULE: _("An active rule with this amount already applies in this period."),
    LoyaltyError.REASON_REQUIRED: _("Enter a reason."),
    LoyaltyError.CARD_LOST: _("This member card was reported lost; stored value cannot be used until it is reissued."),
    LoyaltyError.CARD_FROZEN: _("This member card is frozen; unfreeze it before using stored value."),
    LoyaltyError.CARD_EXPIRED: _("This member card has expired."),
    LoyaltyError.CARD_NOT_CURRENT: _("This card has been replaced or cancelled."),
    LoyaltyError.CARD_ALREADY_HELD: _("This client already holds a member card; reissue it instead."),
    LoyaltyError.INVALID_CARD_NUMBER: _("A card number has 4 to 32 letters, digits or dashes."),
    LoyaltyError.DUPLICATE_CARD_NUMBER: _("This card number is already in use."),
    LoyaltyError.INVALID_CARD_TRANSITION: _("This card cannot change to that status."),
    LoyaltyError.EXPIRY_IN_PAST: _("The expiry date must be in the future."),
    LoyaltyError.INVALID_CARD_TYPE: _("Choose a physical or an electronic card."),
    LoyaltyError.INSUFFICIENT_POINTS: _("The client does not have enough points."),
    LoyaltyError.ALREADY_CHECKED_IN: _("The client has already checked in today."),
    LoyaltyError.POINTS_OFF: _("This salon does not give points for this."),
    LoyaltyError.NOT_AN_EARNING: _("Only points that were earned can be taken back."),
    LoyaltyError.NOT_A_REDEMPTION: _("Only a redemption of points can be given back."),
    LoyaltyError.POINTS_TOO_FEW: _("These points are worth less than ¥0.01; redeem more of them."),
    LoyaltyError.INVALID_PERCENT: _("Enter a percentage from 1 to 100."),
    LoyaltyError.INVALID_MULTIPLIER: _("The multiplier must be from 0 to 20."),
    LoyaltyError.INVALID_THRESHOLD: _("Enter a whole number, zero or more."),
    LoyaltyError.TIER_UNCHANGED: _("The client is already in this tier."),
    LoyaltyError.COURSE_CARD_EXPIRED: _("This course card has expired."),
    LoyaltyError.COURSE_CARD_NOT_ACTIVE: _("This course card is used up or voided."),
    LoyaltyError.COURSE_SERVICE_NOT_ON_CARD: _("This service is not on the course card."),
    LoyaltyError.NO_SESSIONS_LEFT: _("No sessions of this service are left on the card."),
    LoyaltyError.TEMPLATE_INACTIVE: _("This course card is no longer on sale."),
    LoyaltyError.TEMPLATE_EMPTY: _("This course card template has no services."),
    LoyaltyError.ALREADY_REVERSED: _("This has already been given back."),
    LoyaltyError.NOT_A_SESSION_USED: _("Only a session that was used can be given back."),
    LoyaltyError.COURSE_CARD_VOIDED: _("This course card is already voided."),
    LoyaltyError.EXPIRY_NOT_LATER: _("The new expiry date must be later than the current one."),
    LoyaltyError.COUPON_EXPIRED: _("This coupon has expired."),
    LoyaltyError.COUPON_NOT_YET_VALID: _("This coupon is not valid yet."),
    LoyaltyError.COUPON_NOT_AVAILABLE: _("This coupon has already been used or was voided."),
    LoyaltyError.COUPON_MIN_SPEND: _("The bill does not reach this coupon's minimum spend."),
    LoyaltyError.COUPON_NO_ELIGIBLE_ITEM: _("Nothing on the bill is eligible for this coupon."),
    LoyaltyError.COUPON_ONE_PER_BILL: _("Only one coupon of this kind may be used on a bill."),
    LoyaltyError.COUPON_NOT_STACKABLE: _("This coupon cannot be combined with other coupons."),
    LoyaltyError.COUPON_OTHER_CLIENT: _("This coupon belongs to another client."),
    LoyaltyError.COUPON_LIMIT_REACHED: _("All coupons of this kind have been issued."),
    LoyaltyError.COUPON_INVALID_VALUE: _("This value does not suit the kind of coupon."),
    LoyaltyError.NAME_REQUIRED: _("Enter a name."),
    LoyaltyError.NO_RECIPIENTS: _("Choose at least one client."),
    LoyaltyError.COUPON_INVALID_KIND: _("Choose one of the kinds of coupon."),
    LoyaltyError.COUPON_ITEMS_REQUIRED: _("Choose at least one item this coupon applies to."),
    LoyaltyError.COUPON_GIFT_REQUIRED: _("Name the gift this coupon gives."),
    LoyaltyError.COUPON_TEMPLATE_INACTIVE: _("This coupon is no longer being issued."),
    LoyaltyError.COUPON_WINDOW_ENDED: _("This coupon's validity has ended; it can no longer be issued."),
    LoyaltyError.COUPON_LIMIT_BELOW_ISSUED: _("More coupons than this have already been issued."),
    LoyaltyError.COUPON_INVALID_LINE: _(
        "Each bill line needs an amount of zero or more, a quantity of at least one and a known item."
    ),
    LoyaltyError.COUPON_INVALID_TRIGGER: _("Choose when the rule issues the coupon."),
    LoyaltyError.COUPON_RULE_TIER_REQUIRED: _("Choose the tier that issues the coupon."),
    LoyaltyError.COUPON_NOT_REDEEMED: _("This coupon was not used on that bill."),
    LoyaltyError.NO_REFERRER: _("This client was not referred by anyone."),
    LoyaltyError.MERGE_BOTH_WALLETS: _(
        "Both clients hold stored value or points. Refund or adjust the duplicate's wallet to zero first."
    ),
    LoyaltyError.MERGE_BOTH_CARDS: _("Both clients hold a member card. Cancel the duplicate's card first."),
    LoyaltyError.CODE_REQUIRED: _("Enter the code sent to the client's phone."),
    LoyaltyError.CODE_INVALID: _("This code is wrong or has expired; send a new one."),
    LoyaltyError.NO_PHONE: _("The client has no phone number to send a code to."),
    LoyaltyError.OVERRIDE_REASON_REQUIRED: _("Enter why the code is being skipped."),
}

FIELDS: dict[LoyaltyError, str] = {
    LoyaltyError.INVALID_AMOUNT: "amount",
    LoyaltyError.AMOUNT_OVER_LIMIT: "amount",
    LoyaltyError.INSUFFICIENT_BALANCE: "amount",
    LoyaltyError.REVERSAL_TOO_LARGE: "amount",
    LoyaltyError.INVALID_POINTS: "points",
    LoyaltyError.INSUFFICIENT_POINTS: "points",
    LoyaltyError.KEY_REQUIRED: "idempotency_key",
    LoyaltyError.INVALID_WINDOW: "valid_until",
    LoyaltyError.DUPLICATE_TOP_UP_RULE: "pay_amount",
    LoyaltyError.REASON_REQUIRED: "reason",
    LoyaltyError.INVALID_CARD_NUMBER: "number",
    LoyaltyError.DUPLICATE_CARD_NUMBER: "number",
    LoyaltyError.EXPIRY_IN_PAST: "expires_on",
    LoyaltyError.INVALID_CARD_TYPE: "card_type",
    LoyaltyError.POINTS_TOO_FEW: "points",
    LoyaltyError.INVALID_PERCENT: "price_percent",
    LoyaltyError.INVALID_MULTIPLIER: "points_multiplier",
    LoyaltyError.COURSE_SERVICE_NOT_ON_CARD: "service",
    LoyaltyError.INVALID_THRESHOLD: "min_points",
    LoyaltyError.TIER_UNCHANGED: "tier",
    LoyaltyError.EXPIRY_NOT_LATER: "expires_on",
    LoyaltyError.NAME_REQUIRED: "name",
    LoyaltyError.NO_RECIPIENTS: "clients",
    LoyaltyError.COUPON_INVALID_VALUE: "value",
    LoyaltyError.COUPON_INVALID_KIND: "kind",
    LoyaltyError.COUPON_GIFT_REQUIRED: "gift",
    LoyaltyError.COUPON_LIMIT_BELOW_ISSUED: "max_issued",
    LoyaltyError.COUPON_INVALID_LINE: "lines",
    LoyaltyError.COUPON_INVALID_TRIGGER: "trigger",
    LoyaltyError.COUPON_RULE_TIER_REQUIRED: "tier",
    LoyaltyError.CODE_REQUIRED: "code",
    LoyaltyError.CODE_INVALID: "code",
    LoyaltyError.OVERRIDE_REASON_REQUIRED: "override_reason",
}

STATUS: dict[LoyaltyError, int] = {
    LoyaltyError.PERMISSION_DENIED: 403,
    LoyaltyError.NOT_FOUND: 404,
    LoyaltyError.KEY_REUSED: 409,
    LoyaltyError.ALREADY_CHECKED_IN: 409,
    LoyaltyError.ALREADY_REVERSED: 409,
    LoyaltyError.COURSE_CARD_VOIDED: 409,
    LoyaltyError.CARD_ALREADY_HELD: 409,
    LoyaltyError.DUPLICATE_CARD_NUMBER: 409,
}


def loyalty_error(
    code: LoyaltyError, *, field: str | None = None, message: str | Promise | None = None
) -> ServiceError:
    """The ServiceError for ``code``; ``field`` overrides the default field, ``message`` the text."""
    return ServiceError(
        code,
        message if message is not None else MESSAGES[code],
        status=STATUS.get(code, 400),
        field=field or FIELDS.get(code),
    )
