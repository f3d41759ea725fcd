"""API of rosters and resources (SCH-2, SCH-3): shifts, weekly patterns, time off, resource types,
resources, a service's booking rule and the booking settings."""

from django.urls import path

from apps.scheduling.api import resources, rosters

urlpatterns = [
    path("shifts/", rosters.ShiftListView.as_view(), name="api-shift-list"),
    path("shift-patterns/", rosters.ShiftPatternListView.as_view(), name="api-shift-pattern-list"),
    path("shift-patterns/<int:pk>/", rosters.ShiftPatternDetailView.as_view(), name="api-shift-pattern-detail"),
    path("time-off/", rosters.TimeOffListView.as_view(), name="api-time-off-list"),
    path("time-off/<int:pk>/", rosters.TimeOffDetailView.as_view(), name="api-time-off-detail"),
    path("resource-types/", resources.ResourceTypeListView.as_view(), name="api-resource-type-list"),
    path("resource-types/<int:pk>/", resources.ResourceTypeDetailView.as_view(), name="api-resource-type-detail"),
    path("resources/", resources.ResourceListView.as_view(), name="api-resource-list"),
    path("resources/<int:pk>/", resources.ResourceDetailView.as_view(), name="api-resource-detail"),
    path(
        "services/<int:pk>/booking-rule/",
        resources.ServiceBookingRuleView.as_view(),
        name="api-service-booking-rule",
    ),
    path("booking-settings/", resources.BookingSettingsView.as_view(), name="api-booking-settings"),
]
