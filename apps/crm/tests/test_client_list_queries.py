"""The client list (CRM-8 filters) costs a fixed number of queries whatever the page size."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from apps.crm.models import Tag
from apps.crm.selectors import client_list_filtered
from apps.crm.services.clients import client_create, purchase_record
from tests.fixtures import owner_of

SURNAMES = "王李张刘陈"
GIVEN = "芳伟娜敏静丽强磊军洋艳杰娟涛明"
NOW = datetime.datetime(2026, 3, 1, 10, 0, tzinfo=datetime.UTC)


def _page(params: dict[str, str], size: int) -> list[tuple[str, list[str], datetime.datetime | None, int | None]]:
    """What a list page shows: each row's name, tags, last visit and total spend."""
    return [
        (row.name, [ct.tag.name for ct in row.client_tags.all()], row.last_visit, row.total_spend)
        for row in client_list_filtered(params)[:size]
    ]


@pytest.fixture
def salon(in_alpha, beta):
    """60 clients in alpha, every third tagged VIP, each with two purchases; beta has its own VIP client."""
    owner = owner_of(in_alpha)
    vip = Tag.objects.create(name="VIP", color="#aa0000")
    new = Tag.objects.create(name="新客")
    clients = []
    for index in range(60):
        name = SURNAMES[index % len(SURNAMES)] + GIVEN[index % len(GIVEN)] + GIVEN[(index // len(GIVEN)) % len(GIVEN)]
        tags = [vip, new] if index % 3 == 0 else [new] if index % 3 == 1 else []
        client = client_create(name=name, acting_user=owner, tags=tags, phone=f"1390000{index:04d}")
        for day in (1, 2):
            purchase_record(
                client=client,
                occurred_at=NOW - datetime.timedelta(days=day * (index + 1)),
                item_name="洗剪吹",
                amount=10_000 * day,
                staff=owner,
            )
        clients.append(client)
    with schema_context(beta.schema):
        beta_vip = Tag.objects.create(name="VIP")
        client_create(name="王芳芳", acting_user=None, tags=[beta_vip], phone="13900000000")
    return {"clients": clients, "vip": vip}


@pytest.mark.parametrize("filter_name", ["none", "search", "tag"])
def test_a_page_costs_the_same_queries_for_5_and_50_rows(salon, filter_name, django_assert_num_queries):
    # given
    params = {"none": {}, "search": {"q": "王"}, "tag": {"tag": str(salon["vip"].pk)}}[filter_name]
    # when a page of 5 rows is shown
    with CaptureQueriesContext(connection) as five:
        small = _page(params, 5)
    # then one query for the rows (tier, last visit and spend included) and one for their tags
    # (django-tenants' SET search_path, once per request or schema switch, is left out of the count)
    selects = [q["sql"] for q in five.captured_queries if not q["sql"].startswith("SET ")]
    assert len(selects) == 2
    assert len(small) == 5
    # and a page of 50 (or all that match) costs exactly as many
    with CaptureQueriesContext(connection) as fifty:
        large = _page(params, 50)
    assert sum(1 for q in fifty.captured_queries if not q["sql"].startswith("SET ")) == 2
    assert len(large) == {"none": 50, "search": 12, "tag": 20}[filter_name]
    assert large[:5] == small


def test_rows_carry_their_tags_last_visit_and_spend(salon):
    # given the newest client (index 59: no tags), and index 57 (VIP and 新客)
    # when
    rows = _page({}, 3)
    # then
    newest, _, vip = rows
    assert newest == (salon["clients"][59].name, [], NOW - datetime.timedelta(days=60), 30_000)
    assert vip == (salon["clients"][57].name, ["VIP", "新客"], NOW - datetime.timedelta(days=58), 30_000)


def test_tag_filter_counts_only_this_salons_clients(salon):
    # when
    count = client_list_filtered({"tag": str(salon["vip"].pk)}).count()
    # then
    assert count == 20
