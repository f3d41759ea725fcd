"""The one writer of stock levels, the movement ledger and the catalogue's ``Product.stock`` figure.

Every stock operation (a sale, a refund, a service's materials, an adjustment, a transfer, a receipt, a
stocktake) goes through ``record``, which in a handful of statements, whatever the number of lines:

1. locks the products' catalogue rows in id order — every writer of a product's stock takes this lock
   first (the catalogue's own count included), so two operations never wait on each other in a cycle
   and ``Product.stock`` can be recomputed from figures nobody else is changing;
2. looks for rows an earlier call with the same idempotency key wrote: a replay returns them;
3. asks the caller for the lines (``build`` runs under the locks, so caps read there hold);
4. locks the stock levels, works out each figure after, and refuses a decrease below zero when the
   salon forbids negative stock — before anything is written;
5. writes the levels (one UPDATE, one INSERT for levels met for the first time), the movements (one
   INSERT) and ``Product.stock`` (one UPDATE).

``Product.stock`` (the catalogue's figure, shown by ``/api/v1/products/``) is the number of whole units
on the shelves over all locations: the sum over locations of each level's quantity, where a level below
zero counts as none and an opened bottle (0.4 of a unit) is not a unit. It equals the plain sum whenever
no location is negative and quantities are whole, which is always the case for goods sold by the
piece in a salon that forbids negative stock. It can therefore never be negative, which keeps the
catalogue's ``CHECK (stock >= 0)``; the deficit of a negative location is shown, flagged, by inventory.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal

from django.utils import timezone
from django.utils.translation import gettext as _

from apps.catalog.models import Product
from apps.core.models import Location, User
from apps.inventory.errors import InventoryError, inventory_error
from apps.inventory.models import ZERO, StockLevel, StockMovement
from apps.inventory.services import _common as check


@dataclass(frozen=True)
class Change:
    """One line of an operation: so much of a product in or out of a location."""

    location_id: int
    product_id: int
    kind: str
    quantity: Decimal  # signed: negative when stock leaves
    unit_cost: int | None = None
    reason: str = ""
    purchase_order_id: int | None = None
    transfer_id: int | None = None
    stocktake_id: int | None = None


@dataclass
class StockResult:
    """What an operation wrote (or, for a replay, what the first call wrote; nothing new)."""

    movements: list[StockMovement] = field(default_factory=list)
    replayed: bool = False

    @property
    def flagged(self) -> list[StockMovement]:
        """The movements that left a level below zero (only when the salon allows negative stock)."""
        return [m for m in self.movements if m.went_negative]


def whole_units(quantity: Decimal) -> int:
    """Whole units on the shelf for one level: none below zero, an opened unit not counted."""
    return int(max(quantity, ZERO).to_integral_value(rounding=ROUND_FLOOR))


def fmt(quantity: Decimal) -> str:
    """3.000 → "3", 0.090 → "0.09": quantities in messages as people write them."""
    text = f"{quantity:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def insufficient(product: Product, location: Location | None, *, on_hand: Decimal, needed: Decimal) -> Exception:
    message = _("Not enough %(product)s at %(location)s: %(on_hand)s on hand, %(needed)s needed.") % {
        "product": product,
        "location": location.name if location is not None else "",
        "on_hand": fmt(on_hand),
        "needed": fmt(needed),
    }
    return inventory_error(
        InventoryError.INSUFFICIENT_STOCK,
        message=message,
        extra={
            "product": product.pk,
            "location": location.pk if location is not None else None,
            "on_hand": str(on_hand),
            "needed": str(needed),
        },
    )


def lock_products(product_ids: Iterable[int]) -> dict[int, Product]:
    """The catalogue rows of these products, locked until the transaction ends.

    order_by("pk") is intentional: locking rows in a consistent order prevents deadlocks between
    concurrent transactions (a sale of shampoo and conditioner against a transfer of both)."""
    ids = sorted(set(product_ids))
    if not ids:
        return {}
    products = {
        p.pk: p
        for p in Product.objects.select_for_update()
        .filter(pk__in=ids)
        .order_by("pk")
        .only("id", "name", "brand", "spec", "cost", "stock", "is_active")
    }
    if len(products) != len(ids):
        raise inventory_error(InventoryError.NOT_FOUND)
    return products


def replayed(key: str) -> list[StockMovement]:
    return list(StockMovement.objects.filter(idempotency_key=key).order_by("line"))


def record(
    *,
    operation: str,
    key: str,
    product_ids: Iterable[int],
    build: Callable[[dict[int, Product]], list[Change]],
    reference: str,
    acting_user: User | None,
    note: str = "",
    matches: Callable[[list[StockMovement]], bool],
    locations: dict[int, Location] | None = None,
) -> StockResult:
    """Apply one operation's lines (see the module's docstring). Call inside a transaction.

    ``operation`` names the kind of operation and prefixes the key, so that the till may use one bill
    key for the sale and for the materials. ``matches`` says whether rows found under the key are this
    same operation (a replay) or another one (refused: the key was reused). ``locations`` name the
    locations in a refusal."""
    full_key = f"{operation}:{key}"
    products = lock_products(product_ids)
    earlier = replayed(full_key)
    if earlier:
        if not matches(earlier):
            raise inventory_error(InventoryError.KEY_REUSED)
        return StockResult(earlier, replayed=True)
    changes = [c for c in build(products) if c.quantity != 0]
    if not changes:
        return StockResult([])
    for change in changes:
        if change.product_id not in products:  # pragma: no cover - a caller's mistake, not a user's
            raise ValueError(f"product {change.product_id} was not locked")

    pairs = {(c.location_id, c.product_id) for c in changes}
    levels = {
        (level.location_id, level.product_id): level
        for level in StockLevel.objects.select_for_update()
        .filter(location_id__in={loc for loc, _p in pairs}, product_id__in={p for _l, p in pairs})
        .order_by("pk")
    }
    before = {pair: levels[pair].quantity if pair in levels else ZERO for pair in pairs}
    after = dict(before)
    allow_negative: bool | None = None  # read only when a line would go below zero
    now = timezone.now()
    user = check.actor(acting_user)
    movements: list[StockMovement] = []
    for line, change in enumerate(changes):
        pair = (change.location_id, change.product_id)
        old = after[pair]
        new = old + change.quantity
        if change.quantity < 0 and new < 0:
            if allow_negative is None:
                allow_negative = check.inventory_settings().allow_negative_stock
            if not allow_negative:
                place = (locations or {}).get(change.location_id) or Location.objects.filter(
                    pk=change.location_id
                ).first()
                raise insufficient(products[change.product_id], place, on_hand=old, needed=-change.quantity)
        after[pair] = new
        movements.append(
            StockMovement(
                location_id=change.location_id,
                product_id=change.product_id,
                kind=change.kind,
                quantity=change.quantity,
                quantity_after=new,
                went_negative=new < 0,
                unit_cost=change.unit_cost,
                reason=change.reason,
                reference=reference,
                idempotency_key=full_key,
                line=line,
                purchase_order_id=change.purchase_order_id,
                transfer_id=change.transfer_id,
                stocktake_id=change.stocktake_id,
                actor=user,
                note=note,
                created_at=now,
            )
        )

    changed: list[StockLevel] = []
    created: list[StockLevel] = []
    for pair, quantity in after.items():
        level = levels.get(pair)
        if level is None:
            created.append(
                StockLevel(
                    location_id=pair[0],
                    product_id=pair[1],
                    quantity=quantity,
                    negative_since=now if quantity < 0 else None,
                    updated_at=now,
                )
            )
        elif quantity != level.quantity:
            level.negative_since = (level.negative_since or now) if quantity < 0 else None
            level.quantity = quantity
            level.updated_at = now
            changed.append(level)
    if changed:
        StockLevel.objects.bulk_update(changed, ["quantity", "negative_since", "updated_at"])
    if created:
        StockLevel.objects.bulk_create(created)
    StockMovement.objects.bulk_create(movements)

    whole: dict[int, int] = {}
    for (_location, product_id), quantity in after.items():
        delta = whole_units(quantity) - whole_units(before[(_location, product_id)])
        whole[product_id] = whole.get(product_id, 0) + delta
    touched = []
    for product_id, delta in whole.items():
        if delta:
            product = products[product_id]
            product.stock += delta
            touched.append(product)
    if touched:
        Product.objects.bulk_update(touched, ["stock"])
    return StockResult(movements)
