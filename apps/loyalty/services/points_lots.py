"""Which lots a points redemption drew on, found again by replaying the wallet's points history.

No row records a draw (a lot keeps only what is left of it), but every change of a lot is made by one
rule of ``services/points.py``, in the order of the ledger (each change holds the wallet's row lock, so
entry ids follow the order the changes happened in):

- an entry that adds points opens its own lot (``PointsLot.entry``);
- an EXPIRE entry zeroes every lot whose expiry is before its run day (kept in its reference);
- an EARN_REVERSAL takes from the lot of the earning it reverses;
- every other entry that takes points (REDEEM, a negative ADJUSTMENT) draws the open lots in
  ``(earned_on, id)`` order.

Replaying the rules gives each draw exactly. The replay is checked against the lots' stored figures; if
they ever disagree, the redemption comes back whole with the earliest expiry of the lots it could have
drawn on. Keep these rules in step with ``services/points.py``."""

from __future__ import annotations

import bisect
import datetime
from collections.abc import Iterable

from apps.loyalty.models import PointsEntry, PointsEntryKind, PointsLot

EXPIRE_REFERENCE = "expire:"
Restored = tuple[datetime.date, datetime.date | None, int]  # earned on, expires on, points


def _order(lot: PointsLot) -> tuple[datetime.date, int]:
    return (lot.earned_on, lot.pk)


def _run_day(reference: str) -> datetime.date | None:
    if not reference.startswith(EXPIRE_REFERENCE):
        return None
    try:
        return datetime.date.fromisoformat(reference.removeprefix(EXPIRE_REFERENCE))
    except ValueError:
        return None


def _take(opened: list[PointsLot], left: dict[int, int], points: int) -> list[tuple[PointsLot, int]]:
    taken = []
    for lot in opened:
        if points == 0:
            break
        part = min(left[lot.pk], points)
        if part:
            left[lot.pk] -= part
            points -= part
            taken.append((lot, part))
    if points:
        raise ValueError("the replay drew more than the lots held")
    return taken


def _grouped(draws: Iterable[tuple[PointsLot, int]]) -> list[Restored]:
    """One restored lot per (earned on, expires on), oldest first."""
    groups: dict[tuple[datetime.date, datetime.date | None], int] = {}
    for lot, points in draws:
        groups[(lot.earned_on, lot.expires_on)] = groups.get((lot.earned_on, lot.expires_on), 0) + points
    return [(earned_on, expires_on, points) for (earned_on, expires_on), points in groups.items()]


def redemption_draws(redemption: PointsEntry, *, today: datetime.date) -> list[Restored]:
    """The lots to restore when ``redemption`` is given back: what it took from each lot, with the
    lot's earning and expiry dates. The caller holds the wallet's row lock."""
    lots = list(PointsLot.objects.filter(wallet_id=redemption.wallet_id))
    lot_of_entry = {lot.entry_id: lot for lot in lots}
    left: dict[int, int] = {}
    opened: list[PointsLot] = []
    draws: list[tuple[PointsLot, int]] | None = None
    entries = (
        PointsEntry.objects.filter(wallet_id=redemption.wallet_id)
        .order_by("id")
        .values_list("id", "kind", "points", "reference", "reverses_id")
    )
    try:
        for pk, kind, points, reference, reverses_id in entries:
            lot = lot_of_entry.get(pk)
            if lot is not None:
                left[lot.pk] = lot.points
                bisect.insort(opened, lot, key=_order)
            elif points > 0:
                raise ValueError("points added without a lot")
            elif kind == PointsEntryKind.EXPIRE:
                run = _run_day(reference)
                if run is None:
                    raise ValueError("expiry without its run day")
                for each in opened:
                    if each.expires_on is not None and each.expires_on < run:
                        left[each.pk] = 0
            elif kind == PointsEntryKind.EARN_REVERSAL:
                left[lot_of_entry[reverses_id].pk] += points
            else:
                taken = _take(opened, left, -points)
                if pk == redemption.pk:
                    draws = taken
        if draws is None or any(left.get(lot.pk) != lot.remaining for lot in lots):
            raise ValueError("the replay does not match the lots")
    except (ValueError, KeyError):
        return _fallback(redemption, lots, today=today)
    return _grouped(draws)


def _fallback(redemption: PointsEntry, lots: list[PointsLot], *, today: datetime.date) -> list[Restored]:
    """The whole redemption as one lot with the earliest expiry of the lots that existed before it."""
    before = [lot for lot in lots if lot.entry_id < redemption.pk]
    expiries = [lot.expires_on for lot in before if lot.expires_on is not None]
    return [(today, min(expiries) if expiries else None, -redemption.points)]
