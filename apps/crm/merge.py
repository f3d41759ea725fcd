"""What a client merge moves (CRM-12).

Every table that points at a client registers a mover here: crm's own tables below, and
upper apps (loyalty, scheduling, pos) from their ``AppConfig.ready`` — crm never imports
them. A mover re-points rows from one client to another and returns their ids; undoing a
merge moves exactly those ids back.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models


@dataclass(frozen=True)
class MergeParticipant:
    label: str
    model: type[models.Model]
    field: str = "client"
    unique_with: tuple[str, ...] = ()  # rows that would collide on the survivor stay behind

    def move(self, *, source_id: int, target_id: int) -> list[int]:
        rows = self.model._default_manager.filter(**{f"{self.field}_id": source_id})
        if self.model is self._client_model():
            rows = rows.exclude(pk=target_id)  # the survivor never becomes its own referrer
        if self.unique_with:
            taken = self.model._default_manager.filter(**{f"{self.field}_id": target_id}).values_list(*self.unique_with)
            taken_set = set(taken)
            ids = [
                pk
                for pk, *key in rows.values_list("pk", *self.unique_with)
                if (tuple(key) if len(key) > 1 else (key[0],)) not in taken_set
            ]
        else:
            ids = list(rows.values_list("pk", flat=True))
        if ids:
            self.model._default_manager.filter(pk__in=ids).update(**{f"{self.field}_id": target_id})
        return sorted(ids)

    @staticmethod
    def _client_model() -> type[models.Model]:
        from apps.crm.models import Client

        return Client

    def move_back(self, *, ids: list[int], target_id: int) -> None:
        if ids:
            self.model._default_manager.filter(pk__in=ids).update(**{f"{self.field}_id": target_id})


PARTICIPANTS: dict[str, MergeParticipant] = {}


def merge_participant_register(participant: MergeParticipant) -> None:
    PARTICIPANTS[participant.label] = participant


def _register_crm_tables() -> None:
    from apps.crm.models import (
        Client,
        ClientPhoto,
        ClientTag,
        FollowUp,
        Interaction,
        PurchaseLine,
        SkinRecord,
        TreatmentCourse,
    )

    for participant in (
        MergeParticipant("crm.purchase", PurchaseLine),
        MergeParticipant("crm.client_tag", ClientTag, unique_with=("tag_id",)),
        MergeParticipant("crm.interaction", Interaction),
        MergeParticipant("crm.follow_up", FollowUp),
        MergeParticipant("crm.photo", ClientPhoto),
        MergeParticipant("crm.skin_record", SkinRecord),
        MergeParticipant("crm.treatment_course", TreatmentCourse),
        MergeParticipant("crm.referral", Client, field="referrer"),
    ):
        merge_participant_register(participant)


_register_crm_tables()
