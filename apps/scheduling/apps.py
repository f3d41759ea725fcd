from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SchedulingConfig(AppConfig):
    name = "apps.scheduling"
    label = "scheduling"
    verbose_name = _("Scheduling")

    def ready(self) -> None:
        from apps.scheduling import registry, tasks_reminders  # noqa: F401  (registers the beat task)
        from apps.scheduling.services.reminders import on_appointment_changed
        from apps.scheduling.signals import appointment_changed

        appointment_changed.connect(on_appointment_changed, dispatch_uid="scheduling.reminders.appointment_changed")
        # the client record's Bookings section, merge movers and personal-data export (crm's registries)
        registry.register()
