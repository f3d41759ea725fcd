"""The salon's booking settings (one row, id 1)."""

from __future__ import annotations

from apps.scheduling.models import SchedulingSettings


def scheduling_settings() -> SchedulingSettings:
    """The salon's booking settings; the row is created by migration, and with defaults should it be
    missing (a schema restored from before it existed)."""
    row, _created = SchedulingSettings.objects.get_or_create(id=1)
    return row
