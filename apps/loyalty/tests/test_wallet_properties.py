"""Property-based tests of stored value (hypothesis): random sequences of top-ups, payments, payments
given back, adjustments and card refunds, under each consumption order."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.core.errors import ServiceError
from apps.loyalty.models import ConsumptionOrder, LoyaltySettings, TopUpRule, Wallet, WalletEntry
from apps.loyalty.services import wallet_refunds, wallets
from apps.loyalty.tests.helpers import a_client
from tests.fixtures import owner_of

amounts = st.integers(min_value=1, max_value=300_000)
operation = st.one_of(
    st.tuples(st.just("top_up"), amounts),
    st.tuples(st.just("pay"), amounts),
    st.tuples(st.just("give_back"), st.integers(min_value=1, max_value=100_000)),
    st.tuples(st.just("adjust"), st.integers(min_value=-50_000, max_value=50_000), st.integers(-20_000, 20_000)),
    st.tuples(st.just("refund"), st.just(0)),
)


class _Rollback(Exception):
    pass


def _check_invariants(wallet: Wallet) -> None:
    wallet.refresh_from_db()
    assert wallet.principal >= 0 and wallet.bonus >= 0
    sums = WalletEntry.objects.filter(wallet=wallet).aggregate(p=Sum("principal_delta"), b=Sum("bonus_delta"))
    assert ((sums["p"] or 0), (sums["b"] or 0)) == (wallet.principal, wallet.bonus)
    quote = wallet_refunds.wallet_refund_quote(wallet)
    assert 0 <= quote.refundable_principal <= wallet.principal
    assert quote.forfeited_bonus == wallet.bonus
    assert quote.refundable_principal + quote.forfeited_principal == wallet.principal


@pytest.mark.parametrize("order", list(ConsumptionOrder.values))
def test_random_sequences_keep_the_wallet_sound(in_alpha, order):
    owner = owner_of(in_alpha)
    LoyaltySettings.objects.update_or_create(id=1, defaults={"consumption_order": order})
    TopUpRule.objects.create(pay_amount=100_000, bonus_amount=20_000)
    TopUpRule.objects.create(pay_amount=300_000, bonus_amount=80_000)

    @settings(
        max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture], database=None
    )
    @given(st.lists(operation, min_size=1, max_size=14))
    def run(ops: list[tuple]) -> None:
        try:
            with transaction.atomic():
                client = a_client()
                payments: list[WalletEntry] = []
                for step, op in enumerate(ops):
                    kind, value, *rest = op
                    key = f"op:{step}"
                    try:
                        if kind == "top_up":
                            wallets.wallet_top_up(client=client, amount=value, idempotency_key=key)
                        elif kind == "pay":
                            payments.append(wallets.wallet_debit(client=client, amount=value, idempotency_key=key))
                        elif kind == "give_back" and payments:
                            wallets.wallet_debit_reverse(payment=payments[-1], amount=value, idempotency_key=key)
                        elif kind == "adjust" and (value or rest[0]):
                            wallets.wallet_adjust(
                                client=client,
                                principal_delta=value,
                                bonus_delta=rest[0],
                                reason="count",
                                idempotency_key=key,
                                acting_user=owner,
                            )
                        elif kind == "refund":
                            wallet = Wallet.objects.get(client=client) if Wallet.objects.filter(client=client) else None
                            if wallet is not None:
                                before = wallet_refunds.wallet_refund_quote(wallet)
                                result = wallet_refunds.wallet_refund(
                                    client=client, idempotency_key=key, reason="moving away", acting_user=owner
                                )
                                refunded = -result.refund.amount if result.refund else 0
                                assert refunded == before.refundable_principal <= before.principal_left
                    except ServiceError:
                        pass  # a refused step (overdraft, too large a give-back) must leave everything as it was
                    wallet = wallets.wallet_for(client)
                    _check_invariants(wallet)
                raise _Rollback
        except _Rollback:
            pass

    run()
