"""Stored value (LOY-3): top-ups with bonus rules, payments that draw principal and bonus in the salon's
order, payments given back, adjustments, and the refund of a card by the rule for prepaid cards.

Every change locks the wallet row, appends one ledger entry carrying the figures after it, and writes
the new figures to the wallet; the CHECK constraints on both are the backstop. An idempotency key names
each operation: replaying it returns the first entry and changes nothing."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db import IntegrityError, connection, transaction
from django.db.models import Q, Subquery, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.db import salon_today
from apps.core.errors import ServiceError
from apps.core.models import User
from apps.core.services import audit_record
from apps.crm.models import Client
from apps.loyalty.errors import LoyaltyError, loyalty_error
from apps.loyalty.models import (
    CardStatus,
    ConsumptionOrder,
    CouponRuleTrigger,
    LoyaltySettings,
    TopUpRule,
    Wallet,
    WalletEntry,
    WalletEntryKind,
)
from apps.loyalty.services import _common as check
from apps.loyalty.services._common import Verification, redemption_authorise

# --- reading and locking -----------------------------------------------------------------------


def wallet_for(client: Client) -> Wallet:
    """The client's wallet, opened empty the first time it is needed (safe when two requests race)."""
    try:
        return Wallet.objects.get(client=client)
    except Wallet.DoesNotExist:
        pass
    try:
        with transaction.atomic():
            return Wallet.objects.create(client=client)
    except IntegrityError:
        return Wallet.objects.get(client=client)


def _locked(wallet_id: int) -> Wallet:
    # One wallet per operation, so there is no lock order to keep between wallets. The card is never
    # joined here: after waiting for the lock PostgreSQL re-reads only the locked row, so a joined card
    # would show the status it had before a concurrent loss report (the wallet mirrors it: _check_card).
    return Wallet.objects.select_for_update().get(pk=wallet_id)


def wallet_locked(client: Client) -> Wallet:
    """The client's wallet, locked until the caller's transaction ends; opened first if the client has
    none yet. Points and stored value share this row, so every balance change of a client takes it."""
    try:
        return Wallet.objects.select_for_update().get(client=client)
    except Wallet.DoesNotExist:
        return _locked(wallet_for(client).pk)


def _replayed(key: str, *, wallet: Wallet, kind: str, amount: int | None) -> WalletEntry | None:
    """The entry an earlier call with ``key`` wrote, if any. The same key for another operation is refused."""
    entry = WalletEntry.objects.filter(idempotency_key=key).first()
    if entry is None:
        return None
    if entry.wallet_id != wallet.pk or entry.kind != kind or (amount is not None and abs(entry.amount) != amount):
        raise loyalty_error(LoyaltyError.KEY_REUSED)
    return entry


_INSERT_ENTRY = """
INSERT INTO loyalty_walletentry (wallet_id, kind, amount, principal_delta, bonus_delta, principal_after,
    bonus_after, reference, idempotency_key, top_up_rule_id, reverses_id, actor_id, note, created_at)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (idempotency_key) DO NOTHING
RETURNING id
"""


def _append(
    wallet: Wallet,
    *,
    kind: str,
    principal_delta: int,
    bonus_delta: int,
    key: str,
    reference: str = "",
    acting_user: User | None = None,
    note: str = "",
    top_up_rule: TopUpRule | None = None,
    reverses: WalletEntry | None = None,
) -> WalletEntry:
    """Write the entry and the wallet's new figures, or return the entry an earlier call with ``key`` wrote.

    The caller holds the wallet's row lock, so plain values (not F()) are right here: nobody else can
    change the row before we commit. The entry goes in with ON CONFLICT on its idempotency key, so the
    first write of an operation and the check for a replay are one statement (the payment hot path)."""
    actor = acting_user if acting_user is not None and acting_user.pk else None
    entry = WalletEntry(
        wallet=wallet,
        kind=kind,
        amount=principal_delta + bonus_delta,
        principal_delta=principal_delta,
        bonus_delta=bonus_delta,
        principal_after=wallet.principal + principal_delta,
        bonus_after=wallet.bonus + bonus_delta,
        reference=reference,
        idempotency_key=key,
        top_up_rule=top_up_rule,
        reverses=reverses,
        actor=actor,
        note=note,
        created_at=timezone.now(),
    )
    with connection.cursor() as cursor:
        cursor.execute(
            _INSERT_ENTRY,
            [
                wallet.pk,
                kind,
                entry.amount,
                principal_delta,
                bonus_delta,
                entry.principal_after,
                entry.bonus_after,
                reference,
                key,
                top_up_rule.pk if top_up_rule is not None else None,
                reverses.pk if reverses is not None else None,
                actor.pk if actor is not None else None,
                note,
                entry.created_at,
            ],
        )
        row = cursor.fetchone()
    if row is None:  # the key was used before: this call is a replay and changes nothing
        earlier = _replayed(key, wallet=wallet, kind=kind, amount=abs(entry.amount))
        assert earlier is not None  # the conflicting row is committed or ours; it cannot vanish
        earlier.is_replay = True
        return earlier
    entry.pk = row[0]
    entry._state.adding = False
    wallet.principal, wallet.bonus = entry.principal_after, entry.bonus_after
    wallet.save(update_fields=["principal", "bonus", "low_balance_alerted", "updated_at"])
    return entry


def _check_card(wallet: Wallet, today: datetime.date) -> None:
    """A lost or frozen card blocks the stored value at once, in every location (LOY-4).

    Reads the card's status mirrored on the wallet row (kept by triggers): the row the caller locked,
    re-read by PostgreSQL after any wait, so a loss report committed meanwhile is seen. A card joined in
    the same statement would not be: PostgreSQL re-reads only the locked row."""
    if wallet.current_card_id is None:
        return
    if wallet.card_status == CardStatus.LOST:
        raise loyalty_error(LoyaltyError.CARD_LOST)
    if wallet.card_status == CardStatus.FROZEN:
        raise loyalty_error(LoyaltyError.CARD_FROZEN)
    if wallet.card_status != CardStatus.ACTIVE:
        raise loyalty_error(LoyaltyError.CARD_NOT_CURRENT)
    if wallet.card_expires_on is not None and wallet.card_expires_on < today:
        raise loyalty_error(LoyaltyError.CARD_EXPIRED)


# --- top-ups -----------------------------------------------------------------------------------


def top_up_rule_for(amount: int, *, on: datetime.date | None = None) -> TopUpRule | None:
    """The rule a top-up of ``amount`` earns: of the active rules valid on the day whose threshold the
    amount reaches, the highest threshold, then the largest bonus (tiers of rules: 充1000送200, 充3000送800)."""
    day = on or salon_today()
    return (
        TopUpRule.objects.filter(is_active=True, pay_amount__lte=amount)
        .filter(Q(valid_from__isnull=True) | Q(valid_from__lte=day))
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=day))
        .order_by("-pay_amount", "-bonus_amount", "id")
        .first()
    )


@transaction.atomic
def wallet_top_up(
    *,
    client: Client,
    amount: int,
    idempotency_key: str,
    reference: str = "",
    acting_user: User | None = None,
    note: str = "",
) -> WalletEntry:
    """Credit ``amount`` paid as principal and the bonus of the salon's top-up rule as bonus. The till
    sells top-ups (a top-up is a bill line) and calls this once the bill is paid."""
    settings_row = check.loyalty_settings()
    amount = check.amount(amount, limit=settings_row.max_transaction_amount)
    key = check.key(idempotency_key)
    check.active_client(client)
    wallet = wallet_locked(client)
    replay = _replayed(key, wallet=wallet, kind=WalletEntryKind.TOP_UP, amount=None)
    if replay is not None:
        return replay
    rule = top_up_rule_for(amount)
    bonus = rule.bonus_amount if rule is not None else 0
    if wallet.balance + amount + bonus >= settings_row.low_balance_threshold:
        wallet.low_balance_alerted = False
    note = check.text(note, field="note", model=WalletEntry)
    entry = _append(
        wallet,
        kind=WalletEntryKind.TOP_UP,
        principal_delta=amount,
        bonus_delta=bonus,
        key=key,
        reference=check.text(reference, field="reference", model=WalletEntry),
        acting_user=acting_user,
        note=note,
        top_up_rule=rule,
    )
    if not entry.is_replay:
        # Coupons the salon gives for a top-up of at least some amount (LOY-6), once per top-up.
        from apps.loyalty.services.coupon_rules import coupon_rules_fire

        coupon_rules_fire(trigger=CouponRuleTrigger.TOP_UP, client=client, occasion=key, top_up_amount=amount)
    return entry


# --- payments ----------------------------------------------------------------------------------


def split_payment(amount: int, *, principal: int, bonus: int, order: str) -> tuple[int, int]:
    """How a payment of ``amount`` (≤ principal + bonus) draws on principal and bonus: (principal part,
    bonus part). Proportional rounds the bonus part half up to the fen; neither part exceeds what is there."""
    if order == ConsumptionOrder.PRINCIPAL_FIRST:
        from_principal = min(amount, principal)
        return from_principal, amount - from_principal
    if order == ConsumptionOrder.BONUS_FIRST:
        from_bonus = min(amount, bonus)
        return amount - from_bonus, from_bonus
    total = principal + bonus
    from_bonus = (2 * amount * bonus + total) // (2 * total) if total else 0
    from_bonus = min(from_bonus, bonus, amount)
    from_principal = amount - from_bonus
    if from_principal > principal:  # rounding can only ever shift a fen; keep both parts within bounds
        from_principal, from_bonus = principal, amount - principal
    return from_principal, from_bonus


_SETTINGS = LoyaltySettings.objects.filter(id=1)


@dataclass(frozen=True)
class _PaymentRules:
    order: str
    limit: int
    low_balance: int
    code_required: bool


def _locked_for_payment(client: Client) -> tuple[Wallet, _PaymentRules]:
    """The client's wallet, locked, with the salon's payment settings read in the same statement
    (``pay_order``, ``pay_limit``, ``pay_low``, ``pay_code``: scalar subqueries on the one settings row)."""
    wallets = Wallet.objects.select_for_update(of=("self",)).annotate(
        pay_order=Subquery(_SETTINGS.values("consumption_order")),
        pay_limit=Subquery(_SETTINGS.values("max_transaction_amount")),
        pay_low=Subquery(_SETTINGS.values("low_balance_threshold")),
        pay_code=Subquery(_SETTINGS.values("require_redemption_code")),
    )
    wallet = wallets.filter(client=client).first()
    # No wallet or no settings row yet: make them, then read again.
    if wallet is None or getattr(wallet, "pay_order", None) is None:
        wallet_for(client)
        check.loyalty_settings()
        wallet = wallets.get(client=client)
    rules = _PaymentRules(
        order=getattr(wallet, "pay_order"),  # noqa: B009 - annotations the type checker does not see
        limit=getattr(wallet, "pay_limit"),  # noqa: B009
        low_balance=getattr(wallet, "pay_low"),  # noqa: B009
        code_required=getattr(wallet, "pay_code"),  # noqa: B009
    )
    return wallet, rules


@transaction.atomic
def wallet_debit(
    *,
    client: Client,
    amount: int,
    idempotency_key: str,
    reference: str = "",
    acting_user: User | None = None,
    verification: Verification | None = None,
    kind: str = WalletEntryKind.PAYMENT,
) -> WalletEntry:
    """Pay ``amount`` from stored value: refused, with nothing written, when the card is lost, frozen or
    expired, the balance is short, or the amount is over the salon's limit; the parts drawn follow the
    salon's consumption order. A replay of ``idempotency_key`` returns the first payment, whatever the
    wallet holds now.

    This is the till's hot path, three statements: the wallet locked with the salon's settings (and its
    card's status), the entry (insert-or-replay), the wallet's new figures."""
    amount = check.amount(amount)
    key = check.key(idempotency_key)
    reference = check.text(reference, field="reference", model=WalletEntry)
    if kind not in (WalletEntryKind.PAYMENT, WalletEntryKind.DEPOSIT):
        raise ValueError(kind)
    wallet, rules = _locked_for_payment(client)
    try:
        if amount > rules.limit:
            raise loyalty_error(LoyaltyError.AMOUNT_OVER_LIMIT)
        check.active_client(client)
        _check_card(wallet, salon_today())
        if amount > wallet.balance:
            raise loyalty_error(LoyaltyError.INSUFFICIENT_BALANCE)
        redemption_authorise(
            client=client,
            verification=verification,
            acting_user=acting_user,
            what="stored_value",
            reference=reference,
            required=rules.code_required,
        )
    except ServiceError:
        replay = _replayed(key, wallet=wallet, kind=kind, amount=amount)
        if replay is not None:
            replay.is_replay = True
            return replay
        raise
    from_principal, from_bonus = split_payment(
        amount, principal=wallet.principal, bonus=wallet.bonus, order=rules.order
    )
    alert = _crosses_low_balance(wallet, rules.low_balance, after=wallet.balance - amount)
    entry = _append(
        wallet,
        kind=kind,
        principal_delta=-from_principal,
        bonus_delta=-from_bonus,
        key=key,
        reference=reference,
        acting_user=acting_user,
    )
    if alert and not entry.is_replay:
        _low_balance_alert(client, wallet)
    return entry


def _crosses_low_balance(wallet: Wallet, threshold: int, *, after: int) -> bool:
    if threshold <= 0 or wallet.low_balance_alerted or after >= threshold:
        return False
    wallet.low_balance_alerted = True  # saved with the entry: the client is told once until topped up again
    return True


def _low_balance_alert(client: Client, wallet: Wallet) -> None:
    """Tell the client (text message, else e-mail) that the balance is low; sent after commit."""
    from apps.core.db import salon_name
    from apps.core.money import fen_to_yuan
    from apps.messaging.services import message_send_email, message_send_sms

    salon = salon_name()
    body = _("Your member balance at %(salon)s is now ¥%(balance)s. Top up at your next visit.") % {
        "salon": salon,
        "balance": fen_to_yuan(wallet.balance),
    }
    if client.phone:
        message_send_sms(to=client.phone, body=body, purpose="low_balance")
    elif client.email:
        message_send_email(to=client.email, subject=_("Low balance"), body=body, purpose="low_balance")


@transaction.atomic
def wallet_debit_reverse(
    *,
    payment: WalletEntry,
    amount: int,
    idempotency_key: str,
    reference: str = "",
    acting_user: User | None = None,
) -> WalletEntry:
    """Give back ``amount`` of a stored-value payment (a refunded bill line): the principal and bonus go
    back in the payment's own proportion, and never more than is left to give back of that payment."""
    key = check.key(idempotency_key)
    amount = check.amount(amount)
    if payment.kind not in (WalletEntryKind.PAYMENT, WalletEntryKind.DEPOSIT):
        raise loyalty_error(LoyaltyError.NOT_A_PAYMENT)
    wallet = _locked(payment.wallet_id)
    replay = _replayed(key, wallet=wallet, kind=WalletEntryKind.PAYMENT_REVERSAL, amount=amount)
    if replay is not None:
        return replay
    reversed_so_far = payment.reversals.aggregate(
        principal=Sum("principal_delta", default=0), bonus=Sum("bonus_delta", default=0)
    )
    paid_principal, paid_bonus = -payment.principal_delta, -payment.bonus_delta
    left_principal = paid_principal - reversed_so_far["principal"]
    left_bonus = paid_bonus - reversed_so_far["bonus"]
    if amount > left_principal + left_bonus:
        raise loyalty_error(LoyaltyError.REVERSAL_TOO_LARGE)
    to_bonus = (2 * amount * paid_bonus + -payment.amount) // (2 * -payment.amount)
    to_bonus = max(0, min(to_bonus, left_bonus, amount))
    to_principal = amount - to_bonus
    if to_principal > left_principal:
        to_principal, to_bonus = left_principal, amount - left_principal
    return _append(
        wallet,
        kind=WalletEntryKind.PAYMENT_REVERSAL,
        principal_delta=to_principal,
        bonus_delta=to_bonus,
        key=key,
        reference=check.text(reference, field="reference", model=WalletEntry),
        acting_user=acting_user,
        reverses=payment,
    )


# --- rewards and adjustments ---------------------------------------------------------------------


@transaction.atomic
def wallet_reward(
    *, client: Client, bonus: int, idempotency_key: str, reference: str = "", note: str = ""
) -> WalletEntry:
    """Credit a reward (a referral) as bonus: spendable, never refundable as cash."""
    bonus = check.amount(bonus, field="bonus")
    key = check.key(idempotency_key)
    wallet = wallet_locked(client)
    replay = _replayed(key, wallet=wallet, kind=WalletEntryKind.REWARD, amount=bonus)
    if replay is not None:
        return replay
    return _append(
        wallet,
        kind=WalletEntryKind.REWARD,
        principal_delta=0,
        bonus_delta=bonus,
        key=key,
        reference=reference,
        note=check.text(note, field="note", model=WalletEntry),
    )


@transaction.atomic
def wallet_adjust(
    *,
    client: Client,
    principal_delta: int,
    bonus_delta: int,
    reason: str,
    idempotency_key: str,
    acting_user: User | None,
) -> WalletEntry:
    """Correct a wallet by hand (``adjust_balances``), with a reason, audited. Cannot take either part
    below zero."""
    check.require_permission(acting_user, "adjust_balances")
    key = check.key(idempotency_key)
    reason = check.text(reason, field="reason", model=WalletEntry, model_field="note")
    if not reason:
        raise loyalty_error(LoyaltyError.REASON_REQUIRED)
    for name, value in (("principal_delta", principal_delta), ("bonus_delta", bonus_delta)):
        if isinstance(value, bool) or not isinstance(value, int) or abs(value) > check.MAX_AMOUNT:
            raise loyalty_error(LoyaltyError.INVALID_AMOUNT, field=name)
    if principal_delta == 0 and bonus_delta == 0:
        raise loyalty_error(LoyaltyError.INVALID_AMOUNT, field="principal_delta")
    check.active_client(client)
    wallet = wallet_locked(client)
    replay = _replayed(key, wallet=wallet, kind=WalletEntryKind.ADJUSTMENT, amount=abs(principal_delta + bonus_delta))
    if replay is not None:
        return replay
    if wallet.principal + principal_delta < 0 or wallet.bonus + bonus_delta < 0:
        raise loyalty_error(LoyaltyError.INSUFFICIENT_BALANCE)
    entry = _append(
        wallet,
        kind=WalletEntryKind.ADJUSTMENT,
        principal_delta=principal_delta,
        bonus_delta=bonus_delta,
        key=key,
        acting_user=acting_user,
        note=reason,
    )
    audit_record(
        action="loyalty.wallet_adjusted",
        actor=acting_user,
        target=client,
        data={"principal_delta": principal_delta, "bonus_delta": bonus_delta, "reason": reason, "entry": entry.pk},
    )
    return entry
