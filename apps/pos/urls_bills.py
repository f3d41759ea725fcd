from django.urls import path

from apps.pos.views import bills as views
from apps.pos.views import gateway_tenders

urlpatterns = [
    path("", views.bill_list, name="bill_list"),
    path("clients/", views.client_pick, name="bill_client_pick"),
    path("bills/new/", views.bill_new, name="bill_new"),
    path("appointments/<int:pk>/checkout/", views.bill_from_appointment, name="bill_from_appointment"),
    path("bills/<int:pk>/", views.bill_detail, name="bill_detail"),
    path("bills/<int:pk>/items/", views.item_search, name="bill_item_search"),
    path("bills/<int:pk>/lines/", views.line_add, name="bill_line_add"),
    path("bills/<int:pk>/lines/<int:line_pk>/", views.line_update, name="bill_line_update"),
    path("bills/<int:pk>/lines/<int:line_pk>/remove/", views.line_remove, name="bill_line_remove"),
    path("bills/<int:pk>/coupons/", views.coupon_apply, name="bill_coupon_apply"),
    path("bills/<int:pk>/coupons/<int:coupon_pk>/remove/", views.coupon_remove, name="bill_coupon_remove"),
    path("bills/<int:pk>/notes/", views.notes_save, name="bill_notes"),
    path("bills/<int:pk>/void/", views.bill_void, name="bill_void"),
    path("bills/<int:pk>/pay/", views.bill_pay, name="bill_pay"),
    path("bills/<int:pk>/pay/preview/", views.pay_preview, name="bill_pay_preview"),
    path("bills/<int:pk>/pay/code/", views.bill_send_code, name="bill_send_code"),
    path("bills/<int:pk>/refund/", views.bill_refund, name="bill_refund"),
    path("settings/", views.settings_page, name="settings"),
    path(
        "bills/<int:pk>/gateway/<int:tender_pk>/",
        gateway_tenders.gateway_status,
        name="bill_gateway_status",
    ),
    path(
        "bills/<int:pk>/gateway/<int:tender_pk>/refresh/",
        gateway_tenders.gateway_refresh,
        name="bill_gateway_refresh",
    ),
    path(
        "bills/<int:pk>/gateway/<int:tender_pk>/cancel/",
        gateway_tenders.gateway_cancel,
        name="bill_gateway_cancel",
    ),
    path(
        "bills/<int:pk>/refund-parts/<int:part_pk>/resend/",
        gateway_tenders.refund_part_settle,
        {"how": "resend"},
        name="bill_refund_part_resend",
    ),
    path(
        "bills/<int:pk>/refund-parts/<int:part_pk>/cash/",
        gateway_tenders.refund_part_settle,
        {"how": "cash"},
        name="bill_refund_part_cash",
    ),
]
