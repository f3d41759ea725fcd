"""Outgoing messages and their delivery log (CMP-5 base). One row per message per recipient."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    SMS = "sms", _("SMS")
    WECHAT = "wechat", _("WeChat")


class DeliveryStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class Delivery(models.Model):
    id = models.BigAutoField(primary_key=True)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    recipient = models.CharField(max_length=254)
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField()
    purpose = models.CharField(max_length=64, help_text="What the message is for, e.g. password_reset")
    # WeChat template messages: which template (a key of settings.WECHAT_TEMPLATES) and its fields;
    # ``body`` keeps the same message as readable text for the log.
    template = models.CharField(max_length=64, blank=True)
    data = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["-id"]
        indexes = [models.Index(fields=["status", "id"], name="delivery_status_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(channel__in=[c.value for c in Channel]), name="delivery_channel_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=[s.value for s in DeliveryStatus]), name="delivery_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel} → {self.recipient} ({self.status})"


class OneTimeCode(models.Model):
    """A short code sent to a phone to prove the person holds it (LOY-8 redemptions, LOY-9 member login).

    Neither the phone nor the code is stored readable: ``recipient_hash`` is the search hash of the
    E.164 number and ``code_hash`` a keyed hash of the code. A code is used at most once, expires, and
    stops accepting guesses after ``MAX_ATTEMPTS`` wrong ones.
    """

    MAX_ATTEMPTS = 5

    id = models.BigAutoField(primary_key=True)
    recipient_hash = models.CharField(max_length=64)
    purpose = models.CharField(max_length=64, help_text="What the code unlocks, e.g. member_login")
    code_hash = models.CharField(max_length=64)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)
    delivery = models.ForeignKey(Delivery, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("one-time code")
        verbose_name_plural = _("one-time codes")
        ordering = ["-id"]
        indexes = [models.Index(fields=["recipient_hash", "purpose", "-id"], name="otp_recipient_idx")]
        constraints = [
            models.CheckConstraint(condition=models.Q(attempts__lte=5), name="otp_attempts_capped"),
        ]

    def __str__(self) -> str:
        return f"{self.purpose} ({self.created_at:%Y-%m-%d %H:%M})"
