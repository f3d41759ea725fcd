"""Inventory pages, mounted under /inventory/."""

from django.urls import path

from apps.inventory.views import documents, stock

app_name = "inventory"

urlpatterns = [
    path("", stock.stock, name="stock"),
    path("low-stock/", stock.low_stock, name="low_stock"),
    path("low-stock/badge/", stock.low_stock_badge, name="low_stock_badge"),
    path("products/<int:pk>/", stock.product_history, name="product"),
    path("products/<int:pk>/alert/<int:location_pk>/", stock.alert_level_set, name="alert_level"),
    path("adjust/", stock.adjust, name="adjust"),
    path("settings/", stock.settings_edit, name="settings"),
    path("settings/units/<int:pk>/remove/", stock.material_unit_remove, name="material_unit_remove"),
    path("lines/row/", documents.line_row, name="line_row"),
    path("transfers/", documents.transfer_list, name="transfer_list"),
    path("transfers/new/", documents.transfer_create, name="transfer_create"),
    path("purchase-orders/", documents.order_list, name="order_list"),
    path("purchase-orders/new/", documents.order_create, name="order_create"),
    path("purchase-orders/<int:pk>/", documents.order_detail, name="order_detail"),
    path("purchase-orders/<int:pk>/edit/", documents.order_edit, name="order_edit"),
    path("purchase-orders/<int:pk>/order/", documents.order_place, name="order_place"),
    path("purchase-orders/<int:pk>/receive/", documents.order_receive, name="order_receive"),
    path("purchase-orders/<int:pk>/cancel/", documents.order_cancel, name="order_cancel"),
    path("stocktakes/", documents.stocktake_list, name="stocktake_list"),
    path("stocktakes/<int:pk>/", documents.stocktake_sheet, name="stocktake"),
    path("stocktakes/<int:pk>/count/", documents.stocktake_count, name="stocktake_count"),
    path("stocktakes/<int:pk>/post/", documents.stocktake_post, name="stocktake_post"),
    path("stocktakes/<int:pk>/cancel/", documents.stocktake_cancel, name="stocktake_cancel"),
]
