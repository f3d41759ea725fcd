from django.urls import path

from apps.scheduling.api import appointments as api

urlpatterns = [
    path("appointments/", api.AppointmentListView.as_view(), name="api-appointment-list"),
    path("appointments/<int:pk>/", api.AppointmentDetailView.as_view(), name="api-appointment-detail"),
    path("appointments/<int:pk>/confirm/", api.AppointmentConfirmView.as_view(), name="api-appointment-confirm"),
    path("appointments/<int:pk>/arrive/", api.AppointmentArriveView.as_view(), name="api-appointment-arrive"),
    path("appointments/<int:pk>/start/", api.AppointmentStartView.as_view(), name="api-appointment-start"),
    path("appointments/<int:pk>/finish/", api.AppointmentFinishView.as_view(), name="api-appointment-finish"),
    path("appointments/<int:pk>/cancel/", api.AppointmentCancelView.as_view(), name="api-appointment-cancel"),
    path("appointments/<int:pk>/no-show/", api.AppointmentNoShowView.as_view(), name="api-appointment-no-show"),
    path("clients/<int:pk>/booking-profile/", api.BookingProfileView.as_view(), name="api-client-booking-profile"),
]
