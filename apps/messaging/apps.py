from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MessagingConfig(AppConfig):
    name = "apps.messaging"
    label = "messaging"
    verbose_name = _("Messaging")

    def ready(self) -> None:
        from apps.core.outbox import register_email_sender
        from apps.messaging.services import message_send_email

        register_email_sender(message_send_email)
