"""Online booking for the salon's clients, mounted under /book/ (namespace "book")."""

from django.urls import path

from apps.scheduling import client_views as views

app_name = "book"

urlpatterns = [
    path("", views.services, name="services"),
    path("staff/", views.staff, name="staff"),
    path("slots/", views.slots, name="slots"),
    path("confirm/", views.confirm, name="confirm"),
    path("done/<int:pk>/", views.done, name="done"),
    path("login/", views.login, name="login"),
    path("login/code/", views.login_code, name="login_code"),
    path("logout/", views.logout, name="logout"),
    path("my/", views.my_bookings, name="my"),
    path("my/<int:pk>/cancel/", views.cancel, name="cancel"),
    path("my/<int:pk>/move/", views.reschedule, name="reschedule"),
]
