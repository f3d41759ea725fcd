"""Error codes of the catalogue, each mapped once to an HTTP status, a translated message and the
form field it belongs to."""

from __future__ import annotations

from enum import Enum

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from apps.core.errors import ServiceError


class CatalogError(Enum):
    NAME_REQUIRED = "name_required"
    TEXT_TOO_LONG = "text_too_long"
    DUPLICATE_NAME = "duplicate_name"
    DUPLICATE_PRODUCT = "duplicate_product"
    DUPLICATE_BARCODE = "duplicate_barcode"
    INVALID_AMOUNT = "invalid_amount"
    INVALID_DURATION = "invalid_duration"
    INVALID_BUFFER = "invalid_buffer"
    INVALID_QUANTITY = "invalid_quantity"
    INVALID_SESSIONS = "invalid_sessions"
    INVALID_VALIDITY = "invalid_validity"
    INVALID_STOCK = "invalid_stock"
    INVALID_SORT_ORDER = "invalid_sort_order"
    INVALID_IMAGE = "invalid_image"
    ITEM_NEEDS_ONE_TARGET = "item_needs_one_target"
    DUPLICATE_ITEM = "duplicate_item"
    DUPLICATE_MATERIAL = "duplicate_material"
    PRICE_RULE_NEEDS_CONDITION = "price_rule_needs_condition"
    DUPLICATE_PRICE_RULE = "duplicate_price_rule"
    NOT_FOUND = "not_found"


MESSAGES: dict[CatalogError, Promise] = {
    CatalogError.NAME_REQUIRED: _("Enter a name."),
    CatalogError.TEXT_TOO_LONG: _("This text is too long."),
    CatalogError.DUPLICATE_NAME: _("Another entry already has this name."),
    CatalogError.DUPLICATE_PRODUCT: _("A product with this name, brand and specification already exists."),
    CatalogError.DUPLICATE_BARCODE: _("Another product already has this barcode."),
    CatalogError.INVALID_AMOUNT: _("Enter an amount from ¥0.00 to ¥100,000,000.00."),
    CatalogError.INVALID_DURATION: _("The duration must be from 1 to 1,440 minutes."),
    CatalogError.INVALID_BUFFER: _("The buffer must be from 0 to 1,440 minutes."),
    CatalogError.INVALID_QUANTITY: _("The quantity must be more than zero."),
    CatalogError.INVALID_SESSIONS: _("The number of sessions must be from 1 to 1,000."),
    CatalogError.INVALID_VALIDITY: _("The validity must be from 1 to 3,650 days."),
    CatalogError.INVALID_STOCK: _("Stock must be a whole number from 0 to 1,000,000."),
    CatalogError.INVALID_SORT_ORDER: _("The sort order must be a whole number from -1,000,000 to 1,000,000."),
    CatalogError.INVALID_IMAGE: _("This file is not an acceptable image."),
    CatalogError.ITEM_NEEDS_ONE_TARGET: _("Choose either a service or a product (one of them, not both)."),
    CatalogError.DUPLICATE_ITEM: _("This is already included; change its quantity instead."),
    CatalogError.DUPLICATE_MATERIAL: _("This product is already listed as a material of the service."),
    CatalogError.PRICE_RULE_NEEDS_CONDITION: _("Choose a membership tier, a staff level or both."),
    CatalogError.DUPLICATE_PRICE_RULE: _("A price for this membership tier and staff level already exists."),
    CatalogError.NOT_FOUND: _("This entry does not exist."),
}

FIELDS: dict[CatalogError, str] = {
    CatalogError.NAME_REQUIRED: "name",
    CatalogError.DUPLICATE_NAME: "name",
    CatalogError.DUPLICATE_PRODUCT: "name",
    CatalogError.DUPLICATE_BARCODE: "barcode",
    CatalogError.INVALID_AMOUNT: "price",
    CatalogError.INVALID_DURATION: "duration_minutes",
    CatalogError.INVALID_BUFFER: "buffer_minutes",
    CatalogError.INVALID_QUANTITY: "quantity",
    CatalogError.INVALID_SESSIONS: "sessions",
    CatalogError.INVALID_VALIDITY: "validity_days",
    CatalogError.INVALID_STOCK: "stock",
    CatalogError.INVALID_SORT_ORDER: "sort_order",
    CatalogError.INVALID_IMAGE: "image",
    CatalogError.ITEM_NEEDS_ONE_TARGET: "service",
    CatalogError.DUPLICATE_ITEM: "service",
    CatalogError.DUPLICATE_MATERIAL: "product",
    CatalogError.PRICE_RULE_NEEDS_CONDITION: "staff_level",
    CatalogError.DUPLICATE_PRICE_RULE: "staff_level",
}

STATUS: dict[CatalogError, int] = {CatalogError.NOT_FOUND: 404}


def catalog_error(
    code: CatalogError, *, field: str | None = None, message: str | Promise | None = None
) -> ServiceError:
    """The ServiceError for ``code``; ``field`` overrides the default field (a cost rather than a price),
    ``message`` a more precise text (Pillow's reason an image was refused)."""
    return ServiceError(
        code,
        message if message is not None else MESSAGES[code],
        status=STATUS.get(code, 400),
        field=field or FIELDS.get(code),
    )
