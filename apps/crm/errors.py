"""Error codes of the clients app, each mapped once to an HTTP status, a field and a translated message."""

from __future__ import annotations

from enum import Enum

from django.utils.functional import Promise
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from apps.core.errors import ServiceError


class CrmError(Enum):
    NAME_REQUIRED = "name_required"
    INVALID_PHONE = "invalid_phone"
    DUPLICATE_PHONE = "duplicate_phone"
    DUPLICATE_CARD_NUMBER = "duplicate_card_number"
    BIRTHDAY_IN_FUTURE = "birthday_in_future"
    ANNIVERSARY_IN_FUTURE = "anniversary_in_future"
    INVALID_ID_NUMBER = "invalid_id_number"
    UNKNOWN_TAG = "unknown_tag"
    UNKNOWN_CLIENT = "unknown_client"
    UNKNOWN_TIER = "unknown_tier"
    REFERRER_IS_SELF = "referrer_is_self"
    DUPLICATE_TAG = "duplicate_tag"
    INVALID_COLOR = "invalid_color"
    INVALID_TAG_RULE = "invalid_tag_rule"
    AUTOMATIC_TAG = "automatic_tag"
    DUPLICATE_TIER = "duplicate_tier"
    TIER_IN_USE = "tier_in_use"
    CLIENT_INACTIVE = "client_inactive"
    MERGE_SAME_CLIENT = "merge_same_client"
    MERGE_ALREADY_REVERSED = "merge_already_reversed"
    MERGE_NOT_REVERSIBLE = "merge_not_reversible"
    PURCHASE_DUPLICATE = "purchase_duplicate"
    INVALID_AMOUNT = "invalid_amount"
    # Interactions and follow-ups
    RESOLUTION_REQUIRED = "resolution_required"
    OWNER_REQUIRED = "owner_required"
    INVALID_TRANSITION = "invalid_transition"
    NOT_A_COMPLAINT = "not_a_complaint"
    OUTCOME_REQUIRED = "outcome_required"
    INVALID_RATING = "invalid_rating"
    STAFF_INACTIVE = "staff_inactive"
    SUMMARY_REQUIRED = "summary_required"
    PURPOSE_REQUIRED = "purpose_required"
    DUE_DATE_IN_PAST = "due_date_in_past"
    FOLLOW_UP_CLOSED = "follow_up_closed"
    # Photos, skin records, courses
    NOT_AN_IMAGE = "not_an_image"
    IMAGE_TOO_LARGE = "image_too_large"
    IMAGE_TYPE_NOT_ALLOWED = "image_type_not_allowed"
    DATE_IN_FUTURE = "date_in_future"
    COURSE_FULL = "course_full"
    COURSE_CLOSED = "course_closed"
    # Import
    FILE_NOT_SPREADSHEET = "file_not_spreadsheet"
    FILE_TOO_LARGE = "file_too_large"
    FILE_EMPTY = "file_empty"
    MAPPING_INVALID = "mapping_invalid"
    IMPORT_NOT_READY = "import_not_ready"
    PERMISSION_DENIED = "permission_denied"


MESSAGES: dict[CrmError, Promise] = {
    CrmError.NAME_REQUIRED: _("Enter the client's name."),
    CrmError.INVALID_PHONE: _("Enter a mainland mobile number (11 digits) or an international number starting with +."),
    CrmError.DUPLICATE_PHONE: _("Another client already has this phone number."),
    CrmError.DUPLICATE_CARD_NUMBER: _("Another client already has this card number."),
    CrmError.BIRTHDAY_IN_FUTURE: _("The birthday cannot be in the future."),
    CrmError.ANNIVERSARY_IN_FUTURE: _("The anniversary cannot be in the future."),
    CrmError.INVALID_ID_NUMBER: _("Enter a valid ID number (18 characters for a mainland resident ID)."),
    CrmError.UNKNOWN_TAG: _("This tag does not exist."),
    CrmError.UNKNOWN_CLIENT: _("This client does not exist."),
    CrmError.UNKNOWN_TIER: _("This membership tier does not exist."),
    CrmError.REFERRER_IS_SELF: _("A client cannot refer themselves."),
    CrmError.DUPLICATE_TAG: _("A tag with this name already exists."),
    CrmError.INVALID_COLOR: _("Enter a colour like #2563eb."),
    CrmError.INVALID_TAG_RULE: _("Fill in every value the rule needs, each above zero."),
    CrmError.AUTOMATIC_TAG: _("This tag is set by its rule and cannot be given or removed by hand."),
    CrmError.DUPLICATE_TIER: _("A tier with this name or rank already exists."),
    CrmError.TIER_IN_USE: _("Clients still hold this tier."),
    CrmError.CLIENT_INACTIVE: _("This client was merged or erased and can no longer be changed."),
    CrmError.MERGE_SAME_CLIENT: _("Choose two different clients to merge."),
    CrmError.MERGE_ALREADY_REVERSED: _("This merge has already been undone."),
    CrmError.MERGE_NOT_REVERSIBLE: _("This merge cannot be undone because the kept client was merged or erased since."),
    CrmError.PURCHASE_DUPLICATE: _("This purchase has already been recorded."),
    CrmError.INVALID_AMOUNT: _("Enter an amount in fen."),
    CrmError.RESOLUTION_REQUIRED: _("Describe how the complaint was resolved."),
    CrmError.OWNER_REQUIRED: _("Choose who owns the complaint."),
    CrmError.INVALID_TRANSITION: _("The complaint cannot move to this status from its current one."),
    CrmError.NOT_A_COMPLAINT: _("Only complaints have a status."),
    CrmError.OUTCOME_REQUIRED: _("Describe the outcome of the follow-up."),
    CrmError.INVALID_RATING: _("A rating is a whole number from 1 to 5."),
    CrmError.STAFF_INACTIVE: _("Choose an active staff member."),
    CrmError.SUMMARY_REQUIRED: _("Write a short summary."),
    CrmError.PURPOSE_REQUIRED: _("Say what the follow-up is for."),
    CrmError.DUE_DATE_IN_PAST: _("The due date cannot be in the past."),
    CrmError.FOLLOW_UP_CLOSED: _("This follow-up is already done or cancelled."),
    CrmError.NOT_AN_IMAGE: _("This file is not an image we can read."),
    CrmError.IMAGE_TOO_LARGE: _("The image is too large."),
    CrmError.IMAGE_TYPE_NOT_ALLOWED: _("Upload a JPEG, PNG or WebP image."),
    CrmError.DATE_IN_FUTURE: _("The date cannot be in the future."),
    CrmError.COURSE_FULL: _("All planned sessions of this course are recorded."),
    CrmError.COURSE_CLOSED: _("This course is finished; reopen it to add sessions."),
    CrmError.FILE_NOT_SPREADSHEET: _("Upload a CSV or Excel (.xlsx) file."),
    CrmError.FILE_TOO_LARGE: _("The file is too large."),
    CrmError.FILE_EMPTY: _("The file has no rows under its header."),
    CrmError.MAPPING_INVALID: _("Map a column to the name and to the phone, and each column at most once."),
    CrmError.IMPORT_NOT_READY: _("Check the file before importing it."),
    CrmError.PERMISSION_DENIED: _("You do not have permission to do this."),
}

FIELDS: dict[CrmError, str] = {
    CrmError.NAME_REQUIRED: "name",
    CrmError.INVALID_PHONE: "phone",
    CrmError.DUPLICATE_PHONE: "phone",
    CrmError.DUPLICATE_CARD_NUMBER: "card_number",
    CrmError.BIRTHDAY_IN_FUTURE: "birthday",
    CrmError.ANNIVERSARY_IN_FUTURE: "anniversary",
    CrmError.INVALID_ID_NUMBER: "id_number",
    CrmError.UNKNOWN_TAG: "tags",
    CrmError.UNKNOWN_TIER: "tier",
    CrmError.REFERRER_IS_SELF: "referrer",
    CrmError.DUPLICATE_TAG: "name",
    CrmError.INVALID_COLOR: "color",
    CrmError.INVALID_TAG_RULE: "rule",
    CrmError.DUPLICATE_TIER: "name",
    CrmError.INVALID_AMOUNT: "amount",
    CrmError.RESOLUTION_REQUIRED: "resolution",
    CrmError.OWNER_REQUIRED: "owner",
    CrmError.INVALID_TRANSITION: "status",
    CrmError.OUTCOME_REQUIRED: "outcome",
    CrmError.INVALID_RATING: "rating",
    CrmError.SUMMARY_REQUIRED: "summary",
    CrmError.PURPOSE_REQUIRED: "purpose",
    CrmError.DUE_DATE_IN_PAST: "due_date",
    CrmError.NOT_AN_IMAGE: "image",
    CrmError.IMAGE_TOO_LARGE: "image",
    CrmError.IMAGE_TYPE_NOT_ALLOWED: "image",
    CrmError.FILE_NOT_SPREADSHEET: "file",
    CrmError.FILE_TOO_LARGE: "file",
    CrmError.FILE_EMPTY: "file",
    CrmError.MAPPING_INVALID: "mapping",
}

STATUS: dict[CrmError, int] = {
    CrmError.PURCHASE_DUPLICATE: 409,
    CrmError.CLIENT_INACTIVE: 409,
    CrmError.FOLLOW_UP_CLOSED: 409,
    CrmError.PERMISSION_DENIED: 403,
}


def too_long_message(limit: int) -> str:
    """Django's own wording for an over-long value, for services that check lengths themselves."""
    return ngettext(
        "Ensure this value has at most %(limit_value)d character.",
        "Ensure this value has at most %(limit_value)d characters.",
        limit,
    ) % {"limit_value": limit}


def invalid_choice_message() -> str:
    return gettext("Select a valid choice.")


def crm_error(code: CrmError, *, field: str | None = None) -> ServiceError:
    """The ServiceError for ``code``; ``field`` overrides the default field (e.g. ``phone_alt``)."""
    return ServiceError(code, MESSAGES[code], status=STATUS.get(code, 400), field=field or FIELDS.get(code))
