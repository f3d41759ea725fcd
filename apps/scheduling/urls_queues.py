"""Pages of the waitlist (SCH-9) and the walk-in queue and rotation (SCH-11), and the client's offer
link (``/book/offer/<token>/``, from ``urls_offer``)."""

from django.urls import path

from apps.scheduling.views import queues as views

urlpatterns = [
    path("calendar/waitlist/", views.waitlist_page, name="waitlist"),
    path("calendar/waitlist/<int:pk>/cancel/", views.waitlist_cancel, name="waitlist_cancel"),
    path("calendar/walk-ins/", views.walk_ins_page, name="walk_ins"),
    path("calendar/walk-ins/<int:pk>/assign/", views.walk_in_assign_next, name="walk_in_assign"),
    path(
        "calendar/walk-ins/<int:pk>/assign-requested/",
        views.walk_in_assign_requested,
        name="walk_in_assign_requested",
    ),
    path("calendar/walk-ins/<int:pk>/left/", views.walk_in_leave, name="walk_in_leave"),
    path(
        "calendar/rotation/<int:pk>/<str:action>/",
        views.rotation_card_action,
        name="rotation_card",
    ),
    # The client's offer link; ``urls_offer`` holds the same page for mounting under another ``book/`` conf.
    path("book/offer/<str:token>/", views.offer_page, name="waitlist_offer"),
]
