"""Celery tasks of follow-ups (CRM-6). They run in one salon's schema: beat queues them for every
salon through ``tenants.for_each_salon``."""

from __future__ import annotations

from celery import shared_task

from apps.core.db import current_schema

FOLLOW_UP_REMINDERS_TASK = "crm.follow_up_reminders"


@shared_task(name=FOLLOW_UP_REMINDERS_TASK, ignore_result=True)
def follow_up_reminders() -> dict[str, object]:
    """Remind staff of this salon's follow-ups due today, once each (safe to run again or twice at once)."""
    from apps.crm.services.interactions import follow_up_reminders_send

    schema = current_schema()
    if schema == "public":  # queued without a salon: there is nothing to remind of here
        return {"schema": schema, "reminders": 0}
    deliveries = follow_up_reminders_send()
    return {"schema": schema, "reminders": len(deliveries)}
