"""Pages of the appointment book (SCH-10) under /calendar/."""

from django.urls import path

from apps.scheduling.views import book as views

urlpatterns = [
    path("calendar/", views.day, name="day"),
    path("calendar/week/", views.week, name="week"),
    path("calendar/today/", views.today, name="today"),
    path("calendar/board/", views.board, name="board"),
    path("calendar/appointments/<int:pk>/", views.appointment, name="appointment"),
]
