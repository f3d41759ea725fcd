"""Celery tasks of membership tiers (LOY-1)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="loyalty.tiers_evaluate")
def tiers_evaluate_salon() -> dict[str, int]:
    """Move every client of the salon whose schema the task runs in to the tier their rolling 12-month
    spend or points reach; run nightly through ``tenants.for_each_salon``."""
    from apps.loyalty.services.tiers import tiers_evaluate_all

    return tiers_evaluate_all()
