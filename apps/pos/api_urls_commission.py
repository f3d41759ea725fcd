"""Endpoints of commission (POS-6): the rules and the staff performance report."""

from django.urls import path

from apps.pos.api import commission as api

urlpatterns = [
    path("commission-rules/", api.CommissionRuleListView.as_view(), name="api-commission-rule-list"),
    path("commission-rules/<int:pk>/", api.CommissionRuleDetailView.as_view(), name="api-commission-rule-detail"),
    path("reports/staff-performance/", api.StaffPerformanceView.as_view(), name="api-report-staff-performance"),
    path("reports/my-performance/", api.MyPerformanceView.as_view(), name="api-report-my-performance"),
]
