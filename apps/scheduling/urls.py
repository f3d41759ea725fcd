from django.urls import URLPattern, URLResolver, include, path

from apps.scheduling.views import staff as views

app_name = "scheduling"

urlpatterns: list[URLPattern | URLResolver] = [
    path("settings/staff/<int:pk>/profile/", views.staff_profile, name="staff_profile"),
    path("settings/catalog/staff-groups/", views.group_list, name="group_list"),
    path("settings/catalog/staff-groups/<int:pk>/", views.group_edit, name="group_edit"),
    path("settings/catalog/staff-groups/<int:pk>/delete/", views.group_delete, name="group_delete"),
    # Each topic's pages come from its own module (urls_<topic>.py), one line each.
    path("", include("apps.scheduling.urls_setup")),
    path("", include("apps.scheduling.urls_insights")),
    path("", include("apps.scheduling.urls_book")),
    path("", include("apps.scheduling.urls_queues")),
    path("", include("apps.scheduling.urls_booking")),
]
