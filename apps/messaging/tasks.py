from __future__ import annotations

from celery import shared_task

from apps.core.db import current_schema


@shared_task(name="messaging.delivery_send", ignore_result=False)
def delivery_send(delivery_id: int) -> dict[str, object]:
    """Deliver one message of the salon that queued it (the task runs in that salon's schema)."""
    from apps.messaging.services import delivery_attempt

    delivery = delivery_attempt(delivery_id=delivery_id)
    return {
        "schema": current_schema(),
        "delivery": delivery_id,
        "status": delivery.status if delivery is not None else "missing",
    }
