"""REST API of loyalty (SPEC §4); each topic module lists its own routes."""

from apps.loyalty.api import coupons, wallets

urlpatterns = [*wallets.urlpatterns, *coupons.urlpatterns]
