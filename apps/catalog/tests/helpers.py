"""Arrange catalogue data the way the product does: through the services."""

from __future__ import annotations

import io
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from apps.catalog import services
from apps.core import services as core_services


def png(name: str = "photo.png", size: tuple[int, int] = (40, 20)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 100)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def not_an_image(name: str = "photo.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"%PDF-1.4 definitely not a picture", content_type="image/png")


def haircut(*, actor: Any = None, name: str = "Women's cut", price: int = 12800, **extra: Any) -> Any:
    category = extra.pop("category", None)
    return services.service_create(
        name=name, duration_minutes=45, buffer_minutes=10, price=price, category=category, acting_user=actor, **extra
    )


def shampoo(*, actor: Any = None, name: str = "Repair shampoo", barcode: str = "6901234567890", **extra: Any) -> Any:
    values: dict[str, Any] = {"brand": "L'Oréal", "spec": "500 ml", "cost": 4000, "price": 9800, "barcode": barcode}
    values.update(extra)
    return services.product_create(name=name, acting_user=actor, **values)


def level(name: str, rank: int, *, actor: Any = None) -> Any:
    return core_services.staff_level_create(name=name, rank=rank, acting_user=actor)


def tier(name: str, rank: int) -> Any:
    from apps.crm.services.tags import tier_create

    return tier_create(name=name, rank=rank, acting_user=None)
