"""Set-up pages of the calendar: rosters, time off, rooms and resources, booking rules, settings."""

from django.urls import path

from apps.scheduling.views import setup as views

urlpatterns = [
    path("calendar/setup/roster/", views.roster, name="roster"),
    path("calendar/setup/roster/staff/<int:pk>/", views.roster_staff, name="roster_staff"),
    path("calendar/setup/roster/exceptions/<int:pk>/delete/", views.exception_delete, name="exception_delete"),
    path("calendar/setup/time-off/", views.time_off, name="time_off"),
    path("calendar/setup/time-off/<int:pk>/delete/", views.time_off_delete, name="time_off_delete"),
    path("calendar/setup/resources/", views.resources, name="resources"),
    path("calendar/setup/resources/<int:pk>/", views.resource_edit, name="resource_edit"),
    path("calendar/setup/resource-types/<int:pk>/", views.resource_type_edit, name="resource_type_edit"),
    path("calendar/setup/services/", views.service_rules, name="service_rules"),
    path("calendar/setup/services/<int:pk>/", views.service_rule_edit, name="service_rule_edit"),
    path("calendar/setup/settings/", views.settings_edit, name="settings"),
]
