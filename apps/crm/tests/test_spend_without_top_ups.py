"""A stored-value top-up is not spend (CRM-4): the client summary, the list's total spend and the
spend-over tag rule count what the stored value buys, not the top-up itself (as the tier rules do)."""

from __future__ import annotations

import datetime

from apps.crm.models import PurchaseKind, TagRule
from apps.crm.selectors import client_list_filtered, client_summary
from apps.crm.services.clients import client_create, purchase_record
from apps.crm.services.tags import rule_members, tag_create

NOW = datetime.datetime(2026, 10, 20, 4, tzinfo=datetime.UTC)


def test_top_ups_are_not_spend(in_alpha):
    # given: a ¥1,000 top-up, then a ¥300 facial paid from it
    client = client_create(name="王芳", acting_user=None)
    purchase_record(client=client, occurred_at=NOW, item_name="充值", amount=100_000, kind=PurchaseKind.TOP_UP)
    purchase_record(client=client, occurred_at=NOW + datetime.timedelta(days=3), item_name="面部护理", amount=30_000)
    # when
    summary = client_summary(client=client)
    listed = client_list_filtered({}).get(pk=client.pk)
    tag = tag_create(name="Big spender", rule=TagRule.SPEND_OVER, rule_amount=50_000, rule_months=12, acting_user=None)
    # then
    assert (summary.total_spend, summary.visits, summary.average_ticket) == (30_000, 1, 30_000)
    assert listed.total_spend == 30_000
    assert client.pk not in rule_members(tag, now=NOW + datetime.timedelta(days=4))
