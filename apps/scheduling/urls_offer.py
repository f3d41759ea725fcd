"""The client's page of a waitlist offer (SCH-9), mounted at ``/book/offer/``: no sign-in, the private
link is the proof."""

from django.urls import path

from apps.scheduling.views import queues as views

urlpatterns = [
    path("<str:token>/", views.offer_page, name="waitlist_offer_page"),
]
