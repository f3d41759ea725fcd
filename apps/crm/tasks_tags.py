"""Celery tasks of automatic tags (CRM-3)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="crm.tags_recompute")
def tags_recompute_salon() -> dict[str, list[int]]:
    """Recompute every automatic tag of the salon whose schema the task runs in."""
    from apps.crm.services.tags import tags_recompute

    return {name: list(counts) for name, counts in tags_recompute().items()}
