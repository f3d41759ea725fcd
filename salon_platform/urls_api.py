"""API pieces served on both the root domain and salon domains."""

from django.urls import URLPattern, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from apps.core.api import MetaView


def common_api_urls(urlconf: str) -> list[URLPattern]:
    """Meta and the OpenAPI document of the host's own URL conf (each host documents what it serves)."""
    return [
        path("api/v1/meta/", MetaView.as_view(), name="api-meta"),
        path("api/v1/schema/", SpectacularAPIView.as_view(urlconf=urlconf), name="api-schema"),
        path("api/v1/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    ]
