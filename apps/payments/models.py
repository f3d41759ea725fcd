"""What the payment gateways store (POS-2): the salon's merchant accounts (credentials encrypted), every
payment and refund asked of a provider, and every notification a provider sent.

Invariants are in PostgreSQL: one account per provider, unique merchant payment and refund numbers,
a provider's transaction id recorded once, a refunded amount that never exceeds the payment, one row
per notification event (so a duplicate notification changes nothing)."""

from __future__ import annotations

import json
from typing import Any

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from apps.core.crypto import EncryptedTextField


class Provider(models.TextChoices):
    WECHAT = "wechat", _("WeChat Pay")
    ALIPAY = "alipay", _("Alipay")


class PaymentKind(models.TextChoices):
    # The cashier scans the payment code on the client's phone (付款码: WeChat micropay, Alipay bar_code).
    CODE = "code", _("Payment code scanned")
    # The client scans a QR code the till shows (WeChat NATIVE, Alipay precreate).
    QR = "qr", _("QR code shown")


class PaymentStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    SUCCEEDED = "succeeded", _("Paid")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


FINAL_STATUSES = frozenset({PaymentStatus.SUCCEEDED, PaymentStatus.FAILED, PaymentStatus.CANCELLED})


class RefundStatus(models.TextChoices):
    PENDING = "pending", _("Under way")
    SUCCEEDED = "succeeded", _("Refunded")
    FAILED = "failed", _("Failed")


# Credentials kept per provider, in the encrypted JSON of MerchantAccount.credentials. Secrets are
# write-only: pages and the API show only whether they are set.
CREDENTIAL_FIELDS: dict[str, tuple[str, ...]] = {
    Provider.WECHAT: ("app_id", "mch_id", "sub_mch_id", "api_key", "cert_pem", "cert_key_pem"),
    Provider.ALIPAY: ("app_id", "app_private_key", "alipay_public_key"),
}
SECRET_FIELDS = frozenset({"api_key", "cert_pem", "cert_key_pem", "app_private_key", "alipay_public_key"})
REQUIRED_FIELDS: dict[str, tuple[str, ...]] = {
    Provider.WECHAT: ("app_id", "mch_id", "api_key"),
    Provider.ALIPAY: ("app_id", "app_private_key", "alipay_public_key"),
}


class MerchantAccount(models.Model):
    """The salon's own merchant account with one provider; money paid through it goes to the salon."""

    id = models.BigAutoField(primary_key=True)
    provider = models.CharField(_("provider"), max_length=10, choices=Provider.choices, unique=True)
    is_enabled = models.BooleanField(_("switched on"), default=False)
    # JSON of CREDENTIAL_FIELDS[provider], encrypted at rest under FIELD_ENCRYPTION_KEYS.
    credentials = EncryptedTextField(default="", blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("merchant account")
        verbose_name_plural = _("merchant accounts")
        ordering = ["provider"]

    def __str__(self) -> str:
        return str(self.get_provider_display())

    def __repr__(self) -> str:  # never the credentials, not even in a traceback
        return f"<MerchantAccount {self.provider} enabled={self.is_enabled}>"

    @property
    def values(self) -> dict[str, str]:
        """The decrypted credentials (every field of the provider, empty when not set)."""
        stored: dict[str, Any] = json.loads(self.credentials) if self.credentials else {}
        return {name: str(stored.get(name) or "") for name in CREDENTIAL_FIELDS[self.provider]}

    def set_values(self, values: dict[str, str]) -> None:
        self.credentials = json.dumps({k: values.get(k, "") for k in CREDENTIAL_FIELDS[self.provider]})

    @property
    def is_complete(self) -> bool:
        values = self.values
        return all(values[name] for name in REQUIRED_FIELDS[self.provider])


class GatewayPayment(models.Model):
    """One payment asked of a provider under the salon's merchant number ``out_trade_no``.

    ``pending`` until the provider's answer is known; a payment whose answer was lost stays pending and is
    asked about again (query), so it is never reported failed while money may have moved.
    ``refunded_amount`` counts refunds that succeeded or are under way."""

    id = models.BigAutoField(primary_key=True)
    provider = models.CharField(_("provider"), max_length=10, choices=Provider.choices)
    kind = models.CharField(_("kind"), max_length=10, choices=PaymentKind.choices)
    amount = models.BigIntegerField(_("amount (fen)"))
    out_trade_no = models.CharField(_("payment number"), max_length=32, unique=True)
    provider_transaction_id = models.CharField(_("provider's transaction id"), max_length=64, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=PaymentStatus.choices, default=PaymentStatus.PENDING, db_index=True
    )
    description = models.CharField(_("description"), max_length=128)
    reference = models.CharField(_("reference"), max_length=100, blank=True, db_index=True)
    code_url = models.CharField(_("QR code content"), max_length=512, blank=True)
    error_code = models.CharField(_("provider's error code"), max_length=64, blank=True)
    error_message = models.CharField(_("provider's error message"), max_length=255, blank=True)
    attempts = models.PositiveIntegerField(_("calls to the provider"), default=0)
    refunded_amount = models.BigIntegerField(_("refunded (fen)"), default=0)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    last_queried_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    settled_at = models.DateTimeField(_("settled at"), null=True, blank=True)

    class Meta:
        verbose_name = _("gateway payment")
        verbose_name_plural = _("gateway payments")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="gateway_payment_amount_positive"),
            models.CheckConstraint(
                condition=Q(refunded_amount__gte=0) & Q(refunded_amount__lte=F("amount")),
                name="gateway_payment_refunded_within_amount",
            ),
            models.CheckConstraint(
                condition=Q(refunded_amount=0) | Q(status=PaymentStatus.SUCCEEDED),
                name="gateway_payment_refund_only_when_paid",
            ),
            models.CheckConstraint(
                condition=~Q(status=PaymentStatus.SUCCEEDED)
                | (Q(paid_at__isnull=False) & ~Q(provider_transaction_id="")),
                name="gateway_payment_paid_has_transaction",
            ),
            models.UniqueConstraint(
                fields=["provider", "provider_transaction_id"],
                condition=~Q(provider_transaction_id=""),
                name="gateway_payment_transaction_once",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "created_at"], name="gateway_payment_pending_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_provider_display()} {self.out_trade_no}"

    @property
    def refundable_amount(self) -> int:
        return self.amount - self.refunded_amount if self.status == PaymentStatus.SUCCEEDED else 0


class GatewayRefund(models.Model):
    """A refund of (part of) a gateway payment, idempotent by the salon's refund number."""

    id = models.BigAutoField(primary_key=True)
    payment = models.ForeignKey(GatewayPayment, on_delete=models.PROTECT, related_name="refunds")
    out_refund_no = models.CharField(_("refund number"), max_length=32, unique=True)
    amount = models.BigIntegerField(_("amount (fen)"))
    reason = models.CharField(_("reason"), max_length=80, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=RefundStatus.choices, default=RefundStatus.PENDING, db_index=True
    )
    provider_refund_id = models.CharField(_("provider's refund id"), max_length=64, blank=True)
    error_code = models.CharField(_("provider's error code"), max_length=64, blank=True)
    error_message = models.CharField(_("provider's error message"), max_length=255, blank=True)
    attempts = models.PositiveIntegerField(_("calls to the provider"), default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    refunded_at = models.DateTimeField(_("refunded at"), null=True, blank=True)

    class Meta:
        verbose_name = _("gateway refund")
        verbose_name_plural = _("gateway refunds")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="gateway_refund_amount_positive"),
        ]

    def __str__(self) -> str:
        return self.out_refund_no


class GatewayNotification(models.Model):
    """A notification a provider sent to the salon's notify address, kept once per event: the unique
    ``dedupe_key`` (provider transaction id and event) makes a repeated notification change nothing."""

    id = models.BigAutoField(primary_key=True)
    provider = models.CharField(_("provider"), max_length=10, choices=Provider.choices)
    dedupe_key = models.CharField(max_length=160)
    out_trade_no = models.CharField(max_length=64, blank=True)
    payment = models.ForeignKey(
        GatewayPayment, null=True, blank=True, on_delete=models.PROTECT, related_name="notifications"
    )
    body = models.TextField()
    is_verified = models.BooleanField(default=False)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("gateway notification")
        verbose_name_plural = _("gateway notifications")
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "dedupe_key"], name="gateway_notification_once"),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.dedupe_key}"
