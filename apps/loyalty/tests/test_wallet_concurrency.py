"""Stored value under real concurrency (threads, committed transactions, the real database), in a salon
made for the race and removed afterwards: 50 simultaneous payments against one wallet."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connections
from django.db.models import Sum
from django_tenants.utils import schema_context

from apps.core.errors import ServiceError
from apps.loyalty.errors import LoyaltyError
from apps.loyalty.models import TopUpRule, Wallet, WalletEntry, WalletEntryKind
from apps.loyalty.services import wallets
from apps.loyalty.tests.helpers import a_client
from tests.races import race, salon_for_races

THREADS = 50


@pytest.fixture
def race_salon(two_salons: Any, django_db_blocker: Any) -> Iterator[str]:
    with django_db_blocker.unblock(), salon_for_races("wallet-race") as schema:
        yield schema


def test_fifty_payments_at_once_never_overdraw(race_salon):
    # given ¥1,000 paid in with a ¥200 bonus: ¥1,200 to spend
    with schema_context(race_salon):
        TopUpRule.objects.create(pay_amount=100000, bonus_amount=20000)
        client = a_client()
        wallets.wallet_top_up(client=client, amount=100000, idempotency_key="top-up")

    # when 50 cashiers take ¥30 at the same moment (¥1,500 asked for in all)
    outcomes = race(
        race_salon,
        THREADS,
        lambda i: wallets.wallet_debit(client=client, amount=3000, idempotency_key=f"bill:{i}"),
    )

    # then exactly 40 are paid and 10 are refused with a clear error, never a database error
    paid = [o for o in outcomes if isinstance(o, WalletEntry)]
    refused = [o for o in outcomes if not isinstance(o, WalletEntry)]
    assert len(paid) == 40, refused[:3]
    assert all(isinstance(o, ServiceError) and o.code == LoyaltyError.INSUFFICIENT_BALANCE for o in refused), refused
    with schema_context(race_salon):
        wallet = Wallet.objects.get(client=client)
        assert (wallet.principal, wallet.bonus) == (0, 0)
        sums = WalletEntry.objects.filter(wallet=wallet).aggregate(p=Sum("principal_delta"), b=Sum("bonus_delta"))
        assert (sums["p"], sums["b"]) == (wallet.principal, wallet.bonus)
        assert WalletEntry.objects.filter(kind=WalletEntryKind.PAYMENT).count() == 40
        # every entry carries the figures the wallet had right after it, in order
        running_p = running_b = 0
        for entry in WalletEntry.objects.filter(wallet=wallet).order_by("id"):
            running_p += entry.principal_delta
            running_b += entry.bonus_delta
            assert (entry.principal_after, entry.bonus_after) == (running_p, running_b)


def test_the_same_payment_sent_fifty_times_at_once_is_applied_once(race_salon):
    # given ¥100 on the card
    with schema_context(race_salon):
        client = a_client(name="李娜", phone="13900139000")
        wallets.wallet_top_up(client=client, amount=10000, idempotency_key="top-up")

    # when a flaky network delivers one ¥30 payment 50 times at once
    outcomes = race(
        race_salon,
        THREADS,
        lambda i: wallets.wallet_debit(client=client, amount=3000, idempotency_key="bill:7:stored-value"),
    )

    # then every call answers with the same entry and ¥30 left the card once
    assert all(isinstance(o, WalletEntry) for o in outcomes), [o for o in outcomes if not isinstance(o, WalletEntry)]
    assert len({o.pk for o in outcomes}) == 1
    with schema_context(race_salon):
        assert Wallet.objects.get(client=client).principal == 7000
        assert WalletEntry.objects.filter(kind=WalletEntryKind.PAYMENT).count() == 1


def test_a_payment_waiting_for_the_wallet_sees_a_loss_report_made_meanwhile(race_salon):
    import time

    from django.db import transaction

    from apps.loyalty.models import CardStatus, MemberCard

    # given a member with an active card and ¥100
    with schema_context(race_salon):
        client = a_client(name="赵敏", phone="13700137000")
        wallets.wallet_top_up(client=client, amount=10000, idempotency_key="top-up")
        card = MemberCard.objects.create(client=client, number="66000001")
        Wallet.objects.filter(client=client).update(current_card=card)
    locked = threading.Event()
    outcome: list[Any] = []

    def report_lost() -> None:
        # the way a loss report works: the wallet first, then the card, in one transaction
        try:
            with schema_context(race_salon), transaction.atomic():
                wallets.wallet_locked(client)
                MemberCard.objects.filter(pk=card.pk).update(status=CardStatus.LOST)
                locked.set()
                time.sleep(0.5)  # the payment below is now waiting for the wallet
        finally:
            connections.close_all()

    def pay() -> None:
        try:
            locked.wait(10)
            with schema_context(race_salon):
                outcome.append(wallets.wallet_debit(client=client, amount=100, idempotency_key="bill:1"))
        except Exception as exc:
            outcome.append(exc)
        finally:
            connections.close_all()

    # when the card is reported lost while a cashier's payment waits for the wallet
    threads = [threading.Thread(target=report_lost), threading.Thread(target=pay)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    # then the payment is refused: the card it read is the lost one, not the one before the report
    assert isinstance(outcome[0], ServiceError) and outcome[0].code == LoyaltyError.CARD_LOST, outcome
    with schema_context(race_salon):
        assert Wallet.objects.get(client=client).principal == 10000
