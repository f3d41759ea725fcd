"""Points (LOY-2): earning (per yuan spent with the tier's multiplier, check-in, referral, birthday),
redemption for services, products, gifts or money off, expiry first in first out, and the ledger.

The balance lives on the wallet row (``Wallet.points``), which every change locks first; each earning
opens a lot, and redemptions, negative adjustments and expiries draw the oldest lots first (lots are
locked after the wallet, ordered by ``earned_on, id``). So the balance always equals the sum of what
is left in the lots and the sum of the ledger. An idempotency key names each operation: a replay
returns the first entry and changes nothing; the same key for another operation is refused."""

from __future__ import annotations

import calendar
import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.db import joined_transaction, salon_today
from apps.core.models import User
from apps.core.services import audit_record
from apps.crm.models import Client
from apps.loyalty.errors import LoyaltyError, loyalty_error
from apps.loyalty.models import LoyaltySettings, PointsEntry, PointsEntryKind, PointsLot, TierBenefit, Wallet
from apps.loyalty.models.points import EARNING_KINDS
from apps.loyalty.services import _common as check
from apps.loyalty.services import wallets
from apps.loyalty.services._common import Verification, redemption_authorise
from apps.loyalty.services.points_lots import EXPIRE_REFERENCE, redemption_draws

AWARD_KINDS = (PointsEntryKind.EARN_CHECK_IN, PointsEntryKind.EARN_REFERRAL, PointsEntryKind.EARN_BIRTHDAY)


def add_months(day: datetime.date, months: int) -> datetime.date:
    """``day`` plus ``months`` calendar months, the day clamped to the month's end (31 Jan + 1 month is
    28/29 Feb). Changing this moves the expiry of lots not yet earned only; stored lots keep theirs."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def points_expiry(earned_on: datetime.date, settings_row: LoyaltySettings) -> datetime.date | None:
    months = settings_row.points_validity_months
    return add_months(earned_on, months) if months else None


def points_value(points: int, *, settings_row: LoyaltySettings | None = None) -> int:
    """What ``points`` take off a bill, in fen: the salon's value of 100 points, pro rata, rounded down."""
    return points * (settings_row or check.loyalty_settings()).points_value_fen // 100


# --- writing the ledger and the lots --------------------------------------------------------------


def _locked_by_id(wallet_id: int) -> Wallet:
    return Wallet.objects.select_for_update().get(pk=wallet_id)


def _replayed(key: str, *, wallet: Wallet, kinds: tuple[str, ...], points: int | None = None) -> PointsEntry | None:
    """The entry an earlier call with ``key`` wrote, if any. The same key for another operation is refused."""
    entry = PointsEntry.objects.filter(idempotency_key=key).first()
    if entry is None:
        return None
    if entry.wallet_id != wallet.pk or entry.kind not in kinds or (points is not None and entry.points != points):
        raise loyalty_error(LoyaltyError.KEY_REUSED)
    return entry


def _append(
    wallet: Wallet,
    *,
    kind: str,
    points: int,
    key: str,
    reference: str = "",
    description: str = "",
    acting_user: User | None = None,
    reverses: PointsEntry | None = None,
) -> PointsEntry:
    """Write the entry and the wallet's new balance; the caller holds the wallet's row lock."""
    wallet.points += points
    entry = PointsEntry.objects.create(
        wallet=wallet,
        kind=kind,
        points=points,
        balance_after=wallet.points,
        description=description,
        reference=reference,
        idempotency_key=key,
        reverses=reverses,
        actor=acting_user if acting_user is not None and acting_user.pk else None,
    )
    wallet.save(update_fields=["points", "updated_at"])
    return entry


def _earn(
    wallet: Wallet,
    *,
    kind: str,
    points: int,
    key: str,
    earned_on: datetime.date,
    expires_on: datetime.date | None,
    **fields: Any,
) -> PointsEntry:
    entry = _append(wallet, kind=kind, points=points, key=key, **fields)
    PointsLot.objects.create(
        wallet=wallet, entry=entry, earned_on=earned_on, expires_on=expires_on, points=points, remaining=points
    )
    return entry


def _expire_lots(wallet: Wallet, lots: list[PointsLot], today: datetime.date) -> PointsEntry | None:
    """Zero the given (locked) lots and write one EXPIRE entry for them."""
    total = sum(lot.remaining for lot in lots)
    if not total:
        return None
    for lot in lots:
        lot.remaining = 0
    PointsLot.objects.bulk_update(lots, ["remaining"])
    return _append(
        wallet,
        kind=PointsEntryKind.EXPIRE,
        points=-total,
        # The first lot's id keeps the key unique if given-back lots expire again on the same day.
        key=f"points-expire:{wallet.pk}:{today.isoformat()}:{lots[0].pk}",
        # The run day is kept in the reference: giving back a redemption replays the lots' history by it.
        reference=f"{EXPIRE_REFERENCE}{today.isoformat()}",
    )


def _open_lots(wallet: Wallet, today: datetime.date) -> list[PointsLot]:
    """The wallet's lots with points left, oldest first and locked; lots past their expiry that the
    nightly run has not reached yet are expired first, so nobody spends points that are gone."""
    # order_by("earned_on", "id") is intentional: it is the FIFO order, and locking the rows in one
    # fixed order keeps two transactions from deadlocking on them.
    lots = list(
        PointsLot.objects.select_for_update().filter(wallet=wallet, remaining__gt=0).order_by("earned_on", "id")
    )
    due = [lot for lot in lots if lot.expires_on is not None and lot.expires_on < today]
    if due:
        _expire_lots(wallet, due, today)
    return [lot for lot in lots if lot.remaining > 0]


def _draw(lots: list[PointsLot], points: int) -> None:
    """Take ``points`` from the lots in order; the caller made sure they hold enough."""
    changed = []
    for lot in lots:
        if points == 0:
            break
        taken = min(lot.remaining, points)
        lot.remaining -= taken
        points -= taken
        changed.append(lot)
    PointsLot.objects.bulk_update(changed, ["remaining"])


def _spendable(wallet: Wallet, points: int, today: datetime.date) -> list[PointsLot]:
    lots = _open_lots(wallet, today)
    if points > wallet.points or points > sum(lot.remaining for lot in lots):
        raise loyalty_error(LoyaltyError.INSUFFICIENT_POINTS)
    return lots


# --- earning --------------------------------------------------------------------------------------


def points_for_spend(amount_spent: int, *, points_per_yuan: int, multiplier: Decimal) -> int:
    """floor(yuan spent × points per yuan × multiplier), in whole numbers: the multiplier has two decimals."""
    hundredths = int(multiplier * 100)
    return amount_spent * points_per_yuan * hundredths // 10_000


_SETTINGS = LoyaltySettings.objects.filter(id=1)


def _locked_for_earning(client: Client) -> tuple[Wallet, int, int | None, Decimal]:
    """The client's wallet, locked, with what earning needs read in the same statement: the salon's
    points per yuan and validity in months (scalar subqueries on the one settings row) and the
    multiplier of the client's tier. Opens the wallet or the settings row first when there is none."""
    wallets_ = Wallet.objects.select_for_update(of=("self",)).annotate(
        earn_rate=Subquery(_SETTINGS.values("points_per_yuan")),
        earn_months=Subquery(_SETTINGS.values("points_validity_months")),
    )
    if client.tier_id is not None:
        wallets_ = wallets_.annotate(
            earn_multiplier=Subquery(TierBenefit.objects.filter(tier_id=client.tier_id).values("points_multiplier")[:1])
        )
    wallet = wallets_.filter(client=client).first()
    if wallet is None or getattr(wallet, "earn_rate", None) is None:
        wallets.wallet_for(client)
        check.loyalty_settings()
        wallet = wallets_.get(client=client)
    multiplier = getattr(wallet, "earn_multiplier", None)
    months = getattr(wallet, "earn_months")  # noqa: B009 - annotations the type checker does not see
    return (
        wallet,
        getattr(wallet, "earn_rate"),  # noqa: B009
        months or None,
        Decimal(1) if multiplier is None else Decimal(multiplier),
    )


# One statement writes the entry (or finds its key taken: a replay), the lot and the wallet's balance;
# the lot and the balance are written only when the entry was.
_EARN = """
WITH entry AS (
    INSERT INTO loyalty_pointsentry (wallet_id, kind, points, balance_after, description, reference,
        idempotency_key, actor_id, created_at)
    VALUES (%(wallet)s, %(kind)s, %(points)s, %(after)s, '', %(reference)s, %(key)s, %(actor)s, %(now)s)
    ON CONFLICT (idempotency_key) DO NOTHING
    RETURNING id
), lot AS (
    INSERT INTO loyalty_pointslot (wallet_id, entry_id, earned_on, expires_on, points, remaining)
    SELECT %(wallet)s, entry.id, %(earned_on)s, %(expires_on)s, %(points)s, %(points)s FROM entry
), balance AS (
    UPDATE loyalty_wallet SET points = %(after)s, updated_at = %(now)s
    WHERE id = %(wallet)s AND EXISTS (SELECT 1 FROM entry)
)
SELECT id FROM entry
"""


def points_earn_for_spend(
    *, client: Client, amount_spent: int, reference: str, idempotency_key: str, acting_user: User | None = None
) -> PointsEntry | None:
    """Points for a paid bill (the till calls this): the salon's points per yuan times the tier's
    multiplier, rounded down; a lot that expires after the salon's validity. None when it comes to 0.

    This is on the till's checkout, so it takes two statements: the wallet locked with the settings and
    the multiplier, then the entry, the lot and the balance in one (an insert-or-replay on the key). It
    joins the caller's transaction without a savepoint (its one write is one statement)."""
    with joined_transaction():
        return _earn_for_spend(
            client=client,
            amount_spent=amount_spent,
            reference=reference,
            idempotency_key=idempotency_key,
            acting_user=acting_user,
        )


def _earn_for_spend(
    *, client: Client, amount_spent: int, reference: str, idempotency_key: str, acting_user: User | None
) -> PointsEntry | None:
    amount_spent = check.amount_or_zero(amount_spent, field="amount_spent")
    key = check.key(idempotency_key)
    reference = check.text(reference, field="reference", model=PointsEntry)
    check.active_client(client)
    wallet, rate, months, multiplier = _locked_for_earning(client)
    points = min(points_for_spend(amount_spent, points_per_yuan=rate, multiplier=multiplier), check.MAX_POINTS)
    if points <= 0:
        return _replayed(key, wallet=wallet, kinds=(PointsEntryKind.EARN_SPEND,))
    today = salon_today()
    actor = acting_user if acting_user is not None and acting_user.pk else None
    entry = PointsEntry(
        wallet=wallet,
        kind=PointsEntryKind.EARN_SPEND,
        points=points,
        balance_after=wallet.points + points,
        reference=reference,
        idempotency_key=key,
        actor=actor,
        created_at=timezone.now(),
    )
    expires_on = add_months(today, months) if months else None
    with connection.cursor() as cursor:
        cursor.execute(
            _EARN,
            {
                "wallet": wallet.pk,
                "kind": entry.kind,
                "points": points,
                "after": entry.balance_after,
                "reference": reference,
                "key": key,
                "actor": actor.pk if actor is not None else None,
                "now": entry.created_at,
                "earned_on": today,
                "expires_on": expires_on,
            },
        )
        row = cursor.fetchone()
    if row is None:  # the key was used before: this call is a replay and changes nothing
        return _replayed(key, wallet=wallet, kinds=(PointsEntryKind.EARN_SPEND,))
    entry.pk = row[0]
    entry._state.adding = False
    wallet.points = entry.balance_after
    return entry


@transaction.atomic
def points_award(
    *,
    client: Client,
    points: int,
    kind: str,
    reference: str,
    idempotency_key: str,
    description: str = "",
    acting_user: User | None = None,
) -> PointsEntry:
    """Give points for a check-in, a referral or a birthday, in a lot that expires like any other."""
    if kind not in AWARD_KINDS:
        raise ValueError(kind)
    points = check.points(points)
    key = check.key(idempotency_key)
    reference = check.text(reference, field="reference", model=PointsEntry)
    description = check.text(description, field="description", model=PointsEntry)
    check.active_client(client)
    wallet = wallets.wallet_locked(client)
    replay = _replayed(key, wallet=wallet, kinds=(kind,), points=points)
    if replay is not None:
        return replay
    today = salon_today()
    return _earn(
        wallet,
        kind=kind,
        points=points,
        key=key,
        earned_on=today,
        expires_on=points_expiry(today, check.loyalty_settings()),
        reference=reference,
        description=description,
        acting_user=acting_user,
    )


def _check_in_key(client: Client) -> str:
    return f"check-in:{client.pk}:{salon_today().isoformat()}"


def points_checked_in_today(client: Client) -> bool:
    """Whether the client has checked in on the salon's today (one check-in a day earns points)."""
    return PointsEntry.objects.filter(idempotency_key=_check_in_key(client)).exists()


@transaction.atomic
def points_check_in(*, client: Client, acting_user: User | None) -> PointsEntry:
    """The salon's check-in points, once per client per salon day (ALREADY_CHECKED_IN after that)."""
    check.require_permission(acting_user, "take_payments")
    points = check.loyalty_settings().check_in_points
    if not points:
        raise loyalty_error(LoyaltyError.POINTS_OFF)
    check.active_client(client)
    key = _check_in_key(client)
    wallets.wallet_locked(client)  # two check-ins at once queue here; the second sees the first
    if PointsEntry.objects.filter(idempotency_key=key).exists():
        raise loyalty_error(LoyaltyError.ALREADY_CHECKED_IN)
    return points_award(
        client=client,
        points=points,
        kind=PointsEntryKind.EARN_CHECK_IN,
        reference=f"check-in:{salon_today().isoformat()}",
        idempotency_key=key,
        acting_user=acting_user,
    )


# --- redeeming ------------------------------------------------------------------------------------


@transaction.atomic
def points_redeem(
    *,
    client: Client,
    points: int,
    description: str,
    reference: str,
    idempotency_key: str,
    acting_user: User | None,
    verification: Verification | None = None,
) -> PointsEntry:
    """Spend points on a service, a product, a gift or money off (``description`` says what), oldest
    lots first. Refused with nothing written when the card is lost, frozen or expired, the points are
    short, or the salon requires the client's code and neither it nor a manager's override is given."""
    check.require_permission(acting_user, "take_payments")
    points = check.points(points)
    key = check.key(idempotency_key)
    description = check.text(description, field="description", model=PointsEntry)
    reference = check.text(reference, field="reference", model=PointsEntry)
    wallet = wallets.wallet_locked(client)
    replay = _replayed(key, wallet=wallet, kinds=(PointsEntryKind.REDEEM,), points=-points)
    if replay is not None:
        return replay
    check.active_client(client)
    today = salon_today()
    wallets._check_card(wallet, today)  # a lost or frozen card blocks points as it blocks stored value
    if points > wallet.points:
        raise loyalty_error(LoyaltyError.INSUFFICIENT_POINTS)
    redemption_authorise(
        client=client, verification=verification, acting_user=acting_user, what="points", reference=reference
    )
    lots = _spendable(wallet, points, today)
    _draw(lots, points)
    return _append(
        wallet,
        kind=PointsEntryKind.REDEEM,
        points=-points,
        key=key,
        reference=reference,
        description=description,
        acting_user=acting_user,
    )


@dataclass(frozen=True)
class MoneyOff:
    entry: PointsEntry
    value: int  # fen taken off the bill


def points_redeem_for_money(
    *,
    client: Client,
    points: int,
    reference: str,
    idempotency_key: str,
    acting_user: User | None,
    verification: Verification | None = None,
) -> MoneyOff:
    """Redeem points as money off a bill: the salon's value of 100 points, pro rata, rounded down to
    the fen. The till takes ``value`` off the bill."""
    points = check.points(points)
    value = points_value(points)
    if value <= 0:
        raise loyalty_error(LoyaltyError.POINTS_TOO_FEW)
    from apps.core.money import fen_to_yuan

    entry = points_redeem(
        client=client,
        points=points,
        description=_("Money off ¥%(value)s") % {"value": fen_to_yuan(value)},
        reference=reference,
        idempotency_key=idempotency_key,
        acting_user=acting_user,
        verification=verification,
    )
    return MoneyOff(entry=entry, value=value)


@transaction.atomic
def points_redeem_reverse(
    *, entry: PointsEntry, idempotency_key: str, acting_user: User | None = None, reference: str = ""
) -> list[PointsEntry]:
    """Give back a whole redemption (its bill was refunded), once: the points return to lots with the
    earning and expiry dates of the lots they came from (points whose expiry has passed meanwhile
    expire again at the next nightly run). Returns the entries written, one per restored lot."""
    key = check.key(idempotency_key)
    if entry.kind != PointsEntryKind.REDEEM:
        raise loyalty_error(LoyaltyError.NOT_A_REDEMPTION)
    wallet = _locked_by_id(entry.wallet_id)
    first = _replayed(key, wallet=wallet, kinds=(PointsEntryKind.REDEEM_REVERSAL,))
    if first is not None:
        if first.reverses_id != entry.pk:
            raise loyalty_error(LoyaltyError.KEY_REUSED)
        return list(entry.reversals.order_by("id"))
    if entry.reversals.exists():
        raise loyalty_error(LoyaltyError.ALREADY_REVERSED)
    reference = check.text(reference, field="reference", model=PointsEntry) or entry.reference
    written = []
    for index, (earned_on, expires_on, points) in enumerate(redemption_draws(entry, today=salon_today())):
        written.append(
            _earn(
                wallet,
                kind=PointsEntryKind.REDEEM_REVERSAL,
                points=points,
                key=key if index == 0 else f"{key}:{index + 1}",
                earned_on=earned_on,
                expires_on=expires_on,
                reference=reference,
                description=entry.description,
                acting_user=acting_user,
                reverses=entry,
            )
        )
    return written


@transaction.atomic
def points_earn_reverse(
    *, entry: PointsEntry, idempotency_key: str, points: int | None = None, reference: str = ""
) -> PointsEntry | None:
    """Take back points earned on a bill that was refunded: ``points`` (all when None), but never more
    than is left in that earning's lot, so the balance never goes negative. None when nothing is left."""
    key = check.key(idempotency_key)
    if entry.kind not in EARNING_KINDS:
        raise loyalty_error(LoyaltyError.NOT_AN_EARNING)
    if points is not None:
        points = check.points(points)
    wallet = _locked_by_id(entry.wallet_id)
    replay = _replayed(key, wallet=wallet, kinds=(PointsEntryKind.EARN_REVERSAL,))
    if replay is not None:
        if replay.reverses_id != entry.pk:
            raise loyalty_error(LoyaltyError.KEY_REUSED)
        return replay
    lot = PointsLot.objects.select_for_update().get(entry=entry)
    taken = lot.remaining if points is None else min(points, lot.remaining)
    if taken <= 0:
        return None
    lot.remaining -= taken
    lot.save(update_fields=["remaining"])
    return _append(
        wallet,
        kind=PointsEntryKind.EARN_REVERSAL,
        points=-taken,
        key=key,
        reference=check.text(reference, field="reference", model=PointsEntry) or entry.reference,
        reverses=entry,
    )


# --- adjustments, expiry, birthdays ---------------------------------------------------------------


@transaction.atomic
def points_adjust(
    *, client: Client, points: int, reason: str, idempotency_key: str, acting_user: User | None
) -> PointsEntry:
    """Correct the points by hand (``adjust_balances``), with a reason, audited. Points added open a lot
    that expires like earned ones; points taken come from the oldest lots and never go below zero."""
    check.require_permission(acting_user, "adjust_balances")
    key = check.key(idempotency_key)
    reason = check.text(reason, field="description", model=PointsEntry)
    if not reason:
        raise loyalty_error(LoyaltyError.REASON_REQUIRED)
    if isinstance(points, bool) or not isinstance(points, int) or points == 0 or abs(points) > check.MAX_POINTS:
        raise loyalty_error(LoyaltyError.INVALID_POINTS)
    check.active_client(client)
    wallet = wallets.wallet_locked(client)
    replay = _replayed(key, wallet=wallet, kinds=(PointsEntryKind.ADJUSTMENT,), points=points)
    if replay is not None:
        return replay
    today = salon_today()
    fields: dict[str, Any] = {"key": key, "description": reason, "acting_user": acting_user}
    if points > 0:
        expires_on = points_expiry(today, check.loyalty_settings())
        entry = _earn(
            wallet, kind=PointsEntryKind.ADJUSTMENT, points=points, earned_on=today, expires_on=expires_on, **fields
        )
    else:
        lots = _spendable(wallet, -points, today)
        _draw(lots, -points)
        entry = _append(wallet, kind=PointsEntryKind.ADJUSTMENT, points=points, **fields)
    audit_record(
        action="loyalty.points_adjusted",
        actor=acting_user,
        target=client,
        data={"points": points, "reason": reason, "entry": entry.pk},
    )
    return entry


def points_expire(*, today: datetime.date | None = None) -> int:
    """Expire every lot whose expiry date has passed (one EXPIRE entry per wallet), returning how many
    wallets lost points. Each wallet is its own transaction under its row lock, so a second run, even
    at the same time, finds those lots already at zero and writes nothing."""
    today = today or salon_today()
    wallet_ids = (
        PointsLot.objects.filter(expires_on__lt=today, remaining__gt=0)
        .order_by("wallet_id")
        .values_list("wallet_id", flat=True)
        .distinct()
    )
    expired = 0
    for wallet_id in list(wallet_ids):
        with transaction.atomic():
            wallet = _locked_by_id(wallet_id)
            lots = list(
                PointsLot.objects.select_for_update()
                .filter(wallet=wallet, expires_on__lt=today, remaining__gt=0)
                .order_by("earned_on", "id")
            )
            if lots and _expire_lots(wallet, lots, today) is not None:
                expired += 1
    return expired


def birthday_points_grant(*, today: datetime.date | None = None) -> int:
    """Give the salon's birthday points to every active client whose birthday (solar, or lunar when the
    client keeps it so) is today, once per year; returns how many clients got them."""
    from django.db.models import Q

    from apps.crm.services.clients import client_next_birthday

    today = today or salon_today()
    points = check.loyalty_settings().birthday_points
    if not points:
        return 0
    days = [today.day]
    if today.month == 2 and today.day == 28 and not calendar.isleap(today.year):
        days.append(29)  # born on 29 February: celebrated on the 28th in other years
    candidates = Client.objects.filter(is_active=True, birthday__isnull=False).filter(
        Q(birthday_is_lunar=True) | Q(birthday__month=today.month, birthday__day__in=days)
    )
    granted = 0
    for client in candidates.order_by("pk").iterator():
        if client_next_birthday(client, today=today) != today:
            continue
        key = f"birthday:{client.pk}:{today.year}"
        if PointsEntry.objects.filter(idempotency_key=key).exists():
            continue
        points_award(
            client=client,
            points=points,
            kind=PointsEntryKind.EARN_BIRTHDAY,
            reference=f"birthday:{today.year}",
            idempotency_key=key,
        )
        granted += 1
    return granted
