"""Error codes of inventory, each mapped once to an HTTP status, a translated message and a field.

Every refusal names its reason, and nothing is written when one is raised."""

from __future__ import annotations

from enum import Enum
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from apps.core.errors import ServiceError


class InventoryError(Enum):
    INSUFFICIENT_STOCK = "insufficient_stock"
    KEY_REQUIRED = "idempotency_key_required"
    KEY_REUSED = "idempotency_key_reused"
    INVALID_QUANTITY = "invalid_quantity"
    INVALID_COUNT = "invalid_count"
    INVALID_COST = "invalid_cost"
    INVALID_THRESHOLD = "invalid_threshold"
    INVALID_UNIT = "invalid_unit"
    TEXT_TOO_LONG = "text_too_long"
    REFERENCE_REQUIRED = "reference_required"
    REASON_REQUIRED = "reason_required"
    INVALID_REASON = "invalid_reason"
    INVALID_CHOICE = "invalid_choice"
    PERMISSION_DENIED = "permission_denied"
    NOT_FOUND = "not_found"
    LOCATION_INACTIVE = "location_inactive"
    SAME_LOCATION = "same_location"
    NO_LINES = "no_lines"
    DUPLICATE_PRODUCT = "duplicate_product"
    PRODUCT_INACTIVE = "product_inactive"
    SUPPLIER_INACTIVE = "supplier_inactive"
    ORDER_NOT_DRAFT = "order_not_draft"
    ORDER_NOT_RECEIVABLE = "order_not_receivable"
    ORDER_CLOSED = "order_closed"
    LINE_NOT_ON_ORDER = "line_not_on_order"
    RECEIVE_TOO_MUCH = "receive_too_much"
    STOCKTAKE_ALREADY_OPEN = "stocktake_already_open"
    STOCKTAKE_NOT_OPEN = "stocktake_not_open"
    NOT_ON_SHEET = "not_on_sheet"
    NOTHING_COUNTED = "nothing_counted"
    MATERIAL_UNIT_UNKNOWN = "material_unit_unknown"
    NOTHING_TO_REVERSE = "nothing_to_reverse"
    REVERSAL_TOO_LARGE = "reversal_too_large"
    NO_LOCATION = "no_location"
    COUNT_BELOW_OTHER_LOCATIONS = "count_below_other_locations"


MESSAGES: dict[InventoryError, Promise] = {
    InventoryError.INSUFFICIENT_STOCK: _("Not enough stock."),
    InventoryError.KEY_REQUIRED: _("An idempotency key is required."),
    InventoryError.KEY_REUSED: _("This idempotency key was already used for a different operation."),
    InventoryError.INVALID_QUANTITY: _("Enter a quantity greater than zero, with at most three decimals."),
    InventoryError.INVALID_COUNT: _("Enter the quantity counted: zero or more, with at most three decimals."),
    InventoryError.INVALID_COST: _("Enter a unit cost from ¥0.00 to ¥100,000,000.00."),
    InventoryError.INVALID_THRESHOLD: _("Enter an alert level of zero or more, or leave it empty."),
    InventoryError.INVALID_UNIT: _("Enter a unit (e.g. ml) of at most 16 characters."),
    InventoryError.TEXT_TOO_LONG: _("This text is too long."),
    InventoryError.REFERENCE_REQUIRED: _("A reference (such as the bill) is required."),
    InventoryError.REASON_REQUIRED: _("Choose a reason."),
    InventoryError.INVALID_REASON: _("This is not a reason an adjustment can have."),
    InventoryError.INVALID_CHOICE: _("Choose yes or no."),
    InventoryError.PERMISSION_DENIED: _("You do not have permission to do this."),
    InventoryError.NOT_FOUND: _("This entry does not exist."),
    InventoryError.LOCATION_INACTIVE: _("This location is closed."),
    InventoryError.SAME_LOCATION: _("Choose two different locations."),
    InventoryError.NO_LINES: _("Add at least one product."),
    InventoryError.DUPLICATE_PRODUCT: _("Each product may be listed only once."),
    InventoryError.PRODUCT_INACTIVE: _("This product is no longer sold."),
    InventoryError.SUPPLIER_INACTIVE: _("This supplier is deactivated."),
    InventoryError.ORDER_NOT_DRAFT: _("Only a draft order can be changed or placed."),
    InventoryError.ORDER_NOT_RECEIVABLE: _(
        "Goods can be received only on an order that has been placed and is not closed."
    ),
    InventoryError.ORDER_CLOSED: _("This order is already received in full or cancelled."),
    InventoryError.LINE_NOT_ON_ORDER: _("This line is not on the order."),
    InventoryError.RECEIVE_TOO_MUCH: _("More than was ordered."),
    InventoryError.STOCKTAKE_ALREADY_OPEN: _(
        "A stocktake is already being counted at this location: finish or cancel it first."
    ),
    InventoryError.STOCKTAKE_NOT_OPEN: _("This stocktake is already posted or cancelled."),
    InventoryError.NOT_ON_SHEET: _("This product is not on the count sheet."),
    InventoryError.NOTHING_COUNTED: _("Count at least one product before posting."),
    InventoryError.MATERIAL_UNIT_UNKNOWN: _("The unit of a material is not known."),
    InventoryError.NOTHING_TO_REVERSE: _("Nothing was taken from stock under this reference at this location."),
    InventoryError.REVERSAL_TOO_LARGE: _("More than was taken from stock under this reference."),
    InventoryError.NO_LOCATION: _("The salon has no open location to keep stock in."),
    InventoryError.COUNT_BELOW_OTHER_LOCATIONS: _("Other locations hold more than this."),
}

FIELDS: dict[InventoryError, str] = {
    InventoryError.INVALID_QUANTITY: "quantity",
    InventoryError.INVALID_COUNT: "counted",
    InventoryError.INVALID_COST: "unit_cost",
    InventoryError.INVALID_THRESHOLD: "reorder_level",
    InventoryError.INVALID_UNIT: "unit",
    InventoryError.REFERENCE_REQUIRED: "reference",
    InventoryError.REASON_REQUIRED: "reason",
    InventoryError.INVALID_REASON: "reason",
    InventoryError.LOCATION_INACTIVE: "location",
    InventoryError.SAME_LOCATION: "to_location",
    InventoryError.NO_LINES: "lines",
    InventoryError.DUPLICATE_PRODUCT: "lines",
    InventoryError.PRODUCT_INACTIVE: "product",
    InventoryError.SUPPLIER_INACTIVE: "supplier",
    InventoryError.LINE_NOT_ON_ORDER: "lines",
    InventoryError.NOT_ON_SHEET: "counts",
    InventoryError.NO_LOCATION: "stock",
    InventoryError.COUNT_BELOW_OTHER_LOCATIONS: "stock",
}

STATUS: dict[InventoryError, int] = {
    InventoryError.INSUFFICIENT_STOCK: 409,
    InventoryError.KEY_REUSED: 409,
    InventoryError.PERMISSION_DENIED: 403,
    InventoryError.NOT_FOUND: 404,
    InventoryError.ORDER_NOT_DRAFT: 409,
    InventoryError.ORDER_NOT_RECEIVABLE: 409,
    InventoryError.ORDER_CLOSED: 409,
    InventoryError.RECEIVE_TOO_MUCH: 409,
    InventoryError.STOCKTAKE_ALREADY_OPEN: 409,
    InventoryError.STOCKTAKE_NOT_OPEN: 409,
    InventoryError.NOTHING_COUNTED: 409,
    InventoryError.MATERIAL_UNIT_UNKNOWN: 409,
    InventoryError.NOTHING_TO_REVERSE: 409,
    InventoryError.REVERSAL_TOO_LARGE: 409,
}


def inventory_error(
    code: InventoryError,
    *,
    field: str | None = None,
    message: str | Promise | None = None,
    extra: dict[str, Any] | None = None,
) -> ServiceError:
    """The ServiceError for ``code``; ``message`` a more precise text (naming the product and what is on
    hand), ``extra`` machine-readable details added to an API body that has no field errors."""
    return ServiceError(
        code,
        message if message is not None else MESSAGES[code],
        status=STATUS.get(code, 400),
        field=field or FIELDS.get(code),
        extra=extra,
    )
