"""Writes of client photos, skin diagnosis records and treatment courses (CRM-9, CRM-10).

Photos are personal data: an upload is decoded and re-encoded by Pillow (which proves it
is an image, applies the camera's orientation and drops every metadata block, GPS
included), stored through the default storage under an unguessable name, and only ever
served through a view that checks the signed-in staff member.
"""

from __future__ import annotations

import datetime
import io
import secrets
import warnings
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile, File
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Count, Max
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageOps, UnidentifiedImageError

from apps.core.db import salon_today
from apps.core.errors import CoreError, ServiceError
from apps.core.models import User
from apps.core.services import audit_record
from apps.crm.errors import CrmError, crm_error, too_long_message
from apps.crm.models import (
    Client,
    ClientPhoto,
    CourseStatus,
    PhotoKind,
    SkinRecord,
    SkinType,
    TreatmentCourse,
    TreatmentSession,
)
from apps.crm.selectors_media import photo_thumb_name

# Pillow's name of each accepted format -> (stored suffix, content type, format to write).
# MPO is how Pillow reads the JPEGs many phone cameras write (a JPEG with extra pictures inside).
ACCEPTED_FORMATS: dict[str, tuple[str, str, str]] = {
    "JPEG": ("jpg", "image/jpeg", "JPEG"),
    "MPO": ("jpg", "image/jpeg", "JPEG"),
    "PNG": ("png", "image/png", "PNG"),
    "WEBP": ("webp", "image/webp", "WEBP"),
}
THUMBNAIL_SIZE = (320, 320)
MAX_PLANNED_SESSIONS = 100

_REQUIRED = _("This field is required.")
_INVALID_CHOICE = _("Select a valid choice. That choice is not one of the available choices.")
_REVIEW_BEFORE_RECORD = _("The next review cannot be before the date of the record.")


def _field_error(field: str, message: Any) -> ServiceError:
    return ServiceError(CoreError.INVALID, message, field=field)


def _too_long(field: str, limit: int) -> ServiceError:
    return _field_error(field, too_long_message(limit))


def _check_active(client: Client) -> None:
    if not client.is_active:
        raise crm_error(CrmError.CLIENT_INACTIVE)


def _check_not_future(value: datetime.date | None, field: str) -> None:
    if value is not None and value > salon_today():
        raise crm_error(CrmError.DATE_IN_FUTURE, field=field)


def _staff(user: User | None) -> User | None:
    return user if user is not None and user.pk else None


# --- photos -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProcessedImage:
    data: bytes
    thumbnail: bytes
    suffix: str
    content_type: str
    width: int
    height: int


def _read_image(file: File) -> ProcessedImage:
    """Decode, check and re-encode an upload; raise the field error that refuses it.

    The checks go from cheap to dear: the byte size, then the header (format and declared
    dimensions, read without decoding, so a decompression bomb is refused before it costs
    memory), then a full decode, which also catches truncated and corrupt files.
    """
    size = getattr(file, "size", None)
    if size is None:
        file.seek(0, io.SEEK_END)
        size = file.tell()
    if size > settings.CLIENT_PHOTO_MAX_BYTES:
        raise crm_error(CrmError.IMAGE_TOO_LARGE)
    max_pixels: int = settings.CLIENT_PHOTO_MAX_PIXELS
    try:
        with warnings.catch_warnings():
            # Pillow warns past its own pixel limit and raises past twice that; both are refusals here.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            file.seek(0)
            with Image.open(file) as probe:
                if probe.format not in ACCEPTED_FORMATS:
                    raise crm_error(CrmError.IMAGE_TYPE_NOT_ALLOWED)
                if probe.width * probe.height > max_pixels:
                    raise crm_error(CrmError.IMAGE_TOO_LARGE)
                probe.verify()
            file.seek(0)
            with Image.open(file) as image:
                detected = str(image.format)
                image.load()
                upright = ImageOps.exif_transpose(image)
    except ServiceError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise crm_error(CrmError.IMAGE_TOO_LARGE) from None
    except UnidentifiedImageError:
        raise crm_error(CrmError.NOT_AN_IMAGE) from None
    except Exception:  # Pillow raises many kinds on bad bytes (OSError, SyntaxError, ValueError, struct.error…)
        raise crm_error(CrmError.NOT_AN_IMAGE) from None
    suffix, content_type, write_as = ACCEPTED_FORMATS[detected]
    return ProcessedImage(
        data=_encode(upright, write_as),
        thumbnail=_encode_thumbnail(upright),
        suffix=suffix,
        content_type=content_type,
        width=upright.width,
        height=upright.height,
    )


def _encode(image: Image.Image, fmt: str) -> bytes:
    """Write the pixels (and the colour profile) only: no EXIF, XMP or text chunks survive."""
    options: dict[str, Any] = {}
    if image.info.get("icc_profile"):
        options["icc_profile"] = image.info["icc_profile"]
    if fmt == "JPEG":
        if image.mode not in ("L", "RGB", "CMYK"):
            image = image.convert("RGB")
        options.update(quality=90)
    elif fmt == "PNG":
        if image.mode not in ("1", "L", "LA", "I", "I;16", "RGB", "RGBA"):
            image = image.convert("RGBA" if "transparency" in image.info or image.mode.endswith("A") else "RGB")
    else:  # WEBP
        if image.mode not in ("RGB", "RGBA"):
            image = image.convert("RGBA" if image.mode.endswith("A") or "transparency" in image.info else "RGB")
        options.update(quality=90)
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def _encode_thumbnail(image: Image.Image) -> bytes:
    thumb = image.copy()
    thumb.thumbnail(THUMBNAIL_SIZE)
    if thumb.mode in ("RGBA", "LA", "P", "PA") or "transparency" in thumb.info:
        thumb = thumb.convert("RGBA")
        background = Image.new("RGB", thumb.size, (255, 255, 255))
        background.paste(thumb, mask=thumb.getchannel("A"))
        thumb = background
    elif thumb.mode != "RGB":
        thumb = thumb.convert("RGB")
    out = io.BytesIO()
    thumb.save(out, "JPEG", quality=80)
    return out.getvalue()


def _clean_photo_fields(
    *, client: Client, kind: str, caption: str, taken_on: datetime.date | None, session: TreatmentSession | None
) -> tuple[str, datetime.date]:
    _check_active(client)
    if kind not in PhotoKind.values:
        raise _field_error("kind", _INVALID_CHOICE)
    caption = (caption or "").strip()
    if len(caption) > 200:
        raise _too_long("caption", 200)
    if taken_on is None:
        raise _field_error("taken_on", _REQUIRED)
    _check_not_future(taken_on, "taken_on")
    if session is not None and session.course.client_id != client.pk:
        raise _field_error("session", _INVALID_CHOICE)
    return caption, taken_on


def client_photo_upload(
    *,
    client: Client,
    file: File,
    kind: str,
    caption: str = "",
    taken_on: datetime.date | None,
    session: TreatmentSession | None = None,
    acting_user: User | None,
) -> ClientPhoto:
    """Store a photo of a client with its thumbnail. Only a readable JPEG, PNG or WebP image
    within the size and pixel limits, taken no later than today, is accepted; it is stored
    upright and without metadata. A refused upload leaves no row and no file behind."""
    caption, taken_on = _clean_photo_fields(
        client=client, kind=kind, caption=caption, taken_on=taken_on, session=session
    )
    processed = _read_image(file)
    token = secrets.token_urlsafe(24)  # 32 characters, 192 random bits: the file name cannot be guessed
    photo = ClientPhoto(
        client=client,
        token=token,
        content_type=processed.content_type,
        width=processed.width,
        height=processed.height,
        size_bytes=len(processed.data),
        kind=kind,
        caption=caption,
        taken_on=taken_on,
        session=session,
        uploaded_by=_staff(acting_user),
    )
    written: list[str] = []
    try:
        with transaction.atomic():
            photo.image.save(f"{token}.{processed.suffix}", ContentFile(processed.data), save=False)
            written.append(str(photo.image.name))
            written.append(default_storage.save(photo_thumb_name(photo), ContentFile(processed.thumbnail)))
            photo.save()
    except BaseException:
        # The row was rolled back: the files must go too, or storage fills with orphans.
        for name in written:
            default_storage.delete(name)
        raise
    return photo


def client_photo_delete(*, photo: ClientPhoto, acting_user: User | None) -> None:
    """Delete a photo: its row now, its two files once the deletion is committed (so a
    rolled-back deletion keeps them). Audited, as the photo is personal data."""
    names = [str(photo.image.name), photo_thumb_name(photo)]
    with transaction.atomic():
        audit_record(
            action="crm.photo_delete",
            actor=acting_user,
            target=photo,
            data={"client": photo.client_id, "kind": photo.kind, "taken_on": photo.taken_on.isoformat()},
        )
        ClientPhoto.objects.filter(pk=photo.pk).delete()
        transaction.on_commit(lambda: _files_delete(names))


def _files_delete(names: list[str]) -> None:
    for name in names:
        default_storage.delete(name)


def client_media_erase(*, client: Client, acting_user: User | None) -> dict[str, int]:
    """Erase every photo (rows, then files once committed), skin record and treatment course
    of a client, for an erasure request (PIPL); audited with the counts, not the content."""
    with transaction.atomic():
        photos = list(ClientPhoto.objects.filter(client=client).select_for_update())
        names = [name for photo in photos for name in (str(photo.image.name), photo_thumb_name(photo))]
        counts = {
            "photos": ClientPhoto.objects.filter(pk__in=[p.pk for p in photos]).delete()[0],
            "sessions": TreatmentSession.objects.filter(course__client=client).delete()[0],
            "courses": TreatmentCourse.objects.filter(client=client).delete()[0],
            "skin_records": SkinRecord.objects.filter(client=client).delete()[0],
        }
        audit_record(action="crm.media_erase", actor=acting_user, target=client, data=counts)
        transaction.on_commit(lambda: _files_delete(names))
    return counts


# --- skin records -------------------------------------------------------------------------------

SKIN_RECORD_FIELDS = ("recorded_on", "area", "symptoms", "skin_type", "plan", "products_advised", "next_review_on")


def _clean_skin_record(values: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for field, value in values.items():
        out[field] = value.strip() if isinstance(value, str) else value
    for field in ("area", "symptoms", "plan"):
        if field in out and not out[field]:
            raise _field_error(field, _REQUIRED)
    if "area" in out and len(out["area"]) > 100:
        raise _too_long("area", 100)
    if out.get("skin_type") and out["skin_type"] not in SkinType.values:
        raise _field_error("skin_type", _INVALID_CHOICE)
    for field in ("skin_type", "products_advised"):
        if field in out and out[field] is None:
            out[field] = ""
    if "recorded_on" in out:
        if out["recorded_on"] is None:
            raise _field_error("recorded_on", _REQUIRED)
        _check_not_future(out["recorded_on"], "recorded_on")
    return out


def skin_record_create(
    *,
    client: Client,
    recorded_on: datetime.date | None,
    area: str,
    symptoms: str,
    plan: str,
    skin_type: str = "",
    products_advised: str = "",
    next_review_on: datetime.date | None = None,
    acting_user: User | None,
) -> SkinRecord:
    """Record a skin diagnosis (area, symptoms, plan) of an active client, dated no later
    than today; a next review, when set, falls on or after that date."""
    _check_active(client)
    out = _clean_skin_record(
        {
            "recorded_on": recorded_on,
            "area": area,
            "symptoms": symptoms,
            "plan": plan,
            "skin_type": skin_type,
            "products_advised": products_advised,
            "next_review_on": next_review_on,
        }
    )
    if out["next_review_on"] is not None and out["next_review_on"] < out["recorded_on"]:
        raise _field_error("next_review_on", _REVIEW_BEFORE_RECORD)
    with transaction.atomic():
        return SkinRecord.objects.create(client=client, staff=_staff(acting_user), **out)


def skin_record_update(*, record: SkinRecord, acting_user: User | None, **fields: Any) -> SkinRecord:
    """Change the given fields of a skin record, by the same rules as when it was recorded."""
    unknown = set(fields) - set(SKIN_RECORD_FIELDS)
    if unknown:
        raise TypeError(f"not skin record fields: {sorted(unknown)}")
    with transaction.atomic():
        record = SkinRecord.objects.select_for_update().select_related("client").get(pk=record.pk)
        _check_active(record.client)
        out = _clean_skin_record(fields)
        for field, value in out.items():
            setattr(record, field, value)
        if record.next_review_on is not None and record.next_review_on < record.recorded_on:
            raise _field_error("next_review_on", _REVIEW_BEFORE_RECORD)
        if out:
            record.save(update_fields=list(out))
    return record


def skin_record_delete(*, record: SkinRecord, acting_user: User | None) -> None:
    """Delete a skin record; audited, as it is health data."""
    with transaction.atomic():
        audit_record(
            action="crm.skin_record_delete",
            actor=acting_user,
            target=record,
            data={"client": record.client_id, "recorded_on": record.recorded_on.isoformat(), "area": record.area},
        )
        SkinRecord.objects.filter(pk=record.pk).delete()


# --- treatment courses --------------------------------------------------------------------------


def treatment_course_create(
    *,
    client: Client,
    name: str,
    planned_sessions: int,
    started_on: datetime.date | None,
    goal: str = "",
    acting_user: User | None,
) -> TreatmentCourse:
    """Open a course of treatment for an active client with 1 to 100 planned sessions."""
    _check_active(client)
    name = (name or "").strip()
    if not name:
        raise _field_error("name", _REQUIRED)
    if len(name) > 100:
        raise _too_long("name", 100)
    if (
        not isinstance(planned_sessions, int)
        or isinstance(planned_sessions, bool)
        or not 1 <= planned_sessions <= MAX_PLANNED_SESSIONS
    ):
        raise _field_error(
            "planned_sessions",
            _("Enter a whole number from 1 to %(max)d.") % {"max": MAX_PLANNED_SESSIONS},
        )
    if started_on is None:
        raise _field_error("started_on", _REQUIRED)
    with transaction.atomic():
        return TreatmentCourse.objects.create(
            client=client,
            name=name,
            goal=(goal or "").strip(),
            planned_sessions=planned_sessions,
            started_on=started_on,
            created_by=_staff(acting_user),
        )


def treatment_session_record(
    *,
    course: TreatmentCourse,
    performed_on: datetime.date | None,
    notes: str = "",
    effect: str = "",
    staff: User | None = None,
    acting_user: User | None,
) -> TreatmentSession:
    """Record the next session of a course in progress. Sessions are numbered 1, 2, 3 … in
    the order recorded and never beyond the planned number, also when recorded at once."""
    if performed_on is None:
        raise _field_error("performed_on", _REQUIRED)
    _check_not_future(performed_on, "performed_on")
    if staff is not None and not staff.is_active:
        raise crm_error(CrmError.STAFF_INACTIVE, field="staff")
    with transaction.atomic():
        # The course row lock serialises everyone recording on this course: the next number is
        # read and written under it, so two recorders never take the same number or overfill.
        # The (course, number) unique constraint stays behind it as the backstop.
        course = TreatmentCourse.objects.select_for_update().select_related("client").get(pk=course.pk)
        _check_active(course.client)
        if course.status != CourseStatus.ACTIVE:
            raise crm_error(CrmError.COURSE_CLOSED)
        figures = course.sessions.aggregate(done=Count("id"), last=Max("number"))
        if figures["done"] >= course.planned_sessions:
            raise crm_error(CrmError.COURSE_FULL)
        return TreatmentSession.objects.create(
            course=course,
            number=(figures["last"] or 0) + 1,
            performed_on=performed_on,
            staff=staff if staff is not None else _staff(acting_user),
            notes=(notes or "").strip(),
            effect=(effect or "").strip(),
        )


def treatment_course_set_status(*, course: TreatmentCourse, status: str, acting_user: User | None) -> TreatmentCourse:
    """Complete or stop a course in progress, or reopen a finished one (to record more sessions)."""
    if status not in CourseStatus.values:
        raise _field_error("status", _INVALID_CHOICE)
    with transaction.atomic():
        course = TreatmentCourse.objects.select_for_update().select_related("client").get(pk=course.pk)
        _check_active(course.client)
        if course.status == status:
            return course
        if status != CourseStatus.ACTIVE and course.status != CourseStatus.ACTIVE:
            raise crm_error(CrmError.COURSE_CLOSED)
        course.status = status
        course.save(update_fields=["status"])
    return course


@transaction.atomic
def client_profile_photo_set(*, client: Client, photo: ClientPhoto | None, acting_user: User | None) -> Client:
    """Make one of the client's own photos their profile photo (or clear it)."""
    if photo is not None and photo.client_id != client.pk:
        raise crm_error(CrmError.NOT_AN_IMAGE, field="photo")
    Client.objects.filter(pk=client.pk).update(photo=photo)
    client.photo = photo
    return client
