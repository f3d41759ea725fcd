"""Celery app. Tasks queued inside a salon's request run in that salon's schema
(tenant-schemas-celery carries the schema in the message headers)."""

import os

from tenant_schemas_celery.app import CeleryApp

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salon_platform.settings")

app = CeleryApp("salon_platform")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
