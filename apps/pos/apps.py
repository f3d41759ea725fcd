from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PosConfig(AppConfig):
    name = "apps.pos"
    label = "pos"
    verbose_name = _("Till")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from apps.pos import client_record

        # the client record's Bills section, merge movers and personal-data export (crm's registries)
        client_record.register()
