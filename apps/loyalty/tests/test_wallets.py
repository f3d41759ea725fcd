"""Stored value (LOY-3): top-ups with bonus rules, payments in the salon's order, reversals, refunds."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from apps.core.errors import ServiceError
from apps.loyalty.errors import LoyaltyError
from apps.loyalty.models import ConsumptionOrder, LoyaltySettings, Wallet, WalletEntry, WalletEntryKind
from apps.loyalty.services import wallets
from apps.loyalty.tests.helpers import a_client, top_up_rule


def _ledger_sums(wallet: Wallet) -> tuple[int, int]:
    entries = WalletEntry.objects.filter(wallet=wallet)
    return sum(e.principal_delta for e in entries), sum(e.bonus_delta for e in entries)


def test_top_up_applies_the_highest_rule_reached(in_alpha):
    # given 充1000送200 and 充3000送800
    top_up_rule(100000, 20000)
    top_up_rule(300000, 80000)
    client = a_client()
    # when the client pays ¥3,500
    entry = wallets.wallet_top_up(client=client, amount=350000, idempotency_key="bill:1:top-up")
    # then the ¥3,000 rule applies
    wallet = Wallet.objects.get(client=client)
    assert (entry.principal_delta, entry.bonus_delta) == (350000, 80000)
    assert (wallet.principal, wallet.bonus) == (350000, 80000)
    assert (entry.principal_after, entry.bonus_after) == (350000, 80000)


def test_replaying_a_top_up_applies_it_once(in_alpha):
    client = a_client()
    first = wallets.wallet_top_up(client=client, amount=10000, idempotency_key="k1")
    again = wallets.wallet_top_up(client=client, amount=10000, idempotency_key="k1")
    assert again.pk == first.pk
    assert Wallet.objects.get(client=client).principal == 10000


def test_proportional_payment_and_ledger_agrees(in_alpha):
    top_up_rule(100000, 20000)
    client = a_client()
    wallets.wallet_top_up(client=client, amount=100000, idempotency_key="t")
    entry = wallets.wallet_debit(client=client, amount=60000, idempotency_key="p")
    # 600 from 1000 + 200 in proportion: 500 principal, 100 bonus
    assert (entry.principal_delta, entry.bonus_delta) == (-50000, -10000)
    wallet = Wallet.objects.get(client=client)
    assert (wallet.principal, wallet.bonus) == (50000, 10000)
    assert _ledger_sums(wallet) == (50000, 10000)


@pytest.mark.parametrize(
    ("order", "parts"),
    [(ConsumptionOrder.PRINCIPAL_FIRST, (-60000, 0)), (ConsumptionOrder.BONUS_FIRST, (-40000, -20000))],
)
def test_consumption_order_setting(in_alpha, order, parts):
    LoyaltySettings.objects.update_or_create(id=1, defaults={"consumption_order": order})
    top_up_rule(100000, 20000)
    client = a_client()
    wallets.wallet_top_up(client=client, amount=100000, idempotency_key="t")
    entry = wallets.wallet_debit(client=client, amount=60000, idempotency_key="p")
    assert (entry.principal_delta, entry.bonus_delta) == parts


def test_overdraft_is_refused_and_nothing_changes(in_alpha):
    client = a_client()
    wallets.wallet_top_up(client=client, amount=5000, idempotency_key="t")
    with pytest.raises(ServiceError) as refused:
        wallets.wallet_debit(client=client, amount=5001, idempotency_key="p")
    assert refused.value.code == LoyaltyError.INSUFFICIENT_BALANCE
    assert WalletEntry.objects.filter(kind=WalletEntryKind.PAYMENT).count() == 0
    assert Wallet.objects.get(client=client).principal == 5000


def test_the_ledger_is_append_only(in_alpha):
    client = a_client()
    entry = wallets.wallet_top_up(client=client, amount=5000, idempotency_key="t")
    with pytest.raises(Exception, match="cannot be changed"), transaction.atomic():
        WalletEntry.objects.filter(pk=entry.pk).update(amount=1)
    with pytest.raises(Exception, match="cannot be deleted"), transaction.atomic():
        WalletEntry.objects.filter(pk=entry.pk).delete()


def test_the_database_refuses_a_negative_balance(in_alpha):
    client = a_client()
    wallet = wallets.wallet_for(client)
    with pytest.raises(IntegrityError), transaction.atomic():
        Wallet.objects.filter(pk=wallet.pk).update(principal=-1)


def test_refund_quote_follows_the_prepaid_card_rule(in_alpha):
    # given 充1000送200, ¥600 used
    top_up_rule(100000, 20000)
    client = a_client()
    wallets.wallet_top_up(client=client, amount=100000, idempotency_key="t")
    wallets.wallet_debit(client=client, amount=60000, idempotency_key="p")
    # then 600 × 1000/1200 = 500 of principal counts as used; 500 is refundable and the ¥100 bonus left is forfeited
    quote = wallets.wallet_refund_quote(Wallet.objects.get(client=client))
    assert (quote.refundable_principal, quote.forfeited_bonus, quote.forfeited_principal) == (50000, 10000, 0)
    assert any("500.00" in line for line in quote.working)
