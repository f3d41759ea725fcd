"""Checks shared by the catalogue's services. Each raises a field-level ServiceError before anything is written."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, models, transaction

from apps.catalog.errors import CatalogError, catalog_error
from apps.core.money import MAX_AMOUNT
from apps.core.uploads import image_problem

M = TypeVar("M", bound=models.Model)


class _Unset:
    """Marks an argument that was not given, where None is a real value (no category, no expiry)."""

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()

MAX_MINUTES = 24 * 60
MAX_VALIDITY_DAYS = 3650
MAX_SESSIONS = 1000
MAX_COUNT = 1_000_000
MAX_MATERIAL_QUANTITY = Decimal("9999999.999")


def text(value: Any, *, field: str, model: type[models.Model], required: bool = False) -> str:
    """A stripped string that fits the model field (``required``: not empty)."""
    value = "" if value is None else str(value).strip()
    if "\x00" in value:
        raise catalog_error(CatalogError.TEXT_TOO_LONG, field=field)
    if required and not value:
        raise catalog_error(CatalogError.NAME_REQUIRED, field=field)
    max_length = getattr(model._meta.get_field(field), "max_length", None)
    if max_length is not None and len(value) > max_length:
        raise catalog_error(CatalogError.TEXT_TOO_LONG, field=field)
    return value


def whole(value: Any, *, low: int, high: int, code: CatalogError, field: str | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise catalog_error(code, field=field)
    return value


def amount(value: Any, *, field: str = "price") -> int:
    """Money in integer fen, 0 … MAX_AMOUNT."""
    return whole(value, low=0, high=MAX_AMOUNT, code=CatalogError.INVALID_AMOUNT, field=field)


def sort_order(value: Any) -> int:
    return whole(value, low=-MAX_COUNT, high=MAX_COUNT, code=CatalogError.INVALID_SORT_ORDER)


def minutes(value: Any, *, code: CatalogError, low: int) -> int:
    return whole(value, low=low, high=MAX_MINUTES, code=code)


def validity_days(value: Any, *, optional: bool) -> int | None:
    if value is None and optional:
        return None
    return whole(value, low=1, high=MAX_VALIDITY_DAYS, code=CatalogError.INVALID_VALIDITY)


def positive_decimal(value: Any, *, field: str = "quantity") -> Decimal:
    try:
        quantity = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise catalog_error(CatalogError.INVALID_QUANTITY, field=field) from exc
    if not quantity.is_finite() or quantity <= 0 or quantity > MAX_MATERIAL_QUANTITY:
        raise catalog_error(CatalogError.INVALID_QUANTITY, field=field)
    if quantity != quantity.quantize(Decimal("0.001")):
        raise catalog_error(CatalogError.INVALID_QUANTITY, field=field)
    return quantity


def image(upload: UploadedFile | None, *, field: str) -> UploadedFile | None:
    if upload is None:
        return None
    problem = image_problem(upload)
    if problem:
        raise catalog_error(CatalogError.INVALID_IMAGE, field=field, message=problem)
    return upload


def name_taken(model: type[models.Model], name: str, *, exclude_pk: int | None = None) -> bool:
    others = model._default_manager.filter(name__iexact=name)
    if exclude_pk is not None:
        others = others.exclude(pk=exclude_pk)
    return others.exists()


def save(obj: M, *, constraints: Mapping[str, CatalogError], update_fields: list[str] | None = None) -> M:
    """Save ``obj`` in a savepoint; a unique constraint that a concurrent write won between our check
    and the insert becomes the same field error the check would have raised."""
    try:
        with transaction.atomic():
            obj.save(update_fields=update_fields)
    except IntegrityError as exc:
        for constraint, code in constraints.items():
            if constraint in str(exc):
                raise catalog_error(code) from exc
        raise
    return obj


def changed_fields(obj: models.Model, values: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
    """Apply the values that differ from ``obj``'s and return them as {field: (old, new)}."""
    changes: dict[str, tuple[Any, Any]] = {}
    for field, value in values.items():
        if value is UNSET:
            continue
        old = getattr(obj, field)
        if old != value:
            changes[field] = (old, value)
            setattr(obj, field, value)
    return changes


def audit_data(changes: Mapping[str, tuple[Any, Any]], *, money: tuple[str, ...] = ("price", "cost")) -> dict[str, Any]:
    """What an audit entry records of an update: the changed field names, and old → new for money."""
    data: dict[str, Any] = {"changed": sorted(changes)}
    for field in money:
        if field in changes:
            data[field] = list(changes[field])
    return data
