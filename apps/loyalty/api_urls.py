"""REST API of loyalty (SPEC §4); each topic module lists its own routes."""

from apps.loyalty.api import cards, points, wallets

urlpatterns = [*wallets.urlpatterns, *cards.urlpatterns, *points.urlpatterns]
