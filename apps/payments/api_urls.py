"""REST API of the payment gateways (SPEC §4); each topic module lists its own routes."""

from apps.payments.api import accounts, payments

urlpatterns = [
    *accounts.urlpatterns,
    *payments.urlpatterns,
]
