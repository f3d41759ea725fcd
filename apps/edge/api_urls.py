from django.urls import path

from apps.edge import api

urlpatterns = [
    path("print-jobs/", api.PrintJobListView.as_view(), name="api-print-job-list"),
    path("print-jobs/<int:pk>/", api.PrintJobDetailView.as_view(), name="api-print-job-detail"),
    path("print-jobs/<int:pk>/status/", api.PrintJobStatusView.as_view(), name="api-print-job-status"),
]
