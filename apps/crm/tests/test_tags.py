"""Tags (CRM-3): manual and bulk tagging, automatic rules recomputed by a task, tiers."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.core.errors import ServiceError
from apps.crm.errors import CrmError
from apps.crm.models import ClientTag, MembershipTier, Tag, TagSource
from apps.crm.services.clients import client_create, client_update, purchase_record
from apps.crm.services.tags import (
    clients_tag,
    clients_untag,
    tag_create,
    tag_delete,
    tag_rule_apply,
    tag_update,
    tier_create,
    tier_delete,
)

NOW = datetime.datetime(2026, 11, 23, 4, 0, tzinfo=datetime.UTC)


def _buy(client, amount, days_ago, reference=""):
    return purchase_record(
        client=client,
        occurred_at=NOW - datetime.timedelta(days=days_ago),
        item_name="护理",
        amount=amount,
        visit_reference=reference,
    )


def test_bulk_tag_and_untag_a_selection(in_alpha):
    # given
    vip = tag_create(name="VIP", color="#AA0000", acting_user=None)
    a, b, c = (client_create(name=n, acting_user=None) for n in ("甲", "乙", "丙"))
    clients_tag(client_ids=[a.pk], tag=vip, acting_user=None)

    # when
    added = clients_tag(client_ids=[a.pk, b.pk, c.pk], tag=vip, acting_user=None)
    removed = clients_untag(client_ids=[b.pk], tag=vip, acting_user=None)

    # then
    assert (added, removed) == (2, 1)
    assert set(ClientTag.objects.filter(tag=vip).values_list("client_id", flat=True)) == {a.pk, c.pk}
    assert vip.color == "#aa0000"


def test_bulk_tag_with_an_unknown_client_changes_nothing(in_alpha):
    vip = tag_create(name="VIP", acting_user=None)
    a = client_create(name="甲", acting_user=None)
    with pytest.raises(ServiceError) as refused:
        clients_tag(client_ids=[a.pk, 999999], tag=vip, acting_user=None)
    assert refused.value.code == CrmError.UNKNOWN_CLIENT
    assert ClientTag.objects.count() == 0


def test_automatic_tags_cannot_be_given_in_bulk(in_alpha):
    big = tag_create(name="高消费", rule="spend_over", rule_amount=1, rule_months=1, acting_user=None)
    a = client_create(name="甲", acting_user=None)
    with pytest.raises(ServiceError) as refused:
        clients_tag(client_ids=[a.pk], tag=big, acting_user=None)
    assert refused.value.code == CrmError.AUTOMATIC_TAG


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"name": ""}, CrmError.NAME_REQUIRED),
        ({"name": "x", "color": "red"}, CrmError.INVALID_COLOR),
        ({"name": "x", "rule": "spend_over", "rule_amount": 100}, CrmError.INVALID_TAG_RULE),
        ({"name": "x", "rule": "lapsed", "rule_days": 0}, CrmError.INVALID_TAG_RULE),
        ({"name": "x", "rule": "nonsense"}, CrmError.INVALID_TAG_RULE),
    ],
)
def test_bad_tags_are_refused(in_alpha, kwargs, code):
    with pytest.raises(ServiceError) as refused:
        tag_create(acting_user=None, **kwargs)
    assert refused.value.code == code
    assert Tag.objects.count() == 0


def test_tag_names_are_unique_ignoring_case(in_alpha):
    tag_create(name="VIP", acting_user=None)
    with pytest.raises(ServiceError) as refused:
        tag_create(name="vip", acting_user=None)
    assert refused.value.code == CrmError.DUPLICATE_TAG


def test_spend_rule_counts_the_last_n_months_only(in_alpha):
    # given: ¥5,000 over 12 months
    rich = client_create(name="甲", acting_user=None)
    _buy(rich, 300000, 30)
    _buy(rich, 200000, 300)
    old_money = client_create(name="乙", acting_user=None)
    _buy(old_money, 900000, 400)  # outside the window
    refunded = client_create(name="丙", acting_user=None)
    _buy(refunded, 600000, 10)
    _buy(refunded, -200000, 5)  # a refund lowers the spend

    # when
    tag = tag_create(name="年消费5000+", rule="spend_over", rule_amount=500000, rule_months=12, acting_user=None)

    # then: filled at creation
    assert set(tag.client_tags.values_list("client_id", flat=True)) == {rich.pk}
    assert tag.client_tags.get().source == TagSource.RULE


def test_visits_rule_counts_bills_and_days(in_alpha):
    regular = client_create(name="甲", acting_user=None)
    _buy(regular, 100, 1, reference="bill-1")
    _buy(regular, 100, 1, reference="bill-1")  # same bill: one visit
    _buy(regular, 100, 20)
    _buy(regular, 100, 40)
    rare = client_create(name="乙", acting_user=None)
    _buy(rare, 100, 3)
    _buy(rare, 100, 3)  # same day, no bill reference: one visit

    tag = tag_create(name="常客", rule="visits_at_least", rule_count=3, rule_months=3, acting_user=None)

    assert set(tag.client_tags.values_list("client_id", flat=True)) == {regular.pk}


def test_recompute_adds_and_removes_as_data_changes(in_alpha):
    # given
    client = client_create(name="甲", acting_user=None)
    _buy(client, 100, 100)
    tag = tag_create(name="流失", rule="lapsed", rule_days=90, acting_user=None)
    assert tag.client_tags.count() == 1

    # when: the client comes back
    purchase_record(client=client, occurred_at=timezone.now(), item_name="剪发", amount=100)
    added, removed = tag_rule_apply(tag=tag)

    # then
    assert (added, removed) == (0, 1)
    assert tag.client_tags.count() == 0


def test_birthday_and_new_client_rules(in_alpha):
    today = timezone.now()
    born_this_month = client_create(name="甲", birthday=datetime.date(1990, today.month, 1), acting_user=None)
    tag = tag_create(name="本月生日", rule="birthday_month", acting_user=None)
    new = tag_create(name="新客", rule="new_client", rule_days=30, acting_user=None)
    assert born_this_month.pk in set(tag.client_tags.values_list("client_id", flat=True))
    assert new.client_tags.count() == 1


def test_recompute_task_runs_every_automatic_tag_of_the_salon(alpha, beta):
    from apps.crm.tasks_tags import tags_recompute_salon

    with schema_context(alpha.schema):
        client = client_create(name="甲", acting_user=None)
        tag = tag_create(name="流失", rule="lapsed", rule_days=90, acting_user=None)
        _buy(client, 100, 100)
        assert tag.client_tags.count() == 0  # the purchase came after the tag was filled
        result = tags_recompute_salon.apply().get()
        assert result == {"流失": [1, 0]}
        assert tag.client_tags.count() == 1
    with schema_context(beta.schema):
        assert not Tag.objects.exists()


def test_switching_a_tag_from_automatic_to_manual_keeps_its_clients(in_alpha):
    client = client_create(name="甲", acting_user=None)
    tag = tag_create(name="新客", rule="new_client", rule_days=30, acting_user=None)
    tag_update(tag=tag, name="新客", color="#2563eb", rule="", acting_user=None)
    assert list(tag.client_tags.values_list("client_id", "source")) == [(client.pk, TagSource.MANUAL)]


def test_tag_delete_is_audited(in_alpha):
    from apps.core.models import AuditEntry

    tag = tag_create(name="VIP", acting_user=None)
    tag_delete(tag=tag, acting_user=None)
    assert AuditEntry.objects.get(action="clients.tag_delete").data == {"name": "VIP", "clients": 0}


def test_tiers_unique_and_not_deleted_while_held(in_alpha):
    gold = tier_create(name="金卡", rank=3, color="#c9a227", acting_user=None)
    with pytest.raises(ServiceError):
        tier_create(name="金卡", rank=4, acting_user=None)
    with pytest.raises(ServiceError):
        tier_create(name="钻石", rank=3, acting_user=None)
    client = client_create(name="甲", acting_user=None)
    client_update(client=client, tier=gold, acting_user=None)
    with pytest.raises(ServiceError) as refused:
        tier_delete(tier=gold, acting_user=None)
    assert refused.value.code == CrmError.TIER_IN_USE
    assert MembershipTier.objects.filter(pk=gold.pk).exists()
