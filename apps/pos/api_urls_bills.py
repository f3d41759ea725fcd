from django.urls import path

from apps.pos.api.bills import urlpatterns as bill_urls
from apps.pos.api.gateway_tenders import GatewayTenderActionView, RefundPartActionView

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
    path(
        "orders/<int:pk>/refund-parts/<int:part_pk>/resend/",
        RefundPartActionView.as_view(action="resend"),
        name="api-order-refund-part-resend",
    ),
    path(
        "orders/<int:pk>/refund-parts/<int:part_pk>/cash/",
        RefundPartActionView.as_view(action="cash"),
        name="api-order-refund-part-cash",
    ),
]

__all__ = ["urlpatterns"]
