"""Celery task of inventory. It runs in one salon's schema: beat queues it every morning for every salon
through ``tenants.for_each_salon``."""

from __future__ import annotations

from celery import shared_task

from apps.core.db import current_schema

LOW_STOCK_DIGEST_TASK = "inventory.low_stock_digest"


@shared_task(name=LOW_STOCK_DIGEST_TASK, ignore_result=True)
def low_stock_digest_salon() -> dict[str, object]:
    """Send this salon's low-stock digest, once per day per recipient (safe to run again or twice at once)."""
    from apps.inventory.services.alerts import low_stock_digest_send

    schema = current_schema()
    if schema == "public":  # queued without a salon: there is no stock here
        return {"schema": schema, "sent": 0}
    return {"schema": schema, "sent": len(low_stock_digest_send())}
