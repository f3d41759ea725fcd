from django.urls import path

from apps.scheduling.views import booking_profile

urlpatterns = [
    path(
        "calendar/clients/<int:pk>/booking-record/",
        booking_profile.client_booking_profile,
        name="client_booking_profile",
    ),
]
