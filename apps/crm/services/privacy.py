"""A client's personal data on request (SEC-4, PIPL): export everything we hold about one
client as JSON, and erase it. Both are audited.

Upper apps (loyalty, scheduling, pos) add what they hold through ``personal_data_register``
from their ``AppConfig.ready``; crm never imports them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.core.models import User
from apps.core.services import audit_record
from apps.crm.errors import CrmError, crm_error
from apps.crm.models import (
    Client,
    ClientPhoto,
    ClientTag,
    FollowUp,
    FollowUpStatus,
    Interaction,
    PurchaseLine,
    SkinRecord,
    TreatmentCourse,
    TreatmentSession,
)
from apps.crm.services.media import client_media_erase

PROFILE_FIELDS = (
    "id",
    "name",
    "gender",
    "phone",
    "phone_alt",
    "id_number",
    "wechat_id",
    "email",
    "birthday",
    "birthday_is_lunar",
    "lunar_birthday_month",
    "lunar_birthday_day",
    "lunar_birthday_is_leap_month",
    "anniversary",
    "occupation",
    "address",
    "source",
    "referrer_id",
    "preferred_staff_id",
    "home_location_id",
    "card_number",
    "notes",
    "skin_type",
    "allergies",
    "contraindications",
    "taboos",
    "created_at",
    "updated_at",
)


@dataclass(frozen=True)
class PersonalDataHolder:
    label: str
    export: Callable[[Client], Any]
    erase: Callable[[Client], None] | None = None


HOLDERS: dict[str, PersonalDataHolder] = {}


def personal_data_register(holder: PersonalDataHolder) -> None:
    HOLDERS[holder.label] = holder


def _plain(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _rows(qs: Any, fields: tuple[str, ...]) -> list[dict[str, Any]]:
    return [{k: _plain(v) for k, v in row.items()} for row in qs.values(*fields)]


def client_personal_data(*, client: Client, acting_user: User | None) -> dict[str, Any]:
    """Everything held about one client, as JSON-ready data, for a request under PIPL. Audited
    (an export of personal data is a sensitive action)."""
    data: dict[str, Any] = {
        "exported_at": timezone.now().isoformat(),
        "profile": {field: _plain(getattr(client, field)) for field in PROFILE_FIELDS},
        "tier": client.tier.name if client.tier is not None else None,
        "tags": list(ClientTag.objects.filter(client=client).order_by("tag__name").values_list("tag__name", flat=True)),
        "purchases": _rows(
            PurchaseLine.objects.filter(client=client).order_by("occurred_at", "id"),
            ("occurred_at", "kind", "item_name", "quantity", "amount", "staff_name", "tender", "note"),
        ),
        "interactions": _rows(
            Interaction.objects.filter(client=client).order_by("occurred_at", "id"),
            ("occurred_at", "kind", "channel", "summary", "body", "rating", "status", "resolution"),
        ),
        "follow_ups": _rows(
            FollowUp.objects.filter(client=client).order_by("due_date", "id"),
            ("due_date", "purpose", "channel", "status", "outcome"),
        ),
        "photos": _rows(
            ClientPhoto.objects.filter(client=client).order_by("taken_on", "id"),
            ("taken_on", "kind", "caption", "content_type", "width", "height"),
        ),
        "skin_records": _rows(
            SkinRecord.objects.filter(client=client).order_by("recorded_on", "id"),
            ("recorded_on", "area", "symptoms", "skin_type", "plan", "products_advised", "next_review_on"),
        ),
        "treatment_courses": [
            {
                **{k: _plain(v) for k, v in course.items()},
                "sessions": _rows(
                    TreatmentSession.objects.filter(course_id=course["id"]).order_by("number"),
                    ("number", "performed_on", "notes", "effect"),
                ),
            }
            for course in TreatmentCourse.objects.filter(client=client)
            .order_by("started_on", "id")
            .values("id", "name", "goal", "planned_sessions", "started_on", "status")
        ],
    }
    for label, holder in sorted(HOLDERS.items()):
        data[label] = holder.export(client)
    audit_record(action="clients.personal_data_export", actor=acting_user, target=client, data={})
    return data


ERASED_VALUES: dict[str, Any] = {
    "name": "",
    "name_pinyin": "",
    "name_initials": "",
    "gender": "",
    "phone": "",
    "phone_hash": "",
    "phone_last4": "",
    "phone_alt": "",
    "phone_alt_hash": "",
    "id_number": "",
    "id_number_hash": "",
    "wechat_id": "",
    "email": "",
    "birthday": None,
    "birthday_is_lunar": False,
    "lunar_birthday_month": None,
    "lunar_birthday_day": None,
    "lunar_birthday_is_leap_month": False,
    "anniversary": None,
    "occupation": "",
    "address": "",
    "source": "",
    "referrer": None,
    "preferred_staff": None,
    "card_number": "",
    "notes": "",
    "skin_type": "",
    "allergies": "",
    "contraindications": "",
    "taboos": "",
}


@transaction.atomic
def client_erase(*, client: Client, acting_user: User | None, reason: str = "") -> Client:
    """Erase a client's personal data on request. The row stays, de-identified and inactive,
    so sales figures keep adding up; purchases keep amounts and items but nothing personal.
    Photos (and their files), skin records, treatment courses and interaction texts are removed.
    Audited with the reason, never with the erased data."""
    client = Client.objects.select_for_update().get(pk=client.pk)
    if client.erased_at is not None:
        raise crm_error(CrmError.CLIENT_INACTIVE)
    client_media_erase(client=client, acting_user=acting_user)  # photos and their files, skin records, courses
    Interaction.objects.filter(client=client).update(summary="—", body="", resolution="")
    FollowUp.objects.filter(client=client, status=FollowUpStatus.OPEN).update(status=FollowUpStatus.CANCELLED)
    FollowUp.objects.filter(client=client).update(purpose="—", outcome="")
    ClientTag.objects.filter(client=client).delete()
    PurchaseLine.objects.filter(client=client).update(note="")
    Client.objects.filter(referrer=client).update(referrer=None)
    for holder in HOLDERS.values():
        if holder.erase is not None:
            holder.erase(client)
    for field, value in ERASED_VALUES.items():
        setattr(client, field, value)
    client.photo = None
    client.is_active = False
    client.erased_at = timezone.now()
    client.save()
    audit_record(action="clients.erase", actor=acting_user, target=client, data={"reason": reason[:200]})
    return client
