from django.urls import path

from apps.scheduling.api import queues as api

urlpatterns = [
    path("waitlist/", api.WaitlistListView.as_view(), name="api-waitlist-list"),
    path("waitlist/<int:pk>/", api.WaitlistDetailView.as_view(), name="api-waitlist-detail"),
    path("walk-ins/", api.WalkInListView.as_view(), name="api-walk-in-list"),
    path("walk-ins/<int:pk>/assign/", api.WalkInAssignView.as_view(), name="api-walk-in-assign"),
    path("walk-ins/<int:pk>/left/", api.WalkInLeaveView.as_view(), name="api-walk-in-left"),
    path("rotation/", api.RotationView.as_view(), name="api-rotation"),
    path("rotation/reorder/", api.RotationReorderView.as_view(), name="api-rotation-reorder"),
    path("rotation/<int:pk>/skip/", api.RotationCardActionView.as_view(card_action="skip"), name="api-rotation-skip"),
    path("rotation/<int:pk>/away/", api.RotationCardActionView.as_view(card_action="away"), name="api-rotation-away"),
    path("rotation/<int:pk>/back/", api.RotationCardActionView.as_view(card_action="back"), name="api-rotation-back"),
]
