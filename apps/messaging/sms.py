"""SMS backends. The setting ``SMS_BACKEND`` names one; the console backend prints messages (development),
the locmem backend keeps them in ``outbox`` (tests). A provider's real SDK goes behind the same
``send(to, body)`` and turns its errors into ``SmsError``."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string


class SmsError(Exception):
    """The provider refused or could not be reached; the delivery log records the text."""


@dataclass(frozen=True)
class SmsMessage:
    to: str
    body: str


class SmsBackend(Protocol):
    def send(self, *, to: str, body: str) -> None: ...


class ConsoleSmsBackend:
    def send(self, *, to: str, body: str) -> None:
        sys.stdout.write(f"SMS to {to}: {body}\n")
        sys.stdout.flush()


# Messages the locmem backend "sent", like django.core.mail.outbox.
outbox: list[SmsMessage] = []


class LocmemSmsBackend:
    def send(self, *, to: str, body: str) -> None:
        outbox.append(SmsMessage(to=to, body=body))


def sms_backend() -> SmsBackend:
    backend: SmsBackend = import_string(settings.SMS_BACKEND)()
    return backend
