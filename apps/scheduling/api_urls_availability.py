from django.urls import path

from apps.scheduling.api import availability as api

urlpatterns = [
    path("availability/", api.AvailabilityView.as_view(), name="api-availability"),
]
