"""Pages of booking reports, booking suggestions and calendar feeds (SCH-12, SCH-13, SCH-15)."""

from django.urls import path, re_path

from apps.scheduling.views import insights as views

urlpatterns = [
    path("calendar/reports/", views.reports, name="reports"),
    path("calendar/reports/export.xlsx", views.reports_export, name="reports_export"),
    path("calendar/suggestions/", views.suggestions, name="suggestions"),
    path("calendar/feed/", views.my_feed, name="my_feed"),
    re_path(r"^calendar/feed/(?P<token>[A-Za-z0-9_-]{20,64})\.ics$", views.feed_ics, name="feed_ics"),
]
