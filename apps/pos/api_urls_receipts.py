from django.urls import path

from apps.pos.api import receipts as api

urlpatterns = [
    path("orders/<int:pk>/receipt/", api.ReceiptView.as_view(), name="api-order-receipt"),
    path("orders/<int:pk>/receipt.pdf", api.ReceiptPdfView.as_view(), name="api-order-receipt-pdf"),
    path("orders/<int:pk>/receipt/send/", api.ReceiptSendView.as_view(), name="api-order-receipt-send"),
    path("orders/<int:pk>/print/", api.ReceiptPrintView.as_view(), name="api-order-print"),
]
