"""Loyalty on the client record: the member-account section of the 360° page, merges of duplicates
(one wallet per client, money never added up silently) and the personal-data export."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from apps.core.errors import ServiceError
from apps.crm.services.merge import client_merge, client_merge_undo
from apps.crm.services.privacy import client_personal_data
from apps.loyalty.errors import LoyaltyError
from apps.loyalty.models import Wallet, WalletEntry
from apps.loyalty.services import wallets
from apps.loyalty.tests.helpers import a_client
from tests.fixtures import logged_in_client, make_staff


def test_duplicate_wallet_moves_to_a_survivor_without_one_and_back_on_undo(in_alpha):
    survivor = a_client(name="王芳", phone="13800138001")
    duplicate = a_client(name="王芳", phone="13800138002")
    wallets.wallet_top_up(client=duplicate, amount=5000, idempotency_key="t")
    record = client_merge(survivor=survivor, merged=duplicate, acting_user=None)
    assert Wallet.objects.get(client=survivor).principal == 5000
    client_merge_undo(merge=record, acting_user=None)
    assert Wallet.objects.get(client=duplicate).principal == 5000
    assert not Wallet.objects.filter(client=survivor).exists()


def test_merge_is_refused_when_both_hold_stored_value(in_alpha):
    survivor = a_client(name="王芳", phone="13800138001")
    duplicate = a_client(name="王芳", phone="13800138002")
    wallets.wallet_top_up(client=survivor, amount=100, idempotency_key="a")
    wallets.wallet_top_up(client=duplicate, amount=200, idempotency_key="b")
    with pytest.raises(ServiceError) as refused:
        client_merge(survivor=survivor, merged=duplicate, acting_user=None)
    assert refused.value.code == LoyaltyError.MERGE_BOTH_WALLETS
    duplicate.refresh_from_db()
    assert duplicate.is_active
    assert Wallet.objects.get(client=duplicate).principal == 200


def test_personal_data_export_includes_the_ledger(in_alpha):
    client = a_client()
    wallets.wallet_top_up(client=client, amount=5000, idempotency_key="t", reference="bill:1")
    data = client_personal_data(client=client, acting_user=None)
    assert data["loyalty"]["stored_value"] == {"principal": 5000, "bonus": 0, "points": 0}
    assert [(e["kind"], e["amount"], e["reference"]) for e in data["loyalty"]["stored_value_ledger"]] == [
        ("top_up", 5000, "bill:1")
    ]


def test_client_page_shows_the_member_account_to_the_front_desk_only(alpha):
    with schema_context(alpha.schema):
        client = a_client()
        wallets.wallet_top_up(client=client, amount=12345, idempotency_key="t")
    make_staff(alpha, role="front_desk", username="desk")
    make_staff(alpha, role="technician", username="tech")
    html = logged_in_client(alpha, "desk").get(f"/clients/{client.pk}/").content.decode()
    assert 'data-figure="stored-value">¥123.45' in html
    html = logged_in_client(alpha, "tech").get(f"/clients/{client.pk}/").content.decode()
    assert "stored-value" not in html
    with schema_context(alpha.schema):
        assert WalletEntry.objects.count() == 1
