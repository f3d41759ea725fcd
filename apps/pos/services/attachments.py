"""Files attached to expenses (a receipt, a voucher) and to issued invoices (the PDF or a photo of the
paper invoice): what is accepted, decided from the file's own bytes, never from its name or the
browser's content type."""

from __future__ import annotations

import io
import os
import warnings
from dataclasses import dataclass

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile

from apps.pos.errors import PosError, pos_error

ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
# Pillow's name of an accepted picture -> (suffix, content type).
IMAGE_TYPES = {"JPEG": ("jpg", "image/jpeg"), "PNG": ("png", "image/png"), "WEBP": ("webp", "image/webp")}


@dataclass(frozen=True)
class CheckedFile:
    upload: UploadedFile
    name: str  # the name shown for download (the original, shortened)
    content_type: str


def attachment_check(upload: UploadedFile, *, field: str = "attachment") -> CheckedFile:
    """Accept a PDF (its bytes start with ``%PDF-``) or a JPEG, PNG or WebP picture (Pillow reads it) of at
    most 10 MB; raise the field error otherwise."""
    size = upload.size
    if size is None:
        upload.seek(0, io.SEEK_END)
        size = upload.tell()
    if size > ATTACHMENT_MAX_BYTES:
        raise pos_error(PosError.ATTACHMENT_TOO_LARGE, field=field)
    if size == 0:
        raise pos_error(PosError.ATTACHMENT_TYPE, field=field)
    upload.seek(0)
    head = upload.read(5)
    upload.seek(0)
    stem = os.path.splitext(os.path.basename(upload.name or "file"))[0][:150] or "file"
    if head == b"%PDF-":
        return CheckedFile(upload, f"{stem}.pdf", "application/pdf")
    kind = _picture_kind(upload)
    if kind is None:
        raise pos_error(PosError.ATTACHMENT_TYPE, field=field)
    return CheckedFile(upload, f"{stem}.{kind[0]}", kind[1])


def _picture_kind(upload: UploadedFile) -> tuple[str, str] | None:
    """(suffix, content type) of an accepted picture, or None. The header is read first, so a tiny file
    declaring enormous dimensions is refused before it is decoded."""
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            upload.seek(0)
            with Image.open(upload) as image:
                kind = IMAGE_TYPES.get(image.format or "")
                if kind is None or image.width * image.height > settings.UPLOAD_IMAGE_MAX_PIXELS:
                    return None
                image.verify()
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError, Warning):
        return None
    finally:
        upload.seek(0)
    return kind
