"""Signals of the payment gateways, for the parts above them (the till).

``gateway_payment_settled(sender=GatewayPayment, payment=<GatewayPayment>)`` is sent once for each
change of a payment's status to a final one: ``succeeded``, ``failed`` or ``cancelled``. It is sent
INSIDE the transaction that changes the status, with the payment row locked, so a receiver that updates
its own rows (the bill a payment belongs to) does so atomically with the change: if the receiver raises,
the status change is rolled back too. Receivers read ``payment.status``, ``payment.reference`` (the text
the caller gave, e.g. ``"bill:12"``), ``payment.amount`` and ``payment.provider_transaction_id``.
"""

from __future__ import annotations

from django.dispatch import Signal

gateway_payment_settled = Signal()
