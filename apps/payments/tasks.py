"""Celery tasks of the payment gateways. They run in one salon's schema: beat queues them every minute
for every salon through ``tenants.for_each_salon``."""

from __future__ import annotations

from celery import shared_task

from apps.core.db import current_schema

RECONCILE_TASK = "payments.reconcile_pending"


@shared_task(name=RECONCILE_TASK, ignore_result=True)
def reconcile_pending_salon() -> dict[str, object]:
    """Ask the providers about this salon's payments and refunds still pending, and settle them (safe to
    run again or twice at once)."""
    from apps.payments.services import gateway_payments_reconcile

    schema = current_schema()
    if schema == "public":  # queued without a salon: there are no payments here
        return {"schema": schema}
    return {"schema": schema, **gateway_payments_reconcile()}
