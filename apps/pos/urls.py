from django.urls import URLPattern, URLResolver, include, path

app_name = "pos"

urlpatterns: list[URLPattern | URLResolver] = [
    # Each topic's pages come from its own module (urls_<topic>.py), one line each:
    # path("", include("apps.pos.urls_<topic>")),
    path("", include("apps.pos.urls_commission")),
    path("", include("apps.pos.urls_receipts")),
    path("", include("apps.pos.urls_cash")),
    path("", include("apps.pos.urls_reports")),
    path("", include("apps.pos.urls_bills")),
]
