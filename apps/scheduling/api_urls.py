from django.urls import path

from apps.scheduling.api import staff as api

urlpatterns = [
    path("staff/", api.StaffListView.as_view(), name="api-staff-list"),
    path("staff/<int:pk>/", api.StaffDetailView.as_view(), name="api-staff-detail"),
    path("staff-groups/", api.StaffGroupListView.as_view(), name="api-staff-group-list"),
    path("staff-groups/<int:pk>/", api.StaffGroupDetailView.as_view(), name="api-staff-group-detail"),
]

# Each topic's endpoints come from its own module (api_urls_<topic>.py with its own ``urlpatterns``),
# added below, one line each.
from apps.scheduling import api_urls_availability  # noqa: E402

urlpatterns += api_urls_availability.urlpatterns
