"""What inventory plugs into the apps below it (filled from InventoryConfig.ready): counts typed in the
catalogue (a product's opening stock, its stock field, ``PATCH /api/v1/products/{id}/ {"stock"}``) are
recorded as movements at the main location, so ``Product.stock`` stays the total over locations."""

from __future__ import annotations


def register() -> None:
    from apps.catalog.services.products import product_stock_keeper_register
    from apps.inventory.services.stock import stock_count_from_catalogue

    product_stock_keeper_register(stock_count_from_catalogue)
