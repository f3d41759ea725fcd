"""Celery tasks of client import (CRM-7). Each runs in the schema of the salon that queued it
(tenant-schemas-celery carries the schema in the message headers)."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.utils import translation

from apps.core.db import current_schema


def _acting_user(user_id: int | None):  # type: ignore[no-untyped-def]
    from apps.core.models import User

    return User.objects.filter(pk=user_id).first() if user_id else None


@shared_task(name="crm.import_check", ignore_result=False)
def import_check(job_id: int, acting_user_id: int | None = None) -> dict[str, object]:
    """Check a large client import in the background; the report speaks the language of whoever started it."""
    from apps.crm.services.imports import import_job_check_execute

    user = _acting_user(acting_user_id)
    with translation.override(getattr(user, "language", None) or settings.LANGUAGE_CODE):
        job = import_job_check_execute(job_id=job_id, acting_user=user)
    return {"schema": current_schema(), "job": job_id, "status": job.status}


@shared_task(name="crm.import_run", ignore_result=False)
def import_run(job_id: int, acting_user_id: int | None = None) -> dict[str, object]:
    """Import a large, checked client list in the background, writing progress to the job."""
    from apps.crm.services.imports import import_job_run_execute

    user = _acting_user(acting_user_id)
    with translation.override(getattr(user, "language", None) or settings.LANGUAGE_CODE):
        job = import_job_run_execute(job_id=job_id, acting_user=user)
    return {"schema": current_schema(), "job": job_id, "status": job.status}
