from django.urls import path

from apps.scheduling.views import staff as views

app_name = "scheduling"

urlpatterns = [
    path("settings/staff/<int:pk>/profile/", views.staff_profile, name="staff_profile"),
    path("settings/catalog/staff-groups/", views.group_list, name="group_list"),
    path("settings/catalog/staff-groups/<int:pk>/", views.group_edit, name="group_edit"),
    path("settings/catalog/staff-groups/<int:pk>/delete/", views.group_delete, name="group_delete"),
]

# Each topic's pages come from its own module (urls_<topic>.py with its own ``urlpatterns``), added below,
# one line each, so the topics stay apart.
from apps.scheduling.urls_booking import urlpatterns as booking_urls  # noqa: E402

urlpatterns += booking_urls
