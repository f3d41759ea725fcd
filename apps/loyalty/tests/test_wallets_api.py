"""Stored value through the API (SPEC §4): wallet, refund quote and refund, ledger, adjustments,
top-up rules and settings; permissions, bad input and isolation between salons."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from apps.core.models import AuditEntry
from apps.loyalty.models import LoyaltySettings, TopUpRule, Wallet, WalletEntry
from apps.loyalty.services import wallets
from apps.loyalty.tests.helpers import a_client, api_client, top_up_rule
from tests.fixtures import make_staff


@pytest.fixture
def owner_api(alpha):
    return api_client(alpha, alpha.owner_username)


@pytest.fixture
def member(alpha):
    """A client who paid ¥1,000 under 充1000送200 and spent ¥600."""
    with schema_context(alpha.schema):
        top_up_rule(100000, 20000)
        client = a_client()
        wallets.wallet_top_up(client=client, amount=100000, idempotency_key="t")
        wallets.wallet_debit(client=client, amount=60000, idempotency_key="p")
    return client


def test_wallet_shows_principal_and_bonus_apart(owner_api, member):
    response = owner_api.get(f"/api/v1/clients/{member.pk}/wallet/")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["principal"], body["bonus"], body["balance"], body["points"]) == (50000, 10000, 60000, 0)
    assert body["tier"] is None and body["card"] is None and body["course_cards"] == []


def test_refund_quote_and_refund(owner_api, member, alpha):
    quote = owner_api.get(f"/api/v1/clients/{member.pk}/wallet/refund-quote/").json()
    assert (quote["refundable_principal"], quote["forfeited_bonus"], quote["used"]) == (50000, 10000, 60000)
    assert quote["working"][0] == "Principal paid in: ¥1,000.00"

    refund = owner_api.post(
        f"/api/v1/clients/{member.pk}/wallet/refund/",
        {"idempotency_key": "close-1", "reason": "moving away"},
        content_type="application/json",
    )
    assert refund.status_code == 201, refund.content
    assert refund.json()["refundable_principal"] == 50000
    again = owner_api.post(
        f"/api/v1/clients/{member.pk}/wallet/refund/",
        {"idempotency_key": "close-1", "reason": "moving away"},
        content_type="application/json",
    )
    assert again.status_code == 201
    assert again.json()["refund_entry"] == refund.json()["refund_entry"]
    with schema_context(alpha.schema):
        wallet = Wallet.objects.get(client=member)
        assert (wallet.principal, wallet.bonus) == (0, 0)
        assert AuditEntry.objects.filter(action="loyalty.wallet_refunded").count() == 1


def test_front_desk_reads_but_cannot_refund_or_adjust(alpha, member):
    make_staff(alpha, role="front_desk", username="desk")
    desk = api_client(alpha, "desk")
    assert desk.get(f"/api/v1/clients/{member.pk}/wallet/").status_code == 200
    refused = desk.post(
        f"/api/v1/clients/{member.pk}/wallet/refund/",
        {"idempotency_key": "x", "reason": "r"},
        content_type="application/json",
    )
    assert refused.status_code == 403
    refused = desk.post(
        f"/api/v1/clients/{member.pk}/wallet/adjustments/",
        {"principal_delta": 100, "reason": "r", "idempotency_key": "a"},
        content_type="application/json",
    )
    assert refused.status_code == 403
    with schema_context(alpha.schema):
        assert Wallet.objects.get(client=member).principal == 50000


def test_adjustment_needs_a_reason_and_cannot_overdraw(owner_api, member, alpha):
    url = f"/api/v1/clients/{member.pk}/wallet/adjustments/"
    no_reason = owner_api.post(
        url, {"principal_delta": 100, "reason": " ", "idempotency_key": "a"}, content_type="application/json"
    )
    assert no_reason.status_code == 400
    too_much = owner_api.post(
        url, {"bonus_delta": -10001, "reason": "typo", "idempotency_key": "b"}, content_type="application/json"
    )
    assert too_much.status_code == 400
    assert too_much.json() == {"amount": ["The stored-value balance is not enough for this amount."]}
    made = owner_api.post(
        url, {"bonus_delta": -1000, "reason": "typo", "idempotency_key": "c"}, content_type="application/json"
    )
    assert made.status_code == 201, made.content
    assert (made.json()["bonus_delta"], made.json()["bonus_after"]) == (-1000, 9000)
    with schema_context(alpha.schema):
        assert AuditEntry.objects.filter(action="loyalty.wallet_adjusted").count() == 1


def test_ledger_is_listed_newest_first(owner_api, member):
    body = owner_api.get(f"/api/v1/clients/{member.pk}/wallet/entries/").json()
    assert body["count"] == 2
    assert [e["kind"] for e in body["results"]] == ["payment", "top_up"]
    assert body["results"][1]["bonus_delta"] == 20000


def test_top_up_rules_as_in_the_spec(owner_api, alpha):
    created = owner_api.post(
        "/api/v1/top-up-rules/", {"pay_amount": 100000, "bonus_amount": 20000}, content_type="application/json"
    )
    assert created.status_code == 201, created.content
    assert {k: created.json()[k] for k in ("pay_amount", "bonus_amount", "is_active")} == {
        "pay_amount": 100000,
        "bonus_amount": 20000,
        "is_active": True,
    }
    clash = owner_api.post(
        "/api/v1/top-up-rules/", {"pay_amount": 100000, "bonus_amount": 30000}, content_type="application/json"
    )
    assert clash.status_code == 400
    assert clash.json() == {"pay_amount": ["An active rule with this amount already applies in this period."]}
    bad = owner_api.post(
        "/api/v1/top-up-rules/", {"pay_amount": 0, "bonus_amount": -1}, content_type="application/json"
    )
    assert bad.status_code == 400
    window = owner_api.post(
        "/api/v1/top-up-rules/",
        {"pay_amount": 50000, "bonus_amount": 5000, "valid_from": "2026-12-31", "valid_until": "2026-12-01"},
        content_type="application/json",
    )
    assert window.status_code == 400
    assert window.json() == {"valid_until": ["The end date must not be before the start date."]}
    rule_id = created.json()["id"]
    assert owner_api.delete(f"/api/v1/top-up-rules/{rule_id}/").status_code == 204
    with schema_context(alpha.schema):
        assert list(TopUpRule.objects.values_list("is_active", flat=True)) == [False]


def test_settings_read_and_changed(owner_api, alpha):
    body = owner_api.get("/api/v1/loyalty-settings/").json()
    assert body["consumption_order"] == "proportional"
    changed = owner_api.patch(
        "/api/v1/loyalty-settings/",
        {"consumption_order": "bonus_first", "low_balance_threshold": 5000},
        content_type="application/json",
    )
    assert changed.status_code == 200, changed.content
    with schema_context(alpha.schema):
        row = LoyaltySettings.objects.get()
        assert (row.consumption_order, row.low_balance_threshold) == ("bonus_first", 5000)
    assert (
        owner_api.patch(
            "/api/v1/loyalty-settings/", {"max_transaction_amount": 0}, content_type="application/json"
        ).status_code
        == 400
    )


def test_another_salon_sees_nothing(beta, member):
    beta_api = api_client(beta, beta.owner_username)
    assert beta_api.get(f"/api/v1/clients/{member.pk}/wallet/").status_code == 404
    assert beta_api.get(f"/api/v1/clients/{member.pk}/wallet/refund-quote/").status_code == 404
    with schema_context(beta.schema):
        assert WalletEntry.objects.count() == 0
