"""The notify addresses the providers post to, mounted under /payments/notify/ on each salon's domain."""

from django.urls import path

from apps.payments import views

app_name = "payments_notify"

urlpatterns = [
    path("wechat/", views.notify, {"provider": "wechat"}, name="wechat"),
    path("wechat/refund/", views.refund_notify, {"provider": "wechat"}, name="wechat_refund"),
    path("alipay/", views.notify, {"provider": "alipay"}, name="alipay"),
]
