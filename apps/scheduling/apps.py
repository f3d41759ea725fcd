from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SchedulingConfig(AppConfig):
    name = "apps.scheduling"
    label = "scheduling"
    verbose_name = _("Scheduling")

    def ready(self) -> None:
        from apps.scheduling import (
            registry,
            tasks_queues,  # noqa: F401  (registers the waitlist's tasks)
            tasks_reminders,  # noqa: F401  (registers the beat task)
        )
        from apps.scheduling.services.reminders import on_appointment_changed
        from apps.scheduling.services.waitlist import waitlist_on_appointment_changed
        from apps.scheduling.signals import appointment_changed

        appointment_changed.connect(on_appointment_changed, dispatch_uid="scheduling.reminders.appointment_changed")
        # A freed slot is offered to the waitlist; a served walk-in follows its visit.
        appointment_changed.connect(waitlist_on_appointment_changed, dispatch_uid="scheduling.waitlist")
        # the client record's Bookings section, merge movers and personal-data export (crm's registries)
        registry.register()
