"""Celery tasks of points (LOY-2). They run in one salon's schema: beat queues them nightly for every
salon through ``tenants.for_each_salon``."""

from __future__ import annotations

from celery import shared_task

from apps.core.db import current_schema

POINTS_EXPIRE_TASK = "loyalty.points_expire"
BIRTHDAY_POINTS_TASK = "loyalty.birthday_points"


@shared_task(name=POINTS_EXPIRE_TASK, ignore_result=True)
def points_expire_salon() -> dict[str, object]:
    """Expire the points of this salon whose date has passed (safe to run again or twice at once)."""
    from apps.loyalty.services.points import points_expire

    schema = current_schema()
    if schema == "public":  # queued without a salon: there are no points here
        return {"schema": schema, "wallets": 0}
    return {"schema": schema, "wallets": points_expire()}


@shared_task(name=BIRTHDAY_POINTS_TASK, ignore_result=True)
def birthday_points_salon() -> dict[str, object]:
    """Give this salon's birthday points to the clients whose birthday is today, once a year each."""
    from apps.loyalty.services.points import birthday_points_grant

    schema = current_schema()
    if schema == "public":
        return {"schema": schema, "clients": 0}
    return {"schema": schema, "clients": birthday_points_grant()}
