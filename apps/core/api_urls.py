from django.urls import path

from apps.core import api

urlpatterns = [
    path("auth/token/", api.TokenView.as_view(), name="api-token"),
    path("me/", api.MeView.as_view(), name="api-me"),
    path("locations/", api.LocationListView.as_view(), name="api-location-list"),
    path("locations/<int:pk>/", api.LocationDetailView.as_view(), name="api-location-detail"),
]
