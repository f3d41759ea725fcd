from django.contrib.auth import views as auth_views
from django.urls import path

from apps.core import views

app_name = "core"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("password-reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(template_name="core/password_reset_sent.html"),
        name="password_reset_done",
    ),
    path(
        "password-reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            template_name="core/password_reset_confirm.html", success_url="/password-reset/done/"
        ),
        name="password_reset_confirm",
    ),
    path(
        "password-reset/done/",
        auth_views.PasswordResetCompleteView.as_view(template_name="core/password_reset_done.html"),
        name="password_reset_complete",
    ),
    path("account/language/", views.language_set, name="language_set"),
    path("m/<slug:slug>/", views.module_page, name="module"),
    path("settings/staff/", views.staff_list, name="staff_list"),
    path("settings/staff/new/", views.staff_create, name="staff_create"),
    path("settings/staff/roles/", views.roles_matrix, name="roles"),
    path("settings/staff/<int:pk>/", views.staff_edit, name="staff_edit"),
    path("settings/staff/<int:pk>/active/", views.staff_set_active, name="staff_set_active"),
    path("settings/locations/", views.location_list, name="location_list"),
    path("settings/locations/<int:pk>/", views.location_edit, name="location_edit"),
]
