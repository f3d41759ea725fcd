"""Checks shared by inventory's services. Each raises a named InventoryError before anything is written."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from functools import wraps
from typing import Any, ParamSpec, TypeVar

from django.db import IntegrityError, models, transaction

from apps.core.models import Location, User
from apps.core.money import MAX_AMOUNT
from apps.core.roles import perm
from apps.inventory.errors import InventoryError, inventory_error
from apps.inventory.models import MAX_QUANTITY, InventorySettings

P = ParamSpec("P")
R = TypeVar("R")

# Keys are stored in 120-character columns with the operation's name in front ("sale:", "transfer:").
MAX_KEY_LENGTH = 90
THOUSANDTH = Decimal("0.001")


def inventory_settings() -> InventorySettings:
    """The salon's settings row (created by migration; with defaults should it be missing)."""
    row, _created = InventorySettings.objects.get_or_create(id=1)
    return row


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError, TypeError):
        return None
    if not number.is_finite() or abs(number) > MAX_QUANTITY:
        return None
    if number != number.quantize(THOUSANDTH):
        return None  # more than three decimals
    return number.quantize(THOUSANDTH)


def quantity(value: Any, *, field: str = "quantity") -> Decimal:
    """A quantity taken, sent or received: more than zero, at most three decimals."""
    number = _decimal(value)
    if number is None or number <= 0:
        raise inventory_error(InventoryError.INVALID_QUANTITY, field=field)
    return number


def whole_quantity(value: Any, *, field: str = "quantity") -> Decimal:
    """A number of pieces sold or refunded at the till: a whole number greater than zero."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise inventory_error(InventoryError.INVALID_QUANTITY, field=field)
    return quantity(value, field=field)


def signed_quantity(value: Any, *, field: str = "quantity") -> Decimal:
    """A change by hand: in or out, never zero."""
    number = _decimal(value)
    if number is None or number == 0:
        raise inventory_error(InventoryError.INVALID_QUANTITY, field=field)
    return number


def count(value: Any, *, field: str = "counted") -> Decimal:
    """What was counted on the shelf: zero or more."""
    number = _decimal(value)
    if number is None or number < 0:
        raise inventory_error(InventoryError.INVALID_COUNT, field=field)
    return number


def threshold(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    number = _decimal(value)
    if number is None or number < 0:
        raise inventory_error(InventoryError.INVALID_THRESHOLD)
    return number


def unit_cost(value: Any, *, field: str = "unit_cost") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_AMOUNT:
        raise inventory_error(InventoryError.INVALID_COST, field=field)
    return value


def key(value: Any) -> str:
    """An idempotency key: the caller's name for this one operation, so that a replay applies it once."""
    value = "" if value is None else str(value).strip()
    if not value:
        raise inventory_error(InventoryError.KEY_REQUIRED)
    if len(value) > MAX_KEY_LENGTH or "\x00" in value:
        raise inventory_error(InventoryError.TEXT_TOO_LONG, field="idempotency_key")
    return value


def text(value: Any, *, field: str, max_length: int = 200, required: InventoryError | None = None) -> str:
    value = "" if value is None else str(value).strip()
    if "\x00" in value or len(value) > max_length:
        raise inventory_error(InventoryError.TEXT_TOO_LONG, field=field)
    if required is not None and not value:
        raise inventory_error(required, field=field)
    return value


def reference(value: Any) -> str:
    return text(value, field="reference", max_length=100, required=InventoryError.REFERENCE_REQUIRED)


def open_location(location: Location, *, field: str = "location") -> Location:
    if not location.is_active:
        raise inventory_error(InventoryError.LOCATION_INACTIVE, field=field)
    return location


def require_permission(user: User | None, codename: str = "manage_inventory") -> None:
    """Staff actions check the role here as well as in the view: the API and tasks call services too."""
    if user is not None and not user.has_perm(perm(codename)):
        raise inventory_error(InventoryError.PERMISSION_DENIED)


def actor(user: User | None) -> User | None:
    return user if user is not None and user.pk else None


# Constraint names that a concurrent write can still hit after the service's own checks passed, and the
# refusal each means. The trigger's message is its own (migration 0002).
_CONSTRAINTS = {
    "stock_movement_key_unique": InventoryError.KEY_REUSED,
    "stock_transfer_key_unique": InventoryError.KEY_REUSED,
    "stocktake_one_open_per_location": InventoryError.STOCKTAKE_ALREADY_OPEN,
    "inventory stock cannot go negative": InventoryError.INSUFFICIENT_STOCK,
}


def operation(func: Callable[P, R]) -> Callable[P, R]:
    """Run a writing service in its own transaction (a savepoint inside the caller's) and turn the
    constraints a concurrent writer can still trip into their named refusals, with nothing written.

    The transaction is opened here rather than with ``@transaction.atomic`` on the service so that the
    IntegrityError is caught after it has been rolled back: inside the till's own transaction, only our
    savepoint is undone and the bill can carry on."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            with transaction.atomic():
                return func(*args, **kwargs)
        except IntegrityError as exc:
            for name, code in _CONSTRAINTS.items():
                if name in str(exc):
                    raise inventory_error(code) from exc
            raise

    return wrapper


def by_pk(model: type[models.Model], pk: Any) -> Any:
    """``model``'s row with this id, or NOT_FOUND (a line id typed wrong, a product since removed)."""
    if isinstance(pk, model):
        return pk
    if isinstance(pk, bool) or not isinstance(pk, int):
        raise inventory_error(InventoryError.NOT_FOUND)
    row = model._default_manager.filter(pk=pk).first()
    if row is None:
        raise inventory_error(InventoryError.NOT_FOUND)
    return row
