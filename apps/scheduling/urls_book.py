"""Pages of the appointment book (SCH-10) under /calendar/."""

from django.urls import path

from apps.scheduling.views import book as views

urlpatterns = [
    path("calendar/", views.day, name="day"),
    path("calendar/week/", views.week, name="week"),
    path("calendar/today/", views.today, name="today"),
    path("calendar/board/", views.board, name="board"),
    path("calendar/board/resources/<int:pk>/status/", views.resource_status, name="resource_status"),
    path("calendar/appointments/<int:pk>/", views.appointment, name="appointment"),
    path("calendar/appointments/new/", views.appointment_new, name="appointment_new"),
    path("calendar/appointments/clients/", views.client_pick, name="client_pick"),
    path("calendar/appointments/<int:pk>/move/", views.appointment_move, name="appointment_move"),
    path("calendar/appointments/<int:pk>/cancel/", views.appointment_cancel, name="appointment_cancel"),
    path("calendar/appointments/<int:pk>/<slug:action>/", views.appointment_transition, name="appointment_transition"),
]
