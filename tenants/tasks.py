from __future__ import annotations

from celery import shared_task

from tenants import provisioning


@shared_task(name="tenants.pool_refill", ignore_result=True)
def pool_refill() -> int:
    """Keep SALON_POOL_SIZE migrated schemas ready for the next signups (public schema task)."""
    return provisioning.pool_refill()
