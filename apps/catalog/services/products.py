"""Writes of suppliers and products (CAT-2), and the one place that changes a product's stock figure."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from apps.catalog.errors import CatalogError, catalog_error
from apps.catalog.models import Product, ProductCategory, Supplier
from apps.catalog.services import _common as check
from apps.catalog.services._common import UNSET
from apps.core.models import User
from apps.core.services import audit_record

# --- suppliers ---------------------------------------------------------------------------------

_SUPPLIER_CONSTRAINTS = {"supplier_name_unique_ci": CatalogError.DUPLICATE_NAME}
_SUPPLIER_TEXT = ("contact", "phone", "address", "notes")


@transaction.atomic
def supplier_create(
    *,
    name: str,
    contact: str = "",
    phone: str = "",
    address: str = "",
    notes: str = "",
    acting_user: User | None = None,
) -> Supplier:
    """Add a supplier; names are unique whatever their case."""
    values = {"contact": contact, "phone": phone, "address": address, "notes": notes}
    cleaned = {field: check.text(value, field=field, model=Supplier) for field, value in values.items()}
    name = check.text(name, field="name", model=Supplier, required=True)
    if check.name_taken(Supplier, name):
        raise catalog_error(CatalogError.DUPLICATE_NAME)
    supplier = check.save(Supplier(name=name, **cleaned), constraints=_SUPPLIER_CONSTRAINTS)
    audit_record(action="catalog.supplier.created", actor=acting_user, target=supplier, data={"name": name})
    return supplier


@transaction.atomic
def supplier_update(
    *,
    supplier: Supplier,
    acting_user: User | None,
    name: Any = UNSET,
    contact: Any = UNSET,
    phone: Any = UNSET,
    address: Any = UNSET,
    notes: Any = UNSET,
    is_active: Any = UNSET,
) -> Supplier:
    supplier = Supplier.objects.select_for_update().get(pk=supplier.pk)
    values: dict[str, Any] = {
        "name": name,
        "contact": contact,
        "phone": phone,
        "address": address,
        "notes": notes,
        "is_active": is_active,
    }
    for field in _SUPPLIER_TEXT:
        if values[field] is not UNSET:
            values[field] = check.text(values[field], field=field, model=Supplier)
    if name is not UNSET:
        values["name"] = check.text(name, field="name", model=Supplier, required=True)
        if check.name_taken(Supplier, values["name"], exclude_pk=supplier.pk):
            raise catalog_error(CatalogError.DUPLICATE_NAME)
    changes = check.changed_fields(supplier, values)
    if changes:
        check.save(supplier, constraints=_SUPPLIER_CONSTRAINTS, update_fields=list(changes))
        audit_record(
            action="catalog.supplier.updated", actor=acting_user, target=supplier, data=check.audit_data(changes)
        )
    return supplier


def supplier_deactivate(*, supplier: Supplier, acting_user: User | None) -> Supplier:
    """Hide a supplier from new choices; products keep the link."""
    return supplier_update(supplier=supplier, acting_user=acting_user, is_active=False)


# --- products ----------------------------------------------------------------------------------

_PRODUCT_CONSTRAINTS = {
    "product_identity_unique_ci": CatalogError.DUPLICATE_PRODUCT,
    "product_barcode_unique": CatalogError.DUPLICATE_BARCODE,
}


def _product_values(values: dict[str, Any], *, exclude_pk: int | None = None) -> dict[str, Any]:
    """Check the given product fields (UNSET ones are skipped) and return them cleaned."""
    cleaned = dict(values)
    if values.get("name", UNSET) is not UNSET:
        cleaned["name"] = check.text(values["name"], field="name", model=Product, required=True)
    for field in ("brand", "spec", "barcode"):
        if values.get(field, UNSET) is not UNSET:
            cleaned[field] = check.text(values[field], field=field, model=Product)
    for field in ("cost", "price"):
        if values.get(field, UNSET) is not UNSET:
            check.amount(values[field], field=field)
    others = Product.objects.exclude(pk=exclude_pk) if exclude_pk else Product.objects.all()
    if cleaned.get("barcode") and others.filter(barcode=cleaned["barcode"]).exists():
        raise catalog_error(CatalogError.DUPLICATE_BARCODE)
    return cleaned


def _identity_taken(product: Product) -> bool:
    return (
        Product.objects.exclude(pk=product.pk)
        .filter(name__iexact=product.name, brand__iexact=product.brand, spec__iexact=product.spec)
        .exists()
    )


def _save_with_image(product: Product, upload: UploadedFile | None, *, update_fields: list[str] | None = None) -> None:
    """Write the image (already checked) under the salon's prefix, then the row.

    Files live outside the transaction: when the row cannot be saved the new file is removed again.
    (A rollback of an enclosing transaction after this returns would leave the file behind, unused.)
    """
    if upload is None:
        check.save(product, constraints=_PRODUCT_CONSTRAINTS, update_fields=update_fields)
        return
    product.image.save(upload.name or "image", upload, save=False)
    try:
        check.save(product, constraints=_PRODUCT_CONSTRAINTS, update_fields=update_fields)
    except Exception:
        product.image.storage.delete(str(product.image.name))
        raise


@transaction.atomic
def product_create(
    *,
    name: str,
    price: int,
    brand: str = "",
    spec: str = "",
    cost: int = 0,
    barcode: str = "",
    supplier: Supplier | None = None,
    category: ProductCategory | None = None,
    image: UploadedFile | None = None,
    stock: int = 0,
    acting_user: User | None = None,
) -> Product:
    """Add a product. Name, brand and specification together are unique whatever their case; a barcode,
    when given, belongs to one product only; the opening stock is recorded like any stock change."""
    values = _product_values(
        {
            "name": name,
            "brand": brand,
            "spec": spec,
            "cost": cost,
            "price": price,
            "barcode": barcode,
            "supplier": supplier,
            "category": category,
        }
    )
    check.whole(stock, low=0, high=check.MAX_COUNT, code=CatalogError.INVALID_STOCK)
    check.image(image, field="image")
    product = Product(**values)
    if _identity_taken(product):
        raise catalog_error(CatalogError.DUPLICATE_PRODUCT)
    _save_with_image(product, image)
    audit_record(
        action="catalog.product.created",
        actor=acting_user,
        target=product,
        data={"name": product.name, "price": product.price, "cost": product.cost},
    )
    if stock:
        product_stock_set(product=product, stock=stock, acting_user=acting_user, reason="opening stock")
    return product


@transaction.atomic
def product_update(
    *,
    product: Product,
    acting_user: User | None,
    name: Any = UNSET,
    brand: Any = UNSET,
    spec: Any = UNSET,
    cost: Any = UNSET,
    price: Any = UNSET,
    barcode: Any = UNSET,
    supplier: Any = UNSET,
    category: Any = UNSET,
    image: UploadedFile | None = None,
    remove_image: bool = False,
    is_active: Any = UNSET,
    stock: Any = UNSET,
) -> Product:
    """Change a product. Price and cost changes are audited with old and new amounts; a replaced image's
    file is deleted once the change is committed; ``stock``, when given, is recorded as a count through
    product_stock_set (the only writer of the figure)."""
    product = Product.objects.select_for_update().get(pk=product.pk)
    if stock is not UNSET:
        check.whole(stock, low=0, high=check.MAX_COUNT, code=CatalogError.INVALID_STOCK)
    values = _product_values(
        {
            "name": name,
            "brand": brand,
            "spec": spec,
            "cost": cost,
            "price": price,
            "barcode": barcode,
            "supplier": supplier,
            "category": category,
            "is_active": is_active,
        },
        exclude_pk=product.pk,
    )
    check.image(image, field="image")
    old_image = product.image.name
    changes = check.changed_fields(product, values)
    if {"name", "brand", "spec"} & set(changes) and _identity_taken(product):
        raise catalog_error(CatalogError.DUPLICATE_PRODUCT)
    if image is not None:
        changes["image"] = (old_image, "new")
    elif remove_image and old_image:
        product.image = ""  # type: ignore[assignment]
        changes["image"] = (old_image, "")
    if changes:
        _save_with_image(product, image, update_fields=list(changes))
        if "image" in changes and old_image:
            storage = product.image.storage
            transaction.on_commit(lambda: storage.delete(old_image))
        audit_record(
            action="catalog.product.updated", actor=acting_user, target=product, data=check.audit_data(changes)
        )
    if stock is not UNSET:
        product = product_stock_set(product=product, stock=stock, acting_user=acting_user, reason="count")
    return product


def product_deactivate(*, product: Product, acting_user: User | None) -> Product:
    """Stop selling a product; it stays in history, packages and service materials."""
    return product_update(product=product, acting_user=acting_user, is_active=False)


# An upper app that keeps stock per location (inventory, POS-8) registers here to record a count typed
# in the catalogue as its own movement; it then writes ``Product.stock`` itself, as the total over
# locations. Without one, the catalogue keeps the figure alone.
StockKeeper = Callable[..., None]
_stock_keepers: list[StockKeeper] = []


def product_stock_keeper_register(keeper: StockKeeper) -> None:
    """Called from the upper app's ``ready``: ``keeper(*, product, stock, acting_user, reason)`` runs inside
    product_stock_set's transaction, with the product's row locked, and may refuse with a ServiceError."""
    if keeper not in _stock_keepers:
        _stock_keepers.append(keeper)


@transaction.atomic
def product_stock_set(*, product: Product, stock: int, acting_user: User | None, reason: str = "") -> Product:
    """Set the figure on hand after a count, audited with the old and new figure. Writes ``Product.stock``
    itself, or through the registered stock keeper (inventory keeps it as the total over locations)."""
    check.whole(stock, low=0, high=check.MAX_COUNT, code=CatalogError.INVALID_STOCK)
    reason = str(reason or "").strip()[:200]
    # Lock the row: two counts entered at once must each see the figure the other left.
    product = Product.objects.select_for_update().get(pk=product.pk)
    old = product.stock
    if old == stock:
        return product
    if _stock_keepers:
        _stock_keepers[0](product=product, stock=stock, acting_user=acting_user, reason=reason)
        product.refresh_from_db(fields=["stock"])
    else:
        product.stock = stock
        product.save(update_fields=["stock"])
    audit_record(
        action="catalog.product.stock_set",
        actor=acting_user,
        target=product,
        data={"from": old, "to": stock, "reason": reason},
    )
    return product
