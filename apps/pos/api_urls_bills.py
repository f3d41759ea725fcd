from django.urls import path

from apps.pos.api.bills import urlpatterns as bill_urls
from apps.pos.api.gateway_tenders import GatewayTenderActionView

urlpatterns = [
    *bill_urls,
    path(
        "orders/<int:pk>/tenders/<int:tender_pk>/refresh/",
        GatewayTenderActionView.as_view(action="refresh"),
        name="api-order-tender-refresh",
    ),
    path(
        "orders/<int:pk>/tenders/<int:tender_pk>/cancel/",
        GatewayTenderActionView.as_view(action="cancel"),
        name="api-order-tender-cancel",
    ),
]

__all__ = ["urlpatterns"]
