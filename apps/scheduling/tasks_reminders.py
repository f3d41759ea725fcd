"""Celery task of reminders (SCH-8). It runs in one salon's schema: beat queues it for every salon every
five minutes through ``tenants.for_each_salon``. Registered by SchedulingConfig.ready (autodiscovery only
looks for ``<app>.tasks``)."""

from __future__ import annotations

from celery import shared_task

from apps.core.db import current_schema

REMINDERS_TASK = "scheduling.reminders_send"


@shared_task(name=REMINDERS_TASK, ignore_result=True)
def reminders_send() -> dict[str, object]:
    """Send this salon's appointment reminders that are due, each once (safe to run again or twice at once)."""
    from apps.scheduling.services.reminders import reminders_due_send

    schema = current_schema()
    if schema == "public":  # queued without a salon: nothing to remind of here
        return {"schema": schema, "reminders": 0}
    return {"schema": schema, "reminders": len(reminders_due_send())}


NOTIFY_TASK = "scheduling.appointment_notify"


@shared_task(name=NOTIFY_TASK, ignore_result=True)
def appointment_notify_task(appointment_id: int, kind: str, data: dict[str, object] | None = None) -> int:
    """Tell the client and technicians of a booking change, in the worker rather than in the request that
    made the change (sent once per recipient and start, so a retried or repeated task sends nothing more)."""
    from apps.scheduling.models import Appointment
    from apps.scheduling.services.reminders import appointment_notify

    appointment = Appointment.objects.filter(pk=appointment_id).first()
    if appointment is None:
        return 0
    return len(appointment_notify(appointment=appointment, kind=kind, data=data))
