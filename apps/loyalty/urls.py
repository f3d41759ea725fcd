"""Loyalty pages, mounted under /members/."""

from django.urls import path

from apps.loyalty.views import cards, coupons, courses, points, tiers, wallets

app_name = "loyalty"

urlpatterns = [
    path("", wallets.home, name="home"),
    path("clients/<int:pk>/", wallets.account_wallet, name="account_wallet"),
    path("clients/<int:pk>/refund/", wallets.wallet_refund, name="wallet_refund"),
    path("clients/<int:pk>/adjust/", wallets.wallet_adjust, name="wallet_adjust"),
    path("clients/<int:pk>/cards/", cards.account_cards, name="account_cards"),
    path("clients/<int:pk>/cards/issue/", cards.card_issue, name="card_issue"),
    path("cards/<int:pk>/<slug:change>/", cards.card_change, name="card_change"),
    path("clients/<int:pk>/points/", points.account_points, name="account_points"),
    path("clients/<int:pk>/points/check-in/", points.points_check_in, name="points_check_in"),
    path("clients/<int:pk>/points/redeem/", points.points_redeem, name="points_redeem"),
    path("clients/<int:pk>/points/adjust/", points.points_adjust, name="points_adjust"),
    path("top-up-rules/", wallets.top_up_rule_list, name="top_up_rule_list"),
    path("top-up-rules/new/", wallets.top_up_rule_create, name="top_up_rule_create"),
    path("top-up-rules/<int:pk>/", wallets.top_up_rule_edit, name="top_up_rule_edit"),
    path("settings/", wallets.settings_edit, name="settings"),
    path("tiers/", tiers.tier_list, name="tier_list"),
    path("tiers/<int:pk>/", tiers.tier_edit, name="tier_edit"),
    path("clients/<int:pk>/tier/", tiers.account_tier, name="account_tier"),
    path("clients/<int:pk>/course-cards/", courses.account_courses, name="account_courses"),
    path("course-cards/", courses.course_card_list, name="course_card_list"),
    path("coupons/", coupons.coupon_template_list, name="coupon_template_list"),
    path("coupons/new/", coupons.coupon_template_create, name="coupon_template_create"),
    path("coupons/<int:pk>/", coupons.coupon_template_edit, name="coupon_template_edit"),
    path("coupons/<int:pk>/issue/", coupons.coupon_template_issue, name="coupon_template_issue"),
    path("coupons/<int:pk>/rules/new/", coupons.coupon_rule_create, name="coupon_rule_create"),
    path("coupons/rules/<int:pk>/", coupons.coupon_rule_edit, name="coupon_rule_edit"),
    path("coupons/pick-clients/", coupons.coupon_client_pick, name="coupon_client_pick"),
    path("clients/<int:pk>/coupons/", coupons.account_coupons, name="account_coupons"),
    path("clients/<int:pk>/coupons/issue/", coupons.account_coupon_issue, name="account_coupon_issue"),
    path("clients/<int:pk>/coupons/<int:coupon_pk>/void/", coupons.account_coupon_void, name="account_coupon_void"),
]
