from django.urls import URLPattern, URLResolver, include, path

urlpatterns: list[URLPattern | URLResolver] = [
    # Each topic's endpoints come from its own module (api_urls_<topic>.py), one line each:
    # path("", include("apps.pos.api_urls_<topic>")),
    path("", include("apps.pos.api_urls_commission")),
    path("", include("apps.pos.api_urls_receipts")),
    path("", include("apps.pos.api_urls_cash")),
    path("", include("apps.pos.api_urls_reports")),
    path("", include("apps.pos.api_urls_bills")),
]
