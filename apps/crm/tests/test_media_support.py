"""Helpers of the photo, skin record and course tests: images made with Pillow in memory,
uploads, and a look into the (temporary) storage. No tests here."""

from __future__ import annotations

import datetime
import io
import struct
import zlib
from pathlib import Path
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import schema_context
from PIL import Image

from tests.fixtures import SalonInfo, owner_of

ORIENTATION = 0x0112
MAKE = 0x010F
GPS_IFD = 0x8825


def image_bytes(
    fmt: str = "JPEG",
    size: tuple[int, int] = (64, 48),
    color: tuple[int, int, int] = (200, 40, 40),
    *,
    exif: Image.Exif | None = None,
    mode: str = "RGB",
    **options: Any,
) -> bytes:
    image = Image.new(mode, size, color if mode == "RGB" else None)
    out = io.BytesIO()
    if exif is not None:
        options["exif"] = exif.tobytes()
    image.save(out, fmt, **options)
    return out.getvalue()


def two_colour_jpeg_with_orientation(orientation: int) -> bytes:
    """60×40, left half red, right half blue, with an EXIF orientation tag and a GPS position."""
    image = Image.new("RGB", (60, 40), (255, 0, 0))
    image.paste((0, 0, 255), (30, 0, 60, 40))
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    exif[MAKE] = "PhoneCam"
    exif[GPS_IFD] = {1: "N", 2: (31.0, 14.0, 5.0), 3: "E", 4: (121.0, 28.0, 10.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes(), quality=95)
    return out.getvalue()


def gps_exif() -> Image.Exif:
    exif = Image.Exif()
    exif[MAKE] = "PhoneCam"
    exif[GPS_IFD] = {1: "N", 2: (31.0, 14.0, 5.0), 3: "E", 4: (121.0, 28.0, 10.0)}
    return exif


def png_bomb(width: int = 100_000, height: int = 100_000) -> bytes:
    """A tiny PNG whose header declares an enormous picture (a decompression bomb's shape)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def upload(data: bytes, name: str = "photo.jpg", content_type: str = "image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def stored_files(root: Path) -> list[str]:
    """Every file in the storage root, relative to it, sorted."""
    if not root.exists():
        return []
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def new_client(info: SalonInfo, name: str, **fields: Any) -> Any:
    from apps.crm.services.clients import client_create

    with schema_context(info.schema):
        return client_create(name=name, acting_user=owner_of(info), **fields)


def days_ago(days: int) -> datetime.date:
    from apps.core.db import salon_today

    return salon_today() - datetime.timedelta(days=days)
