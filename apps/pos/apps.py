from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PosConfig(AppConfig):
    name = "apps.pos"
    label = "pos"
    verbose_name = _("Till")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from apps.pos import (
            client_record,
            print_sources,
            receivers,  # noqa: F401  (commission, stock and receipts on a paid or refunded bill)
            tasks_receipts,  # noqa: F401  (registers the task run after a payment)
        )

        # what POST /api/v1/print-jobs/ can print from the till (edge's registry)
        print_sources.register()
        # the client record's Bills section, merge movers and personal-data export (crm's registries)
        client_record.register()
        # WeChat Pay / Alipay tenders settled by the gateways, and the gateway refunds' periodic task
        from apps.pos import receivers_gateway, tasks_gateway  # noqa: F401
