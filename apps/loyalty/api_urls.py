"""REST API of loyalty (SPEC §4); each topic module lists its own routes."""

from apps.loyalty.api import cards, coupons, courses, points, tiers, wallets

urlpatterns = [
    *wallets.urlpatterns,
    *tiers.urlpatterns,
    *courses.urlpatterns,
    *cards.urlpatterns,
    *points.urlpatterns,
    *coupons.urlpatterns,
]
