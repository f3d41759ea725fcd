from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TenantsConfig(AppConfig):
    name = "tenants"
    verbose_name = _("Salons")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from tenants.middleware import tenant_cache_clear
        from tenants.models import Domain, Salon

        for model in (Salon, Domain):
            post_save.connect(tenant_cache_clear, sender=model, dispatch_uid=f"tenant_cache_save_{model.__name__}")
            post_delete.connect(tenant_cache_clear, sender=model, dispatch_uid=f"tenant_cache_del_{model.__name__}")
