"""Merging duplicates (CRM-12) and a client's personal data on request (SEC-4)."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.utils import timezone

from apps.core.errors import ServiceError
from apps.core.models import AuditEntry
from apps.crm.errors import CrmError
from apps.crm.models import (
    Client,
    ClientMerge,
    FollowUp,
    Interaction,
    PurchaseLine,
    SkinRecord,
    TreatmentCourse,
)
from apps.crm.selectors import client_search
from apps.crm.services.clients import client_create, purchase_record
from apps.crm.services.merge import client_merge, client_merge_undo
from apps.crm.services.privacy import client_erase, client_personal_data
from apps.crm.services.tags import clients_tag, tag_create
from tests.fixtures import owner_of

WHEN = datetime.datetime(2026, 10, 1, 3, tzinfo=datetime.UTC)


def _history(client, owner):
    purchase_record(client=client, occurred_at=WHEN, item_name="烫发", amount=38800)
    Interaction.objects.create(client=client, kind="feedback", summary="满意", occurred_at=WHEN, recorded_by=owner)
    FollowUp.objects.create(client=client, assigned_to=owner, due_date=WHEN.date(), purpose="回访", created_by=owner)
    SkinRecord.objects.create(
        client=client, recorded_on=WHEN.date(), area="面部", symptoms="干燥", plan="补水", staff=owner
    )
    TreatmentCourse.objects.create(client=client, name="补水疗程", planned_sessions=5, started_on=WHEN.date())


@pytest.fixture
def pair(in_alpha):
    owner = owner_of(in_alpha)
    vip = tag_create(name="VIP", acting_user=None)
    quiet = tag_create(name="安静", acting_user=None)
    keep = client_create(name="张三", phone="13800135678", allergies="烫发水过敏", acting_user=owner)
    dup = client_create(
        name="张三",
        phone="13900001111",
        card_number="C001",
        birthday=datetime.date(1990, 5, 20),
        allergies="花粉过敏",
        acting_user=owner,
    )
    clients_tag(client_ids=[keep.pk, dup.pk], tag=vip, acting_user=None)
    clients_tag(client_ids=[dup.pk], tag=quiet, acting_user=None)
    _history(dup, owner)
    referred = client_create(name="李四", referrer=dup, acting_user=owner)
    return owner, keep, dup, referred


def test_merge_moves_everything_and_joins_health_notes(pair):
    # given
    owner, keep, dup, referred = pair

    # when
    record = client_merge(survivor=keep, merged=dup, acting_user=owner)

    # then: history moved
    keep.refresh_from_db()
    dup.refresh_from_db()
    assert PurchaseLine.objects.filter(client=keep).count() == 1
    assert Interaction.objects.filter(client=keep).count() == 1
    assert FollowUp.objects.filter(client=keep).count() == 1
    assert SkinRecord.objects.filter(client=keep).count() == 1
    assert TreatmentCourse.objects.filter(client=keep).count() == 1
    assert Client.objects.get(pk=referred.pk).referrer_id == keep.pk
    assert sorted(keep.client_tags.values_list("tag__name", flat=True)) == ["VIP", "安静"]
    # blanks filled, the phone kept, health notes joined, the card number taken over
    assert keep.phone == "+8613800135678"
    assert keep.birthday == datetime.date(1990, 5, 20)
    assert keep.card_number == "C001"
    assert keep.allergies == "烫发水过敏\n花粉过敏"
    # the duplicate is an inactive pointer, and no longer found
    assert (dup.is_active, dup.merged_into_id, dup.card_number) == (False, keep.pk, "")
    assert [c.pk for c in client_search(query="zs")] == [keep.pk]
    assert set(record.moved) >= {"crm.purchase", "crm.client_tag", "crm.interaction", "crm.referral"}
    assert AuditEntry.objects.filter(action="clients.merge", target_id=str(keep.pk)).count() == 1


def test_undo_restores_both_clients_exactly(pair):
    # given
    owner, keep, dup, referred = pair
    record = client_merge(survivor=keep, merged=dup, acting_user=owner)

    # when
    client_merge_undo(merge=record, acting_user=owner)

    # then
    keep.refresh_from_db()
    dup.refresh_from_db()
    assert (keep.allergies, keep.birthday, keep.card_number) == ("烫发水过敏", None, "")
    assert (dup.is_active, dup.merged_into_id, dup.card_number, dup.phone) == (True, None, "C001", "+8613900001111")
    assert PurchaseLine.objects.filter(client=dup).count() == 1
    assert Client.objects.get(pk=referred.pk).referrer_id == dup.pk
    assert sorted(dup.client_tags.values_list("tag__name", flat=True)) == ["VIP", "安静"]
    assert list(keep.client_tags.values_list("tag__name", flat=True)) == ["VIP"]
    assert ClientMerge.objects.get(pk=record.pk).reversed_at is not None
    with pytest.raises(ServiceError) as refused:
        client_merge_undo(merge=record, acting_user=owner)
    assert refused.value.code == CrmError.MERGE_ALREADY_REVERSED


def test_merge_takes_the_duplicates_phone_when_the_survivor_has_none(in_alpha):
    keep = client_create(name="甲", acting_user=None)
    dup = client_create(name="甲", phone="13800135678", acting_user=None)
    record = client_merge(survivor=keep, merged=dup, acting_user=None)
    keep.refresh_from_db()
    assert keep.phone_last4 == "5678"
    assert [c.pk for c in client_search(query="5678")] == [keep.pk]
    client_merge_undo(merge=record, acting_user=None)
    assert [c.pk for c in client_search(query="5678")] == [dup.pk]


def test_merge_refusals_change_nothing(pair):
    owner, keep, dup, _ = pair
    with pytest.raises(ServiceError) as refused:
        client_merge(survivor=keep, merged=keep, acting_user=owner)
    assert refused.value.code == CrmError.MERGE_SAME_CLIENT
    client_merge(survivor=keep, merged=dup, acting_user=owner)
    with pytest.raises(ServiceError) as refused:
        client_merge(survivor=keep, merged=dup, acting_user=owner)
    assert refused.value.code == CrmError.CLIENT_INACTIVE
    assert ClientMerge.objects.count() == 1


def test_undo_refused_once_the_survivor_was_merged_away(pair):
    owner, keep, dup, referred = pair
    first = client_merge(survivor=keep, merged=dup, acting_user=owner)
    client_merge(survivor=referred, merged=keep, acting_user=owner)
    with pytest.raises(ServiceError) as refused:
        client_merge_undo(merge=first, acting_user=owner)
    assert refused.value.code == CrmError.MERGE_NOT_REVERSIBLE


def test_personal_data_export_holds_everything_and_is_audited(pair):
    owner, _keep, dup, _ = pair
    data = client_personal_data(client=dup, acting_user=owner)
    assert data["profile"]["phone"] == "+8613900001111"
    assert data["profile"]["birthday"] == "1990-05-20"
    assert data["tags"] == ["VIP", "安静"]
    assert [p["item_name"] for p in data["purchases"]] == ["烫发"]
    assert [s["area"] for s in data["skin_records"]] == ["面部"]
    assert data["treatment_courses"][0]["name"] == "补水疗程"
    entry = AuditEntry.objects.get(action="clients.personal_data_export")
    assert (entry.target_id, entry.actor_id, entry.data) == (str(dup.pk), owner.pk, {})


def test_erasure_removes_personal_data_keeps_sales_and_is_audited(pair):
    # given
    owner, _keep, dup, referred = pair

    # when
    client_erase(client=dup, acting_user=owner, reason="客户申请 #42")

    # then
    dup.refresh_from_db()
    assert (dup.name, dup.phone, dup.phone_hash, dup.phone_last4, dup.birthday, dup.allergies, dup.card_number) == (
        "",
        "",
        "",
        "",
        None,
        "",
        "",
    )
    assert dup.is_active is False and dup.erased_at is not None
    assert str(dup) == f"Erased client #{dup.pk}" or str(dup).endswith(f"#{dup.pk}")
    assert PurchaseLine.objects.get(client=dup).amount == 38800  # the sale still adds up
    assert not SkinRecord.objects.filter(client=dup).exists()
    assert Interaction.objects.get(client=dup).summary == "—"
    assert FollowUp.objects.get(client=dup).status == "cancelled"
    assert not dup.client_tags.exists()
    assert Client.objects.get(pk=referred.pk).referrer_id is None
    assert client_search(query="13900001111") == []
    entry = AuditEntry.objects.get(action="clients.erase")
    assert entry.data == {"reason": "客户申请 #42"} and "13900001111" not in str(entry.data)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM crm_client WHERE id = %s AND phone = ''", [dup.pk])
        assert cursor.fetchone()[0] == 1
    with pytest.raises(ServiceError):
        client_erase(client=dup, acting_user=owner)


def test_erased_phone_can_become_a_new_client(pair):
    owner, _keep, dup, _ = pair
    client_erase(client=dup, acting_user=owner)
    again = client_create(name="新客", phone="13900001111", acting_user=owner)
    assert again.pk != dup.pk and timezone.now() >= again.created_at
