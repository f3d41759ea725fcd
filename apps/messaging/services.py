"""Sending messages. A message is recorded first, then delivered by a Celery task after commit,
so a rolled-back action sends nothing and every send leaves a log row."""

from __future__ import annotations

import re
from collections.abc import Mapping

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone

from apps.core.db import current_schema
from apps.messaging.models import Channel, Delivery, DeliveryStatus
from apps.messaging.sms import sms_backend
from apps.messaging.wechat import wechat_backend

# Messages whose purpose starts with this carry a secret (a one-time code): see delivery_attempt.
ONE_TIME_CODE_PURPOSE_PREFIX = "code:"


def message_send(
    *,
    channel: str,
    recipient: str,
    body: str,
    purpose: str,
    subject: str = "",
    template: str | None = None,
    data: Mapping[str, str] | None = None,
) -> Delivery:
    """Queue a message on any channel in the current salon's delivery log and send it after commit.

    ``recipient`` is an e-mail address, an E.164 number or an official-account openid. A WeChat message
    needs ``template`` (a key of ``WECHAT_TEMPLATES``) and its ``data``; ``body`` is the same message as
    text, for the log."""
    if channel not in Channel.values:
        raise ValueError(f"unknown channel {channel!r}")
    if channel == Channel.WECHAT and not template:
        raise ValueError("a WeChat message needs a template")
    delivery = Delivery.objects.create(
        channel=channel,
        recipient=recipient,
        subject=subject[:200],
        body=body,
        purpose=purpose,
        template=template or "",
        data=dict(data or {}),
    )
    _send_after_commit(delivery)
    return delivery


def message_send_email(*, to: str, subject: str, body: str, purpose: str) -> Delivery:
    """Queue an e-mail in the current salon's delivery log and send it after commit."""
    return message_send(channel=Channel.EMAIL, recipient=to, subject=subject, body=body, purpose=purpose)


def message_send_sms(*, to: str, body: str, purpose: str) -> Delivery:
    """Queue a text message to an E.164 number in the delivery log and send it after commit."""
    return message_send(channel=Channel.SMS, recipient=to, body=body, purpose=purpose)


def _send_after_commit(delivery: Delivery) -> None:
    from apps.messaging.tasks import delivery_send

    # Bind the salon now: the commit hook may run after the connection has moved to another schema.
    schema = current_schema()
    transaction.on_commit(lambda: delivery_send.apply_async(args=[delivery.pk], headers={"_schema_name": schema}))


def delivery_attempt(*, delivery_id: int) -> Delivery | None:
    """Send one queued delivery. Sent at most once: the row is locked and re-checked."""
    with transaction.atomic():
        delivery = Delivery.objects.select_for_update().filter(pk=delivery_id).first()
        if delivery is None or delivery.status == DeliveryStatus.SENT:
            return delivery
        delivery.attempts += 1
        try:
            if delivery.channel == Channel.SMS:
                sms_backend().send(to=delivery.recipient, body=delivery.body)
            elif delivery.channel == Channel.EMAIL:
                EmailMessage(
                    subject=delivery.subject,
                    body=delivery.body,
                    from_email=settings.DEFAULT_FROM_EMAIL,
                    to=[delivery.recipient],
                ).send()
            elif delivery.channel == Channel.WECHAT:
                wechat_backend().send_template(
                    openid=delivery.recipient, template=delivery.template, data=delivery.data
                )
            else:
                raise NotImplementedError(f"channel {delivery.channel} has no backend yet")
        except Exception as exc:  # the log row records every failure; the caller decides on retries
            delivery.status = DeliveryStatus.FAILED
            delivery.error = f"{exc.__class__.__name__}: {exc}"[:300]
        else:
            delivery.status = DeliveryStatus.SENT
            delivery.sent_at = timezone.now()
            delivery.error = ""
            if delivery.purpose.startswith(ONE_TIME_CODE_PURPOSE_PREFIX):
                # A one-time code is a secret: once delivered, the log keeps the message without it.
                delivery.body = re.sub(r"\d{4,}", lambda m: "*" * len(m.group()), delivery.body)
        delivery.save(update_fields=["status", "attempts", "error", "sent_at", "body"])
        return delivery
