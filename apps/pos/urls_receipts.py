"""Pages of receipts (POS-3) under /till/."""

from django.urls import path

from apps.pos.views import receipts as views

urlpatterns = [
    path("bills/<int:pk>/receipt/", views.receipt_page, name="receipt"),
    path("bills/<int:pk>/receipt.pdf", views.receipt_pdf, name="receipt_pdf"),
    path("bills/<int:pk>/receipt/print/", views.receipt_print, name="receipt_print"),
    path("bills/<int:pk>/receipt/send/", views.receipt_send, name="receipt_send"),
]
