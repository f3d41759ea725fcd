"""Merging duplicate clients without losing history, and undoing a merge (CRM-12)."""

from __future__ import annotations

from django.db import models, transaction
from django.utils import timezone

from apps.core.models import User
from apps.core.services import audit_record
from apps.crm.errors import CrmError, crm_error
from apps.crm.merge import PARTICIPANTS
from apps.crm.models import Client, ClientMerge
from apps.crm.services.clients import DERIVED_FIELDS, _derive, _save

# Blank survivor fields take the merged client's value.
FILLED_FIELDS = (
    "gender",
    "phone",
    "phone_alt",
    "id_number",
    "wechat_id",
    "email",
    "birthday",
    "birthday_is_lunar",
    "anniversary",
    "occupation",
    "address",
    "source",
    "referrer_id",
    "preferred_staff_id",
    "home_location_id",
    "card_number",
    "tier_id",
    "skin_type",
)
# Text that must never be lost (health alerts above all) is joined, not chosen.
JOINED_FIELDS = ("notes", "allergies", "contraindications", "taboos")
# Values of the merged client that move to the survivor leave the merged row, so that the
# one-active-client-per-phone and per-card rules hold at every moment.
RELEASED_FIELDS = ("phone", "card_number")


def _locked_pair(first: Client, second: Client) -> tuple[Client, Client]:
    # order_by("pk") is intentional: locking in a consistent order prevents deadlocks between two
    # merges of the same pair started from opposite ends.
    rows = {c.pk: c for c in Client.objects.select_for_update().filter(pk__in=[first.pk, second.pk]).order_by("pk")}
    return rows[first.pk], rows[second.pk]


@transaction.atomic
def client_merge(*, survivor: Client, merged: Client, acting_user: User | None) -> ClientMerge:
    """Move everything of ``merged`` (history, tags, interactions, follow-ups, photos, skin
    records, courses, referrals, and what upper apps register) to ``survivor``; blank survivor
    fields take merged's values and health notes are joined. ``merged`` stays as an inactive
    row pointing at the survivor. The record lists every moved row so the merge can be undone."""
    if survivor.pk == merged.pk:
        raise crm_error(CrmError.MERGE_SAME_CLIENT)
    survivor, merged = _locked_pair(survivor, merged)
    if not (survivor.is_active and merged.is_active):
        raise crm_error(CrmError.CLIENT_INACTIVE)

    moved = {
        label: ids
        for label, participant in sorted(PARTICIPANTS.items())
        if (ids := participant.move(source_id=merged.pk, target_id=survivor.pk))
    }
    filled: dict[str, object] = {}
    taken = {field: getattr(merged, field) for field in RELEASED_FIELDS if not getattr(survivor, field)}
    for field in FILLED_FIELDS:
        theirs = getattr(merged, field)
        if theirs not in ("", None, False) and getattr(survivor, field) in ("", None, False):
            if field == "referrer_id" and theirs == survivor.pk:
                continue
            filled[field] = _json(getattr(survivor, field))
            setattr(survivor, field, theirs)
    if survivor.referrer_id == merged.pk:
        filled["referrer_id"] = merged.pk
        survivor.referrer = None  # a client cannot refer themselves once they are one
    for field in JOINED_FIELDS:
        ours, theirs = getattr(survivor, field), getattr(merged, field)
        if theirs and theirs not in ours:
            filled[field] = ours
            setattr(survivor, field, f"{ours}\n{theirs}".strip())

    released: dict[str, str] = {field: "" for field in taken if taken[field]}
    if "phone" in released:
        released.update(phone_hash="", phone_last4="")
    Client.objects.filter(pk=merged.pk).update(is_active=False, merged_into=survivor, **released)
    _derive(survivor)
    _save(survivor)
    record = ClientMerge.objects.create(
        survivor=survivor,
        merged=merged,
        moved=moved,
        filled_fields={**filled, "_released": {k: _json(v) for k, v in taken.items() if v}},
        merged_by=acting_user if acting_user is not None and acting_user.pk else None,
    )
    audit_record(
        action="clients.merge",
        actor=acting_user,
        target=survivor,
        data={"merged": merged.pk, "merge": record.pk, "moved": {k: len(v) for k, v in moved.items()}},
    )
    return record


def _json(value: object) -> object:
    if hasattr(value, "isoformat"):
        return value.isoformat()  # type: ignore[union-attr]
    return value


@transaction.atomic
def client_merge_undo(*, merge: ClientMerge, acting_user: User | None) -> Client:
    """Undo a merge exactly: the moved rows go back, the survivor's filled and joined fields return
    to what they were before the merge, the merged client is active again.
    Refused when the survivor has itself been merged or erased since."""
    merge = ClientMerge.objects.select_for_update().get(pk=merge.pk)
    if merge.reversed_at is not None:
        raise crm_error(CrmError.MERGE_ALREADY_REVERSED)
    survivor, merged = _locked_pair(merge.survivor, merge.merged)
    if not survivor.is_active or merged.merged_into_id != survivor.pk:
        raise crm_error(CrmError.MERGE_NOT_REVERSIBLE)

    for label, ids in merge.moved.items():
        participant = PARTICIPANTS.get(label)
        if participant is not None:
            participant.move_back(ids=ids, target_id=merged.pk)

    filled = dict(merge.filled_fields)
    released = filled.pop("_released", {})
    for field, previous in filled.items():
        if field in JOINED_FIELDS or field.endswith("_id"):
            setattr(survivor, field, previous)
        else:
            model_field = Client._meta.get_field(field)
            assert isinstance(model_field, models.Field)
            setattr(survivor, field, model_field.to_python(previous))
    _derive(survivor)
    _save(survivor, update_fields=[*filled.keys(), *DERIVED_FIELDS])

    merged.is_active = True
    merged.merged_into = None
    for field, value in released.items():
        setattr(merged, field, value)
    _derive(merged)
    _save(merged)
    merge.reversed_at = timezone.now()
    merge.reversed_by = acting_user if acting_user is not None and acting_user.pk else None
    merge.save(update_fields=["reversed_at", "reversed_by"])
    audit_record(
        action="clients.merge_undo", actor=acting_user, target=merged, data={"survivor": survivor.pk, "merge": merge.pk}
    )
    return merged
