from __future__ import annotations

from typing import Any

from celery import current_app, shared_task
from django_tenants.utils import get_public_schema_name

from tenants import provisioning
from tenants.models import Salon, SalonStatus

# Salons whose scheduled work runs: a suspended salon's staff cannot sign in to act on it.
SERVED_STATUSES = (SalonStatus.ACTIVE, SalonStatus.TRIAL, SalonStatus.PAST_DUE)


@shared_task(name="tenants.pool_refill", ignore_result=True)
def pool_refill() -> int:
    """Keep SALON_POOL_SIZE migrated schemas ready for the next signups (public schema task)."""
    return provisioning.pool_refill()


def _registered_task(name: str) -> Any:
    try:
        return current_app.tasks[name]
    except KeyError:
        # Workers import every app's tasks module at start; a shell or a test process may not have yet.
        current_app.loader.import_default_modules()
        return current_app.tasks[name]


@shared_task(name="tenants.for_each_salon", ignore_result=True)
def for_each_salon(task_name: str) -> int:
    """Queue the named (salon-level) task once for every salon being served, each in its own
    schema (public schema task, run by beat). Returns how many were queued."""
    task = _registered_task(task_name)
    schemas = list(
        Salon.objects.filter(status__in=SERVED_STATUSES)
        .exclude(schema_name=get_public_schema_name())
        .order_by("pk")
        .values_list("schema_name", flat=True)
    )
    for schema in schemas:
        task.apply_async(headers={"_schema_name": schema})
    return len(schemas)
