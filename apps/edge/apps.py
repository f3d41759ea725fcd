from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EdgeConfig(AppConfig):
    name = "apps.edge"
    label = "edge"
    verbose_name = _("Devices")
    default_auto_field = "django.db.models.BigAutoField"
