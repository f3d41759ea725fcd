"""Pages of cash sessions (POS-5) under /till/."""

from django.urls import path

from apps.pos.views import cash as views

urlpatterns = [
    path("cash/", views.cash_page, name="cash"),
    path("cash/open/", views.cash_open, name="cash_open"),
    path("cash/<int:pk>/", views.cash_report, name="cash_report"),
    path("cash/<int:pk>/movement/", views.cash_movement, name="cash_movement"),
    path("cash/<int:pk>/close/", views.cash_close, name="cash_close"),
    path("cash/<int:pk>/print/", views.cash_report_print, name="cash_report_print"),
]
