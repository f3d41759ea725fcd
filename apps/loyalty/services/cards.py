"""Member cards (LOY-4): issue, loss report (挂失), freeze and unfreeze, reissue (补办) and cancellation.

A card gives access to the client's wallet, which holds the balance; the card itself holds none, so a
reissued card carries the balance without moving any money. ``Wallet.current_card`` names the card in
use: ``wallets.wallet_debit`` refuses stored value at once when that card is lost, frozen or expired.
Every status change locks the wallet row, then the card row (always in this order, so two changes of
the same client's cards cannot deadlock), and is audited with its reason."""

from __future__ import annotations

import datetime
import re
import secrets
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.core.db import salon_today
from apps.core.errors import ServiceError
from apps.core.models import User
from apps.core.services import audit_record
from apps.crm.models import Client
from apps.loyalty.errors import LoyaltyError, loyalty_error
from apps.loyalty.models import CardStatus, CardType, CouponRuleTrigger, MemberCard, Wallet
from apps.loyalty.models.cards import CURRENT
from apps.loyalty.services import _common as check
from apps.loyalty.services import wallets

NUMBER_FORMAT = re.compile(r"^[0-9A-Z-]{4,32}$")
GENERATED_DIGITS = 10
GENERATE_ATTEMPTS = 20

# Which statuses each change may start from (INVALID_CARD_TRANSITION otherwise).
FROM_STATUSES: dict[str, tuple[str, ...]] = {
    "report_lost": (CardStatus.ACTIVE, CardStatus.FROZEN),
    "freeze": (CardStatus.ACTIVE,),
    "unfreeze": (CardStatus.FROZEN, CardStatus.LOST),
    "reissue": (CardStatus.ACTIVE, CardStatus.FROZEN, CardStatus.LOST),
    "cancel": (CardStatus.ACTIVE, CardStatus.FROZEN, CardStatus.LOST),
}


def card_number_normalise(value: Any) -> str:
    """Numbers are kept upper-case without spaces, as printed cards and card readers give them."""
    number = re.sub(r"\s+", "", "" if value is None else str(value)).upper()
    if not NUMBER_FORMAT.match(number):
        raise loyalty_error(LoyaltyError.INVALID_CARD_NUMBER)
    return number


def _number_taken(number: str, *, client: Client) -> bool:
    # A number printed on any card, even a replaced one, is never given out again; crm's own card
    # number of another client (typed in before cards were issued here) counts as taken too.
    return (
        MemberCard.objects.filter(number=number).exists()
        or Client.objects.filter(is_active=True, card_number=number).exclude(pk=client.pk).exists()
    )


def _generated_number() -> str:
    return str(secrets.randbelow(9 * 10 ** (GENERATED_DIGITS - 1)) + 10 ** (GENERATED_DIGITS - 1))


def _create_card(*, client: Client, number: str, acting_user: User | None, **fields: Any) -> MemberCard:
    """Insert the card under the given number, or under a fresh generated one when ``number`` is empty.

    The unique constraints are the backstop against two requests racing for one number or one client."""
    generate = not number
    for _attempt in range(GENERATE_ATTEMPTS if generate else 1):
        candidate = _generated_number() if generate else number
        if _number_taken(candidate, client=client):
            continue
        try:
            with transaction.atomic():
                return MemberCard.objects.create(
                    client=client,
                    number=candidate,
                    issued_by=acting_user if acting_user is not None and acting_user.pk else None,
                    **fields,
                )
        except IntegrityError as exc:
            if "member_card_one_current" in str(exc):
                raise loyalty_error(LoyaltyError.CARD_ALREADY_HELD) from exc
            if "member_card_number_unique" not in str(exc):
                raise
    raise loyalty_error(LoyaltyError.DUPLICATE_CARD_NUMBER)


def _client_card_number_set(client: Client, number: str, acting_user: User | None) -> None:
    """Keep crm's card number on the client, so that searching clients by card number finds them."""
    from apps.crm.errors import CrmError
    from apps.crm.services.clients import client_update

    if not Client.objects.filter(pk=client.pk, is_active=True).exists():
        return
    try:
        client_update(client=client, card_number=number, acting_user=acting_user)
    except ServiceError as error:
        if error.code == CrmError.DUPLICATE_CARD_NUMBER:
            raise loyalty_error(LoyaltyError.DUPLICATE_CARD_NUMBER) from error
        raise


def _card_type(value: Any) -> str:
    if value not in CardType.values:
        raise loyalty_error(LoyaltyError.INVALID_CARD_TYPE)
    return str(value)


def _expiry(value: Any) -> datetime.date | None:
    if value in (None, ""):
        return None
    if not isinstance(value, datetime.date) or isinstance(value, datetime.datetime):
        raise loyalty_error(LoyaltyError.EXPIRY_IN_PAST)
    if value < salon_today():
        raise loyalty_error(LoyaltyError.EXPIRY_IN_PAST)
    return value


@transaction.atomic
def member_card_issue(
    *,
    client: Client,
    number: str = "",
    card_type: str = CardType.PHYSICAL,
    expires_on: datetime.date | None = None,
    acting_user: User | None,
) -> MemberCard:
    """Give the client a card (``take_payments``): refused while they hold a current one (reissue that
    instead). An empty number gets a generated 10-digit one; a given number must be new."""
    check.require_permission(acting_user, "take_payments")
    check.active_client(client)
    card_type = _card_type(card_type)
    number = card_number_normalise(number) if str(number or "").strip() else ""
    expires_on = _expiry(expires_on)
    wallet = wallets.wallet_locked(client)
    if MemberCard.objects.filter(client=client, status__in=CURRENT).exists():
        raise loyalty_error(LoyaltyError.CARD_ALREADY_HELD)
    card = _create_card(
        client=client, number=number, acting_user=acting_user, card_type=card_type, expires_on=expires_on
    )
    wallet.current_card = card
    wallet.save(update_fields=["current_card", "updated_at"])
    _client_card_number_set(client, card.number, acting_user)
    audit_record(
        action="loyalty.member_card_issued",
        actor=acting_user,
        target=client,
        data={"card": card.pk, "number": card.number, "card_type": card_type, "expires_on": _iso(expires_on)},
    )
    # Coupons the salon gives new members (LOY-6): once per client, however many cards they hold over time.
    from apps.loyalty.services.coupon_rules import coupon_rules_fire

    coupon_rules_fire(trigger=CouponRuleTrigger.NEW_MEMBER, client=client, occasion="new-member")
    return card


def _iso(day: datetime.date | None) -> str | None:
    return day.isoformat() if day is not None else None


def _locked(card: MemberCard) -> tuple[Wallet, MemberCard]:
    # Wallet first, then the card: every change of a client's cards and balances takes the wallet row
    # first, so concurrent changes queue on it instead of deadlocking on each other's rows.
    wallet = wallets.wallet_locked(card.client)
    return wallet, MemberCard.objects.select_for_update().select_related("client").get(pk=card.pk)


def _reason(value: Any, *, required: bool) -> str:
    reason = check.text(value, field="status_reason", model=MemberCard)
    if required and not reason:
        raise loyalty_error(LoyaltyError.REASON_REQUIRED)
    return reason


def _change(card: MemberCard, *, change: str, to: str, reason: str) -> tuple[Wallet, MemberCard, str]:
    wallet, card = _locked(card)
    before = card.status
    if before not in FROM_STATUSES[change]:
        raise loyalty_error(LoyaltyError.INVALID_CARD_TRANSITION)
    card.status = to
    card.status_changed_at = timezone.now()
    # Keep why the card changed before (a loss report) when it changes again (a reissue): both are history.
    if card.status_reason and reason:
        card.status_reason = f"{card.status_reason}; {reason}"[: MemberCard._meta.get_field("status_reason").max_length]
    else:
        card.status_reason = reason or card.status_reason
    card.save(update_fields=["status", "status_changed_at", "status_reason"])
    return wallet, card, before


def _audit(card: MemberCard, *, change: str, before: str, reason: str, acting_user: User | None, **data: Any) -> None:
    audit_record(
        action=f"loyalty.member_card_{change}",
        actor=acting_user,
        target=card.client,
        data={"card": card.pk, "number": card.number, "from": before, "to": card.status, "reason": reason, **data},
    )


@transaction.atomic
def member_card_report_lost(*, card: MemberCard, reason: str, acting_user: User | None) -> MemberCard:
    """Report the card lost (挂失, ``take_payments``): stored value and points are blocked at once, in
    every location, until the card is found (unfreeze) or reissued."""
    check.require_permission(acting_user, "take_payments")
    reason = _reason(reason, required=True)
    _wallet, card, before = _change(card, change="report_lost", to=CardStatus.LOST, reason=reason)
    _audit(card, change="reported_lost", before=before, reason=reason, acting_user=acting_user)
    return card


@transaction.atomic
def member_card_freeze(*, card: MemberCard, reason: str, acting_user: User | None) -> MemberCard:
    """Freeze an active card (``take_payments``): stored value and points are blocked until unfrozen."""
    check.require_permission(acting_user, "take_payments")
    reason = _reason(reason, required=True)
    _wallet, card, before = _change(card, change="freeze", to=CardStatus.FROZEN, reason=reason)
    _audit(card, change="frozen", before=before, reason=reason, acting_user=acting_user)
    return card


@transaction.atomic
def member_card_unfreeze(*, card: MemberCard, reason: str = "", acting_user: User | None) -> MemberCard:
    """Make a frozen card, or a lost card that was found again, active (``manage_loyalty``)."""
    check.require_permission(acting_user, "manage_loyalty")
    reason = _reason(reason, required=False)
    _wallet, card, before = _change(card, change="unfreeze", to=CardStatus.ACTIVE, reason=reason)
    _audit(card, change="unfrozen", before=before, reason=reason, acting_user=acting_user)
    return card


@transaction.atomic
def member_card_reissue(
    *, card: MemberCard, number: str = "", reason: str = "", acting_user: User | None
) -> MemberCard:
    """Replace the card (补办, ``manage_loyalty``) with a new active one of the same type and expiry under
    a new number; the old card becomes REPLACED and the wallet, with its balance, follows the new card."""
    check.require_permission(acting_user, "manage_loyalty")
    reason = _reason(reason, required=False)
    number = card_number_normalise(number) if str(number or "").strip() else ""
    wallet, old, before = _change(card, change="reissue", to=CardStatus.REPLACED, reason=reason)
    check.active_client(old.client)
    # The old card leaves the current statuses first: the one-current-card constraint is not deferred.
    new = _create_card(
        client=old.client,
        number=number,
        acting_user=acting_user,
        card_type=old.card_type,
        expires_on=old.expires_on,
    )
    old.replaced_by = new
    old.save(update_fields=["replaced_by"])
    wallet.current_card = new
    wallet.save(update_fields=["current_card", "updated_at"])
    _client_card_number_set(old.client, new.number, acting_user)
    _audit(
        old,
        change="reissued",
        before=before,
        reason=reason,
        acting_user=acting_user,
        new_card=new.pk,
        new_number=new.number,
    )
    return new


@transaction.atomic
def member_card_cancel(*, card: MemberCard, reason: str, acting_user: User | None) -> MemberCard:
    """Cancel the card for good (``manage_loyalty``): the client is left without a card (the wallet is
    then used as for any client without one) and may be issued a new card later."""
    check.require_permission(acting_user, "manage_loyalty")
    reason = _reason(reason, required=True)
    wallet, card, before = _change(card, change="cancel", to=CardStatus.CANCELLED, reason=reason)
    if wallet.current_card_id == card.pk:
        wallet.current_card = None
        wallet.save(update_fields=["current_card", "updated_at"])
    if card.client.card_number == card.number:
        _client_card_number_set(card.client, "", acting_user)
    _audit(card, change="cancelled", before=before, reason=reason, acting_user=acting_user)
    return card
