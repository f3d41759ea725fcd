"""Endpoints of booking reports and booking suggestions (SCH-12, SCH-13)."""

from django.urls import path

from apps.scheduling.api import insights as api

urlpatterns = [
    path("reports/bookings/", api.BookingReportView.as_view(), name="api-report-bookings"),
    path("clients/<int:pk>/suggestions/", api.ClientSuggestionsView.as_view(), name="api-client-suggestions"),
]
