"""CRM-4: the lines of one sale recorded together, and what upper apps hear about it."""

from __future__ import annotations

import datetime

import pytest

from apps.crm.models import PurchaseLine
from apps.crm.services import clients as services

AT = datetime.datetime(2030, 3, 4, 2, 0, tzinfo=datetime.UTC)


@pytest.fixture
def heard(monkeypatch):
    calls: list[tuple[int, str]] = []
    monkeypatch.setattr(services, "PURCHASE_HOOKS", [lambda line: calls.append((line.client_id, line.kind))])
    return calls


def _line(client, kind, amount, reference):
    return PurchaseLine(
        client=client, occurred_at=AT, item_name=f"{kind} {amount}", amount=amount, kind=kind, reference=reference
    )


def test_a_sale_is_recorded_once_and_heard_once_per_client(in_alpha, heard):
    # given a sale of a top-up and two services for one client and a product for another
    wang = services.client_create(name="王芳", acting_user=None)
    li = services.client_create(name="李娜", acting_user=None)
    lines = [
        _line(wang, "top_up", 100_000, "bill:1:line:1"),
        _line(wang, "service", 12800, "bill:1:line:2"),
        _line(wang, "service", 9800, "bill:1:line:3"),
        _line(li, "product", 5000, "bill:1:line:4"),
    ]
    # when it is recorded, then again
    written = services.purchases_record(lines=lines)
    again = services.purchases_record(lines=[_line(wang, "service", 12800, "bill:1:line:2")])
    # then four lines are written once, and the hooks heard each client once, with a spend line first
    assert len(written) == 4 and again == []
    assert PurchaseLine.objects.filter(reference__startswith="bill:1:").count() == 4
    assert heard == [(wang.pk, "service"), (li.pk, "product")]
