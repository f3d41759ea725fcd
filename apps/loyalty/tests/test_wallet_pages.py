"""Stored-value pages: members home, a client's ledger, the refund with its working, adjustments,
top-up rules and settings, through the staff app."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from apps.loyalty.models import LoyaltySettings, TopUpRule, Wallet
from apps.loyalty.services import wallets
from apps.loyalty.tests.helpers import a_client, top_up_rule
from tests.fixtures import logged_in_client, make_staff


@pytest.fixture
def owner(alpha):
    from apps.core.services import user_set_language
    from tests.fixtures import owner_of

    with schema_context(alpha.schema):
        user_set_language(user=owner_of(alpha), language="en")
    return logged_in_client(alpha, alpha.owner_username)


@pytest.fixture
def member(alpha):
    with schema_context(alpha.schema):
        top_up_rule(100000, 20000)
        client = a_client()
        wallets.wallet_top_up(client=client, amount=100000, idempotency_key="t")
        wallets.wallet_debit(client=client, amount=60000, idempotency_key="p", reference="bill:9")
    return client


def test_members_home_shows_what_is_owed(owner, member):
    page = owner.get("/members/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-figure="principal">¥500.00' in html
    assert 'data-figure="bonus">¥100.00' in html


def test_account_shows_the_ledger(owner, member):
    html = owner.get(f"/members/clients/{member.pk}/").content.decode()
    assert "bill:9" in html
    assert "¥600.00" in html  # the balance in the header
    assert "Refund the card" in html


def test_refund_page_shows_the_working_and_refunds(owner, member, alpha):
    page = owner.get(f"/members/clients/{member.pk}/refund/")
    html = page.content.decode()
    assert "Principal share of what was used: ¥600.00 × 1,000.00 ÷ 1,200.00 = ¥500.00" in html
    assert 'data-figure="refundable">¥500.00' in html
    done = owner.post(f"/members/clients/{member.pk}/refund/", {"reason": "moving away", "idempotency_key": "abc"})
    assert done.status_code == 302
    with schema_context(alpha.schema):
        assert Wallet.objects.get(client=member).balance == 0
    # a second submission of the same form refunds nothing more
    owner.post(f"/members/clients/{member.pk}/refund/", {"reason": "moving away", "idempotency_key": "abc"})
    with schema_context(alpha.schema):
        assert Wallet.objects.get(client=member).entries.count() == 4  # top-up, payment, refund, forfeit


def test_adjust_form_refuses_an_overdraft_with_a_message(owner, member, alpha):
    page = owner.post(
        f"/members/clients/{member.pk}/adjust/",
        {"principal_delta": "-600", "bonus_delta": "0", "reason": "typo", "idempotency_key": "k"},
    )
    assert page.status_code == 200
    assert "The stored-value balance is not enough for this amount." in page.content.decode()
    with schema_context(alpha.schema):
        assert Wallet.objects.get(client=member).principal == 50000


def test_front_desk_cannot_open_the_refund_or_setup_pages(alpha, member):
    make_staff(alpha, role="front_desk", username="desk")
    desk = logged_in_client(alpha, "desk")
    assert desk.get(f"/members/clients/{member.pk}/").status_code == 200
    assert desk.get(f"/members/clients/{member.pk}/refund/").status_code == 403
    assert desk.get("/members/top-up-rules/").status_code == 403
    assert desk.get("/members/settings/").status_code == 403


def test_top_up_rules_pages(owner, alpha):
    created = owner.post(
        "/members/top-up-rules/new/",
        {"name": "充1000送200", "pay_amount": "1000", "bonus_amount": "200", "is_active": "on"},
    )
    assert created.status_code == 302
    with schema_context(alpha.schema):
        rule = TopUpRule.objects.get()
        assert (rule.pay_amount, rule.bonus_amount) == (100000, 20000)
    listing = owner.get("/members/top-up-rules/").content.decode()
    assert "充1000送200" in listing and "¥1,000.00" in listing
    clash = owner.post("/members/top-up-rules/new/", {"pay_amount": "1000", "bonus_amount": "300"})
    assert "An active rule with this amount already applies in this period." in clash.content.decode()
    edited = owner.post(
        f"/members/top-up-rules/{rule.pk}/",
        {"name": "充1000送200", "pay_amount": "1000", "bonus_amount": "250"},
    )
    assert edited.status_code == 302
    with schema_context(alpha.schema):
        rule.refresh_from_db()
        assert (rule.bonus_amount, rule.is_active) == (25000, False)


def test_settings_page_saves(owner, alpha):
    form = {
        "consumption_order": "principal_first",
        "max_transaction_amount": "50000",
        "low_balance_threshold": "100",
        "require_redemption_code": "on",
        "points_per_yuan": "2",
        "points_value_fen": "100",
        "points_validity_months": "12",
        "check_in_points": "5",
        "birthday_points": "100",
        "referral_points": "200",
        "referral_bonus": "50",
        "tier_basis": "spend",
    }
    assert owner.post("/members/settings/", form).status_code == 302
    with schema_context(alpha.schema):
        row = LoyaltySettings.objects.get()
        assert (row.consumption_order, row.max_transaction_amount, row.require_redemption_code) == (
            "principal_first",
            5_000_000,
            True,
        )
        assert (row.referral_bonus, row.tier_auto_downgrade) == (5000, False)
