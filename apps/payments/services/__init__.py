"""Writes of the payment gateways, one module per topic. The till calls the names below; they are the
stable interface of this app (see docs/payments.md)."""

from apps.payments.services.accounts import merchant_account_update
from apps.payments.services.charges import (
    gateway_charge_code,
    gateway_charge_qr,
    gateway_payment_cancel,
    gateway_payment_query,
)
from apps.payments.services.notifications import gateway_notification_handle, gateway_refund_notification_handle
from apps.payments.services.reconcile import gateway_payments_reconcile
from apps.payments.services.refunds import gateway_refund

__all__ = [
    "gateway_charge_code",
    "gateway_charge_qr",
    "gateway_notification_handle",
    "gateway_payment_cancel",
    "gateway_payment_query",
    "gateway_payments_reconcile",
    "gateway_refund",
    "gateway_refund_notification_handle",
    "merchant_account_update",
]
