from django.urls import include, path

from apps.scheduling.api import staff as api

urlpatterns = [
    path("staff/", api.StaffListView.as_view(), name="api-staff-list"),
    path("staff/<int:pk>/", api.StaffDetailView.as_view(), name="api-staff-detail"),
    path("staff-groups/", api.StaffGroupListView.as_view(), name="api-staff-group-list"),
    path("staff-groups/<int:pk>/", api.StaffGroupDetailView.as_view(), name="api-staff-group-detail"),
]

# Each topic's endpoints come from its own module (api_urls_<topic>.py with its own ``urlpatterns``),
# added below, one line each.
from apps.scheduling.api_urls_appointments import urlpatterns as appointments_urls  # noqa: E402

urlpatterns += appointments_urls
urlpatterns += [path("", include("apps.scheduling.api_urls_setup"))]  # type: ignore[list-item]
