"""Celery task of the till's gateway tenders (POS-4): refund parts still pending at WeChat Pay / Alipay are
sent again and their outcome recorded. Beat queues it every minute for every salon through
``tenants.for_each_salon``; registered by PosConfig.ready."""

from __future__ import annotations

from celery import shared_task

from apps.core.db import current_schema

GATEWAY_REFUNDS_SYNC_TASK = "pos.gateway_refunds_sync"


@shared_task(name=GATEWAY_REFUNDS_SYNC_TASK, ignore_result=True)
def gateway_refunds_sync_salon() -> dict[str, object]:
    from apps.pos.services.gateway_tenders import gateway_refunds_sync

    schema = current_schema()
    if schema == "public":
        return {"schema": schema}
    return {"schema": schema, "refunds": gateway_refunds_sync()}
