"""URLs of a salon's domain: the staff app and the salon's API."""

from django.conf import settings
from django.urls import include, path
from django.views.static import serve

from salon_platform.health import healthz
from salon_platform.urls_api import common_api_urls
from tenants import api as tenant_api
from tenants import views as tenant_views

# The API first: it is the hot path for apps and devices, and resolves without walking the pages.
urlpatterns = [
    *common_api_urls(__name__),
    path("api/v1/", include("apps.core.api_urls")),
    path("api/v1/", include("apps.crm.api_urls")),
    path("api/v1/", include("apps.catalog.api_urls")),
    path("api/v1/", include("apps.loyalty.api_urls")),
    path("api/v1/", include("apps.scheduling.api_urls")),
    path("api/v1/", include("apps.inventory.api_urls")),
    path("api/v1/", include("apps.payments.api_urls")),
    path("api/v1/", include("apps.pos.api_urls")),
    path("api/v1/", include("apps.edge.api_urls")),
    path("api/v1/salon/", tenant_api.SalonProfileView.as_view(), name="api-salon"),
    path("", include("apps.core.urls")),
    path("settings/catalog/", include("apps.catalog.urls")),
    path("", include("apps.scheduling.urls")),
    path("inventory/", include("apps.inventory.urls")),
    path("till/", include("apps.pos.urls")),
    path("devices/", include("apps.edge.urls")),
    path("clients/", include("apps.crm.urls")),
    path("members/", include("apps.loyalty.urls")),
    path("member/", include("apps.loyalty.member_urls", namespace="member")),
    path("book/", include("apps.scheduling.client_urls", namespace="book")),
    path("settings/payments/", include("apps.payments.urls")),
    path("payments/notify/", include("apps.payments.notify_urls")),
    path("settings/salon/", tenant_views.salon_profile, name="salon_profile"),
    path("i18n/language/", tenant_views.language_set_public, name="language_public"),
    path("healthz", healthz, name="healthz"),
]

if settings.DEBUG or settings.TESTING:
    # Only salon logos are public files; client photos and imports are streamed by views that check
    # the signed-in staff member.
    urlpatterns.append(path("media/logos/<path:path>", serve, {"document_root": f"{settings.MEDIA_ROOT}/logos"}))
