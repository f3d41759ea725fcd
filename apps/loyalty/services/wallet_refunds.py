"""Refunding a card (退卡, LOY-3) by the rule courts apply to prepaid cards: what was used is taken from
principal and bonus in proportion to what was put in, the unused principal is refunded and the bonus is
forfeited. The quote shows its working; the refund writes it to the ledger and closes the wallet."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q, Sum
from django.utils.translation import gettext as _

from apps.core.models import User
from apps.core.services import audit_record
from apps.crm.models import Client
from apps.loyalty.errors import LoyaltyError, loyalty_error
from apps.loyalty.models import Wallet, WalletEntry, WalletEntryKind
from apps.loyalty.services import _common as check
from apps.loyalty.services.wallets import _append, wallet_locked


@dataclass(frozen=True)
class RefundQuote:
    """What refunding the card gives back, by the rule for prepaid cards: what was used is taken from
    principal and bonus in proportion to what was put in, the rest of the principal is refunded (never
    more than the principal left) and every remaining fen of bonus is forfeited."""

    principal_in: int
    bonus_in: int
    used: int
    principal_used: int
    principal_left: int
    bonus_left: int
    refundable_principal: int
    forfeited_bonus: int
    forfeited_principal: int
    working: list[str] = field(default_factory=list)


def _since_last_close(wallet: Wallet) -> dict[str, int]:
    last_close = (
        WalletEntry.objects.filter(wallet=wallet, kind__in=[WalletEntryKind.REFUND, WalletEntryKind.FORFEIT])
        .order_by("-id")
        .values_list("id", flat=True)
        .first()
    )
    entries = WalletEntry.objects.filter(wallet=wallet)
    if last_close is not None:
        entries = entries.filter(id__gt=last_close)
    credit_kinds = [WalletEntryKind.TOP_UP, WalletEntryKind.ADJUSTMENT, WalletEntryKind.REWARD]
    used_kinds = [WalletEntryKind.PAYMENT, WalletEntryKind.PAYMENT_REVERSAL, WalletEntryKind.DEPOSIT]
    return entries.aggregate(
        principal_in=Sum("principal_delta", filter=Q(kind__in=credit_kinds), default=0),
        bonus_in=Sum("bonus_delta", filter=Q(kind__in=credit_kinds), default=0),
        used=Sum("amount", filter=Q(kind__in=used_kinds), default=0),
    )


def wallet_refund_quote(wallet: Wallet) -> RefundQuote:
    """The refund quote with its working, shown to staff and the client before a card is refunded."""
    from apps.core.money import fen_to_yuan as y

    totals = _since_last_close(wallet)
    principal_in, bonus_in, used = totals["principal_in"], totals["bonus_in"], -totals["used"]
    put_in = principal_in + bonus_in
    principal_used = (2 * used * principal_in + put_in) // (2 * put_in) if put_in > 0 else 0
    proportional = max(0, principal_in - principal_used)
    refundable = min(wallet.principal, proportional)
    working = [
        _("Principal paid in: ¥%(amount)s") % {"amount": y(principal_in)},
        _("Bonus received: ¥%(amount)s") % {"amount": y(bonus_in)},
        _("Used: ¥%(amount)s") % {"amount": y(used)},
        _("Principal share of what was used: ¥%(used)s × %(principal)s ÷ %(total)s = ¥%(share)s")
        % {"used": y(used), "principal": y(principal_in), "total": y(put_in), "share": y(principal_used)},
        _("Refundable principal: ¥%(principal)s − ¥%(share)s = ¥%(refund)s")
        % {"principal": y(principal_in), "share": y(principal_used), "refund": y(proportional)},
    ]
    if refundable < proportional:
        working.append(_("Capped at the principal left on the card: ¥%(amount)s") % {"amount": y(wallet.principal)})
    working.append(_("Bonus forfeited: ¥%(amount)s") % {"amount": y(wallet.bonus)})
    if wallet.principal > refundable:
        working.append(
            _("Principal forfeited (the card drew bonus ahead of its share): ¥%(amount)s")
            % {"amount": y(wallet.principal - refundable)}
        )
    return RefundQuote(
        principal_in=principal_in,
        bonus_in=bonus_in,
        used=used,
        principal_used=principal_used,
        principal_left=wallet.principal,
        bonus_left=wallet.bonus,
        refundable_principal=refundable,
        forfeited_bonus=wallet.bonus,
        forfeited_principal=wallet.principal - refundable,
        working=working,
    )


@dataclass(frozen=True)
class WalletRefund:
    quote: RefundQuote
    refund: WalletEntry | None
    forfeit: WalletEntry | None


@transaction.atomic
def wallet_refund(*, client: Client, idempotency_key: str, reason: str, acting_user: User | None) -> WalletRefund:
    """Refund the card (退卡): pay out the refundable principal of the quote and forfeit the rest, leaving
    the wallet at zero. Needs ``issue_refunds``; audited. The cash itself is paid out at the till."""
    check.require_permission(acting_user, "issue_refunds")
    key = check.key(idempotency_key)
    reason = check.text(reason, field="reason", model=WalletEntry, model_field="note")
    if not reason:
        raise loyalty_error(LoyaltyError.REASON_REQUIRED)
    wallet = wallet_locked(client)
    earlier = list(WalletEntry.objects.filter(idempotency_key__in=[f"{key}:refund", f"{key}:forfeit"]))
    if earlier:
        if any(e.wallet_id != wallet.pk for e in earlier):
            raise loyalty_error(LoyaltyError.KEY_REUSED)
        by_kind = {e.kind: e for e in earlier}
        return WalletRefund(
            quote=wallet_refund_quote(wallet),
            refund=by_kind.get(WalletEntryKind.REFUND),
            forfeit=by_kind.get(WalletEntryKind.FORFEIT),
        )
    if wallet.balance == 0:
        raise loyalty_error(LoyaltyError.NOTHING_TO_REFUND)
    quote = wallet_refund_quote(wallet)
    refund = forfeit = None
    if quote.refundable_principal:
        refund = _append(
            wallet,
            kind=WalletEntryKind.REFUND,
            principal_delta=-quote.refundable_principal,
            bonus_delta=0,
            key=f"{key}:refund",
            acting_user=acting_user,
            note=reason,
        )
    if quote.forfeited_bonus or quote.forfeited_principal:
        forfeit = _append(
            wallet,
            kind=WalletEntryKind.FORFEIT,
            principal_delta=-quote.forfeited_principal,
            bonus_delta=-quote.forfeited_bonus,
            key=f"{key}:forfeit",
            acting_user=acting_user,
            note=reason,
        )
    audit_record(
        action="loyalty.wallet_refunded",
        actor=acting_user,
        target=client,
        data={
            "refundable_principal": quote.refundable_principal,
            "forfeited_bonus": quote.forfeited_bonus,
            "forfeited_principal": quote.forfeited_principal,
            "reason": reason,
        },
    )
    return WalletRefund(quote=quote, refund=refund, forfeit=forfeit)
