"""Celery tasks of the clients app, one module per topic; importing them here registers them
with autodiscovery (which looks for ``<app>.tasks``)."""

from apps.crm.tasks_interactions import follow_up_reminders
from apps.crm.tasks_tags import tags_recompute_salon

__all__ = ["follow_up_reminders", "tags_recompute_salon"]
