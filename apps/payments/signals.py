"""Signals of the payment gateways, for the parts above them (the till).

``gateway_payment_settled(sender=GatewayPayment, payment=<GatewayPayment>)`` is sent once for each
change of a payment's status to a final one: ``succeeded``, ``failed`` or ``cancelled``. It is sent
INSIDE the transaction that changes the status, with the payment row locked, so a receiver that updates
its own rows (the bill a payment belongs to) does so atomically with the change: if the receiver raises,
the status change is rolled back too. Receivers read ``payment.status``, ``payment.reference`` (the text
the caller gave, e.g. ``"bill:12"``), ``payment.amount`` and ``payment.provider_transaction_id``.

``gateway_refund_settled(sender=GatewayRefund, refund=<GatewayRefund>)`` is sent once when a refund
changes from ``pending`` to ``succeeded`` or ``failed`` (however that became known: the provider's answer,
a refund query, a refund notification), inside that transaction, with the payment and refund rows locked.
Receivers find their part by ``refund.out_refund_no`` and read ``refund.status``, ``refund.amount`` and
``refund.error_message`` (why it failed, for staff).
"""

from __future__ import annotations

from django.dispatch import Signal

gateway_payment_settled = Signal()
gateway_refund_settled = Signal()
