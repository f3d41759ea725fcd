from django.urls import URLPattern, URLResolver, include, path

from apps.scheduling.api import staff as api

urlpatterns: list[URLPattern | URLResolver] = [
    path("staff/", api.StaffListView.as_view(), name="api-staff-list"),
    path("staff/<int:pk>/", api.StaffDetailView.as_view(), name="api-staff-detail"),
    path("staff-groups/", api.StaffGroupListView.as_view(), name="api-staff-group-list"),
    path("staff-groups/<int:pk>/", api.StaffGroupDetailView.as_view(), name="api-staff-group-detail"),
    # Each topic's endpoints come from its own module (api_urls_<topic>.py), one line each.
    path("", include("apps.scheduling.api_urls_appointments")),
    path("", include("apps.scheduling.api_urls_setup")),
    path("", include("apps.scheduling.api_urls_insights")),
    path("", include("apps.scheduling.api_urls_availability")),
]
