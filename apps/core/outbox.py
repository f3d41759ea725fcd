"""How core sends e-mail (password resets) without importing the messaging app above it.

apps.messaging registers its sender at start-up (MessagingConfig.ready), so every
message lands in the salon's delivery log; without it, Django's mail backend is used.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.mail import send_mail

EmailSender = Callable[..., object]

_sender: EmailSender | None = None


def register_email_sender(sender: EmailSender) -> None:
    global _sender
    _sender = sender


def email_send(*, to: str, subject: str, body: str, purpose: str) -> None:
    if _sender is not None:
        _sender(to=to, subject=subject, body=body, purpose=purpose)
    else:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [to])
