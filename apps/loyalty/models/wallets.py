"""Stored value (LOY-3): one wallet per client with principal (本金) and bonus (赠金) kept apart,
an append-only ledger, and the salon's top-up bonus rules."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class TopUpRule(models.Model):
    """Pay ``pay_amount`` or more, get ``bonus_amount`` as bonus (充1000送200). With several rules the
    largest threshold the payment reaches wins (tiers of rules); a rule may hold only for a window."""

    id = models.BigAutoField(primary_key=True)
    name = models.CharField(_("name"), max_length=100, blank=True)
    pay_amount = models.BigIntegerField(_("pay at least (fen)"))
    bonus_amount = models.BigIntegerField(_("bonus (fen)"))
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("top-up rule")
        verbose_name_plural = _("top-up rules")
        ordering = ["pay_amount", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(pay_amount__gt=0), name="top_up_rule_pay_positive"),
            models.CheckConstraint(condition=Q(bonus_amount__gte=0), name="top_up_rule_bonus_not_negative"),
            models.CheckConstraint(
                condition=Q(valid_from__isnull=True)
                | Q(valid_until__isnull=True)
                | Q(valid_until__gte=F("valid_from")),
                name="top_up_rule_window_ordered",
            ),
        ]

    def __str__(self) -> str:
        if self.name:
            return self.name
        from apps.core.money import fen_to_yuan

        return str(
            _("Pay ¥%(pay)s, get ¥%(bonus)s")
            % {"pay": fen_to_yuan(self.pay_amount), "bonus": fen_to_yuan(self.bonus_amount)}
        )


class Wallet(models.Model):
    """A client's stored value and points. Changed only by the wallet services, under a row lock;
    the CHECKs are the backstop that no bug or race can overdraw it."""

    id = models.BigAutoField(primary_key=True)
    client = models.OneToOneField("crm.Client", on_delete=models.PROTECT, related_name="wallet")
    principal = models.BigIntegerField(_("principal (fen)"), default=0)
    bonus = models.BigIntegerField(_("bonus (fen)"), default=0)
    points = models.BigIntegerField(_("points"), default=0)
    # The card that currently gives access to this wallet; a lost or frozen card blocks payments.
    current_card = models.OneToOneField(
        "loyalty.MemberCard", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Mirror of the current card's status and expiry, kept by PostgreSQL triggers (migration 0005) on both
    # tables whatever writes them: a payment reads them in the wallet row it locks, which PostgreSQL
    # re-reads after waiting for the lock, so a loss report committed meanwhile is always seen.
    card_status = models.CharField(max_length=10, blank=True, editable=False)
    card_expires_on = models.DateField(null=True, blank=True, editable=False)
    low_balance_alerted = models.BooleanField(default=False, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("wallet")
        verbose_name_plural = _("wallets")
        constraints = [
            models.CheckConstraint(condition=Q(principal__gte=0), name="wallet_principal_not_negative"),
            models.CheckConstraint(condition=Q(bonus__gte=0), name="wallet_bonus_not_negative"),
            models.CheckConstraint(condition=Q(points__gte=0), name="wallet_points_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.client_id}: {self.principal}+{self.bonus}"

    @property
    def balance(self) -> int:
        return self.principal + self.bonus


class WalletEntryKind(models.TextChoices):
    TOP_UP = "top_up", _("Top-up")
    PAYMENT = "payment", _("Payment")
    PAYMENT_REVERSAL = "payment_reversal", _("Payment refunded to the card")
    REFUND = "refund", _("Card refunded")
    FORFEIT = "forfeit", _("Forfeited on refund")
    ADJUSTMENT = "adjustment", _("Adjustment")
    REWARD = "reward", _("Reward")
    DEPOSIT = "deposit", _("Deposit")


class WalletEntry(models.Model):
    """One change of a wallet's stored value. Append-only (a PostgreSQL trigger refuses UPDATE and
    DELETE): a correction is a new entry. ``principal_after``/``bonus_after`` are the wallet's figures
    right after this entry, so the ledger can be checked against the wallet row at any time."""

    id = models.BigAutoField(primary_key=True)
    wallet = models.ForeignKey(Wallet, on_delete=models.PROTECT, related_name="entries")
    kind = models.CharField(_("kind"), max_length=20, choices=WalletEntryKind.choices)
    amount = models.BigIntegerField(_("amount (fen)"), help_text=_("Negative when value leaves the wallet."))
    principal_delta = models.BigIntegerField(_("principal part (fen)"))
    bonus_delta = models.BigIntegerField(_("bonus part (fen)"))
    principal_after = models.BigIntegerField(_("principal after (fen)"))
    bonus_after = models.BigIntegerField(_("bonus after (fen)"))
    reference = models.CharField(_("reference"), max_length=100, blank=True, help_text="e.g. bill:123")
    idempotency_key = models.CharField(max_length=100)
    top_up_rule = models.ForeignKey(
        TopUpRule, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("top-up rule")
    )
    # A payment reversal points at the payment it gives back.
    reverses = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversals")
    actor = models.ForeignKey(
        "core.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("by")
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    # Not stored: the services set it on an entry they return for a replayed call (nothing was written).
    is_replay = False

    class Meta:
        verbose_name = _("wallet entry")
        verbose_name_plural = _("wallet entries")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint("idempotency_key", name="wallet_entry_idempotency_unique"),
            models.CheckConstraint(condition=~Q(idempotency_key=""), name="wallet_entry_key_present"),
            models.CheckConstraint(
                condition=Q(kind__in=[k.value for k in WalletEntryKind]), name="wallet_entry_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(amount=F("principal_delta") + F("bonus_delta")), name="wallet_entry_parts_sum"
            ),
            models.CheckConstraint(condition=~Q(amount=0), name="wallet_entry_not_zero"),
            models.CheckConstraint(
                condition=Q(principal_after__gte=0) & Q(bonus_after__gte=0), name="wallet_entry_after_not_negative"
            ),
        ]
        indexes = [models.Index(fields=["wallet", "-id"], name="wallet_entry_wallet_idx")]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount}"
