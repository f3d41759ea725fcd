"""Reads of client photos, skin records and treatment courses (CRM-9, CRM-10)."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

from django.db.models import Case, CharField, Count, F, Prefetch, QuerySet, Value, When

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


def photo_thumb_name(photo: ClientPhoto) -> str:
    """Storage name of a photo's thumbnail: beside the original, ``<token>_thumb.jpg``."""
    return f"{posixpath.splitext(str(photo.image.name))[0]}_thumb.jpg"


def client_photos(*, client: Client, kind: str | None = None) -> QuerySet[ClientPhoto]:
    """A client's photos, newest first, optionally of one kind."""
    photos = ClientPhoto.objects.filter(client=client).select_related("session").order_by("-taken_on", "-id")
    if kind in PhotoKind.values:
        photos = photos.filter(kind=kind)
    return photos


def client_photo_by_token(*, client_id: int, token: str) -> ClientPhoto | None:
    """The photo behind a streaming URL, only when it belongs to that client."""
    return ClientPhoto.objects.filter(client_id=client_id, token=token).first()


def photo_kind_counts(*, client: Client) -> dict[str, int]:
    rows = ClientPhoto.objects.filter(client=client).values("kind").annotate(n=Count("id")).order_by()
    return {row["kind"]: row["n"] for row in rows}


@dataclass(frozen=True)
class Comparison:
    left: ClientPhoto | None
    right: ClientPhoto | None
    choices: list[ClientPhoto]


def _pick(choices: list[ClientPhoto], raw: str | None) -> ClientPhoto | None:
    if raw and raw.isdigit():
        wanted = int(raw)
        return next((photo for photo in choices if photo.pk == wanted), None)
    return None


def photo_comparison(*, client: Client, left: str | None = None, right: str | None = None) -> Comparison:
    """Two photos of a client side by side. By default the earliest "before" on the left and
    the latest "after" on the right; lacking those, the earliest and the latest photo. An id
    that is not one of this client's photos falls back to the default."""
    choices = list(ClientPhoto.objects.filter(client=client).order_by("taken_on", "id"))
    befores = [p for p in choices if p.kind == PhotoKind.BEFORE]
    afters = [p for p in choices if p.kind == PhotoKind.AFTER]
    default_left = befores[0] if befores else (choices[0] if choices else None)
    default_right = afters[-1] if afters else (choices[-1] if len(choices) > 1 else None)
    return Comparison(
        left=_pick(choices, left) or default_left,
        right=_pick(choices, right) or default_right,
        choices=choices,
    )


def _skin_type_label() -> Case:
    """The skin type's label in the current language (the column holds the choice's value)."""
    return Case(
        *[When(skin_type=value, then=Value(str(label))) for value, label in SkinType.choices],
        default=F("skin_type"),
        output_field=CharField(),
    )


def skin_records(*, client: Client) -> QuerySet[SkinRecord]:
    """A client's skin records, newest first, each with ``skin_type_label``."""
    return (
        SkinRecord.objects.filter(client=client)
        .select_related("staff")
        .annotate(skin_type_label=_skin_type_label())
        .order_by("-recorded_on", "-id")
    )


def skin_record_detail(*, client: Client, record_id: int) -> SkinRecord | None:
    return skin_records(client=client).filter(pk=record_id).first()


def skin_report_photos(*, client: Client) -> list[tuple[str, ClientPhoto]]:
    """The photos a printed skin report shows: the latest "before", "after" and "skin" photo, each if any."""
    shown: list[tuple[str, ClientPhoto]] = []
    for kind in (PhotoKind.BEFORE, PhotoKind.AFTER, PhotoKind.SKIN):
        photo = ClientPhoto.objects.filter(client=client, kind=kind).order_by("-taken_on", "-id").first()
        if photo is not None:
            shown.append((str(kind.label), photo))
    return shown


def treatment_courses(*, client: Client, active_only: bool = False) -> QuerySet[TreatmentCourse]:
    """A client's courses, newest first, each with ``sessions_done`` (the sessions recorded)."""
    courses = TreatmentCourse.objects.filter(client=client).annotate(sessions_done=Count("sessions"))
    if active_only:
        courses = courses.filter(status=CourseStatus.ACTIVE)
    return courses.order_by("-started_on", "-id")


def treatment_course_detail(*, client: Client, course_id: int) -> TreatmentCourse | None:
    """One course of this client with its sessions (and their staff and photos) loaded."""
    sessions = TreatmentSession.objects.select_related("staff").prefetch_related(
        Prefetch("photos", queryset=ClientPhoto.objects.order_by("taken_on", "id"))
    )
    return (
        TreatmentCourse.objects.filter(client=client, pk=course_id)
        .prefetch_related(Prefetch("sessions", queryset=sessions.order_by("number")))
        .first()
    )


def session_choices(*, client: Client) -> QuerySet[TreatmentSession]:
    """Sessions a new photo may be linked to: those of the client's courses, latest first."""
    return (
        TreatmentSession.objects.filter(course__client=client)
        .select_related("course")
        .order_by("-performed_on", "-course_id", "-number")
    )
