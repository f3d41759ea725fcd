"""API of inventory (POS-8), under /api/v1/."""

from django.urls import URLPattern, URLResolver, path

from apps.inventory.api import documents, stock

urlpatterns: list[URLPattern | URLResolver] = [
    path("stock-levels/", stock.StockLevelListView.as_view(), name="api-stock-level-list"),
    path("stock-movements/", stock.StockMovementListView.as_view(), name="api-stock-movement-list"),
    path("stock-adjustments/", stock.StockAdjustmentListView.as_view(), name="api-stock-adjustment-list"),
    path("material-units/", stock.MaterialUnitListView.as_view(), name="api-material-unit-list"),
    path("inventory-settings/", stock.InventorySettingsView.as_view(), name="api-inventory-settings"),
    path("stock-transfers/", documents.StockTransferListView.as_view(), name="api-stock-transfer-list"),
    path("stock-transfers/<int:pk>/", documents.StockTransferDetailView.as_view(), name="api-stock-transfer-detail"),
    path("purchase-orders/", documents.PurchaseOrderListView.as_view(), name="api-purchase-order-list"),
    path("purchase-orders/<int:pk>/", documents.PurchaseOrderDetailView.as_view(), name="api-purchase-order-detail"),
    path(
        "purchase-orders/<int:pk>/order/", documents.PurchaseOrderPlaceView.as_view(), name="api-purchase-order-place"
    ),
    path(
        "purchase-orders/<int:pk>/receive/",
        documents.PurchaseOrderReceiveView.as_view(),
        name="api-purchase-order-receive",
    ),
    path(
        "purchase-orders/<int:pk>/cancel/",
        documents.PurchaseOrderCancelView.as_view(),
        name="api-purchase-order-cancel",
    ),
    path("stocktakes/", documents.StocktakeListView.as_view(), name="api-stocktake-list"),
    path("stocktakes/<int:pk>/", documents.StocktakeDetailView.as_view(), name="api-stocktake-detail"),
    path("stocktakes/<int:pk>/counts/", documents.StocktakeCountsView.as_view(), name="api-stocktake-counts"),
    path("stocktakes/<int:pk>/post/", documents.StocktakePostView.as_view(), name="api-stocktake-post"),
    path("stocktakes/<int:pk>/cancel/", documents.StocktakeCancelView.as_view(), name="api-stocktake-cancel"),
]
