"""Inventory (POS-8): stock per location, the append-only movement ledger, purchase orders, transfers,
stocktakes, material units, the salon's settings and the low-stock digest's gate."""

from apps.inventory.models.alerts import LowStockDigestSent
from apps.inventory.models.documents import (
    RECEIVABLE,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderStatus,
    Stocktake,
    StocktakeLine,
    StocktakeStatus,
    StockTransfer,
    StockTransferLine,
)
from apps.inventory.models.settings import InventorySettings
from apps.inventory.models.stock import (
    DECREASING_KINDS,
    INCREASING_KINDS,
    MAX_QUANTITY,
    ZERO,
    AdjustmentReason,
    MaterialUnit,
    MovementKind,
    StockLevel,
    StockMovement,
)

__all__ = [
    "DECREASING_KINDS",
    "INCREASING_KINDS",
    "MAX_QUANTITY",
    "RECEIVABLE",
    "ZERO",
    "AdjustmentReason",
    "InventorySettings",
    "LowStockDigestSent",
    "MaterialUnit",
    "MovementKind",
    "PurchaseOrder",
    "PurchaseOrderLine",
    "PurchaseOrderStatus",
    "StockLevel",
    "StockMovement",
    "StockTransfer",
    "StockTransferLine",
    "Stocktake",
    "StocktakeLine",
    "StocktakeStatus",
]
