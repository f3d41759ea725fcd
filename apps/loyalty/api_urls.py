"""REST API of loyalty (SPEC §4); each topic module lists its own routes."""

from apps.loyalty.api import coupons, courses, tiers, wallets

urlpatterns = [*wallets.urlpatterns, *tiers.urlpatterns, *courses.urlpatterns, *coupons.urlpatterns]
