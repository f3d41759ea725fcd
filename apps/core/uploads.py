"""Uploaded images: where they are stored (under the salon's own prefix) and what is accepted."""

from __future__ import annotations

import os
import uuid
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import connection
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext as _

IMAGE_FORMATS = ("PNG", "JPEG", "WEBP", "GIF")


@deconstructible
class TenantUploadTo:
    """``upload_to`` that files an upload under ``<schema>/<folder>/<random name>``.

    The schema prefix keeps each salon's files apart in the default storage (and lets one salon's
    files be backed up or erased together); the random name means an upload never overwrites
    another and leaks nothing of the original file name.
    """

    def __init__(self, folder: str) -> None:
        self.folder = folder.strip("/")

    def __call__(self, instance: Any, filename: str) -> str:
        schema = getattr(connection, "schema_name", "public")
        extension = os.path.splitext(filename)[1].lower()[:10]
        return f"{schema}/{self.folder}/{uuid.uuid4().hex}{extension}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TenantUploadTo) and other.folder == self.folder

    def __hash__(self) -> int:
        return hash(self.folder)


def image_problem(upload: UploadedFile) -> str | None:
    """Why ``upload`` is not an acceptable image (too large, not an image, an odd format), or None.

    Pillow reads the file itself: the name and the browser's content type prove nothing.
    """
    from PIL import Image, UnidentifiedImageError

    limit: int = settings.UPLOAD_IMAGE_MAX_BYTES
    if upload.size is None or upload.size > limit:
        return _("The image must be at most %(size)s MB.") % {"size": f"{limit / (1024 * 1024):g}"}
    try:
        upload.seek(0)
        with Image.open(upload) as image:
            # A tiny file can declare enormous dimensions and exhaust memory when decoded.
            width, height = image.size
            if width * height > settings.UPLOAD_IMAGE_MAX_PIXELS:
                return _("The image is too large: at most %(pixels)s million pixels.") % {
                    "pixels": f"{settings.UPLOAD_IMAGE_MAX_PIXELS / 1_000_000:g}"
                }
            image.verify()
            if image.format not in IMAGE_FORMATS:
                return _("The image must be a PNG, JPEG, WebP or GIF file.")
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return _("This file is not an image.")
    finally:
        upload.seek(0)
    return None
