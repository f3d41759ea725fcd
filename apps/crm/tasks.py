"""Celery tasks of the clients app, one module per topic; importing them here registers them
with autodiscovery (which looks for ``<app>.tasks``)."""

from apps.crm.tasks_imports import import_check, import_run
from apps.crm.tasks_interactions import follow_up_reminders
from apps.crm.tasks_tags import tags_recompute_salon

__all__ = ["follow_up_reminders", "import_check", "import_run", "tags_recompute_salon"]
