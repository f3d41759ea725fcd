"""Writes of inventory, split by topic; import them from their modules
(``from apps.inventory.services import stock``) or from here."""

from apps.inventory.services._ledger import StockResult
from apps.inventory.services.alerts import low_stock_digest_send
from apps.inventory.services.purchasing import (
    OrderLineSpec,
    ReceiptResult,
    purchase_order_cancel,
    purchase_order_create,
    purchase_order_place,
    purchase_order_receive,
    purchase_order_update,
)
from apps.inventory.services.setup import inventory_settings_update, material_unit_remove, material_unit_set
from apps.inventory.services.stock import (
    stock_adjust,
    stock_consume_for_services,
    stock_consume_for_services_reverse,
    stock_count_from_catalogue,
    stock_reorder_level_set,
    stock_sale_record,
    stock_sale_reverse,
)
from apps.inventory.services.stocktakes import stocktake_cancel, stocktake_count, stocktake_open, stocktake_post
from apps.inventory.services.transfers import stock_transfer_create

__all__ = [
    "OrderLineSpec",
    "ReceiptResult",
    "StockResult",
    "inventory_settings_update",
    "low_stock_digest_send",
    "material_unit_remove",
    "material_unit_set",
    "purchase_order_cancel",
    "purchase_order_create",
    "purchase_order_place",
    "purchase_order_receive",
    "purchase_order_update",
    "stock_adjust",
    "stock_consume_for_services",
    "stock_consume_for_services_reverse",
    "stock_count_from_catalogue",
    "stock_reorder_level_set",
    "stock_sale_record",
    "stock_sale_reverse",
    "stock_transfer_create",
    "stocktake_cancel",
    "stocktake_count",
    "stocktake_open",
    "stocktake_post",
]
