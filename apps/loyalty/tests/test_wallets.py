"""Stored value (LOY-3): top-ups with bonus rules, payments in the salon's order, reversals, refunds."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from apps.core.errors import ServiceError
from apps.loyalty.errors import LoyaltyError
from apps.loyalty.models import ConsumptionOrder, LoyaltySettings, Wallet, WalletEntry, WalletEntryKind
from apps.loyalty.services import wallet_refunds, wallets
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
    quote = wallet_refunds.wallet_refund_quote(Wallet.objects.get(client=client))
    assert (quote.refundable_principal, quote.forfeited_bonus, quote.forfeited_principal) == (50000, 10000, 0)
    assert any("500.00" in line for line in quote.working)


def test_a_payment_is_three_statements(in_alpha):
    """The till's hot path: the wallet locked with the settings, the entry, the wallet (plus the transaction's
    BEGIN/COMMIT, or SAVEPOINT/RELEASE here, and django-tenants' SET search_path before each statement)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = a_client()
    wallets.wallet_top_up(client=client, amount=50000, idempotency_key="t")
    with CaptureQueriesContext(connection) as captured:
        wallets.wallet_debit(client=client, amount=100, idempotency_key="p")
    statements = [
        q["sql"].split()[0]
        for q in captured.captured_queries
        if not q["sql"].startswith(("SET search_path", "SAVEPOINT", "RELEASE SAVEPOINT"))
    ]
    assert statements == ["SELECT", "INSERT", "UPDATE"]


def test_a_replayed_payment_is_returned_even_when_the_wallet_can_no_longer_pay(in_alpha):
    client = a_client()
    wallets.wallet_top_up(client=client, amount=1000, idempotency_key="t")
    first = wallets.wallet_debit(client=client, amount=1000, idempotency_key="bill:1")
    again = wallets.wallet_debit(client=client, amount=1000, idempotency_key="bill:1")
    assert (again.pk, again.is_replay) == (first.pk, True)
    with pytest.raises(ServiceError) as reused:
        wallets.wallet_debit(client=client, amount=500, idempotency_key="bill:1")
    assert reused.value.code == LoyaltyError.KEY_REUSED


def test_amount_over_the_salon_limit_is_refused(in_alpha):
    LoyaltySettings.objects.filter(id=1).update(max_transaction_amount=5000)
    client = a_client()
    with pytest.raises(ServiceError) as refused:
        wallets.wallet_top_up(client=client, amount=5001, idempotency_key="t")
    assert refused.value.code == LoyaltyError.AMOUNT_OVER_LIMIT
    wallets.wallet_top_up(client=client, amount=5000, idempotency_key="t2")
    wallets.wallet_top_up(client=client, amount=5000, idempotency_key="t3")
    with pytest.raises(ServiceError) as refused:
        wallets.wallet_debit(client=client, amount=5001, idempotency_key="p")
    assert refused.value.code == LoyaltyError.AMOUNT_OVER_LIMIT
    assert WalletEntry.objects.filter(kind=WalletEntryKind.PAYMENT).count() == 0


@pytest.mark.parametrize("amount", [0, -100, 1.5, "100", True, None])
def test_bad_amounts_are_refused_by_name(in_alpha, amount):
    client = a_client()
    with pytest.raises(ServiceError) as refused:
        wallets.wallet_debit(client=client, amount=amount, idempotency_key="p")
    assert refused.value.code == LoyaltyError.INVALID_AMOUNT
    assert refused.value.as_dict() == {"amount": ["Enter an amount of more than ¥0.00."]}


def test_payment_given_back_in_the_payments_own_proportion(in_alpha):
    top_up_rule(100000, 20000)
    client = a_client()
    wallets.wallet_top_up(client=client, amount=100000, idempotency_key="t")
    payment = wallets.wallet_debit(client=client, amount=60000, idempotency_key="p")
    back = wallets.wallet_debit_reverse(payment=payment, amount=30000, idempotency_key="r1")
    assert (back.principal_delta, back.bonus_delta) == (25000, 5000)
    with pytest.raises(ServiceError) as too_much:
        wallets.wallet_debit_reverse(payment=payment, amount=30001, idempotency_key="r2")
    assert too_much.value.code == LoyaltyError.REVERSAL_TOO_LARGE
    rest = wallets.wallet_debit_reverse(payment=payment, amount=30000, idempotency_key="r3")
    assert (rest.principal_delta, rest.bonus_delta) == (25000, 5000)
    wallet = Wallet.objects.get(client=client)
    assert (wallet.principal, wallet.bonus) == (100000, 20000)


def test_low_balance_alert_is_sent_once_until_topped_up(in_alpha, django_capture_on_commit_callbacks):
    from apps.messaging import sms

    sms.outbox.clear()
    LoyaltySettings.objects.filter(id=1).update(low_balance_threshold=10000)
    client = a_client()
    with django_capture_on_commit_callbacks(execute=True):
        wallets.wallet_top_up(client=client, amount=20000, idempotency_key="t")
        wallets.wallet_debit(client=client, amount=5000, idempotency_key="p1")  # ¥150 left: no alert
        wallets.wallet_debit(client=client, amount=6000, idempotency_key="p2")  # ¥90 left: alert
        wallets.wallet_debit(client=client, amount=1000, idempotency_key="p3")  # still low: no second alert
    assert [m.to for m in sms.outbox] == ["+8613800138000"]
    assert sms.outbox[0].body == "Your member balance at Alpha Salon is now ¥90.00. Top up at your next visit."
    with django_capture_on_commit_callbacks(execute=True):
        wallets.wallet_top_up(client=client, amount=10000, idempotency_key="t2")  # ¥180: armed again
        wallets.wallet_debit(client=client, amount=9000, idempotency_key="p4")  # ¥90: alert again
    assert len(sms.outbox) == 2


def test_lost_or_frozen_card_blocks_payments(in_alpha):
    from apps.loyalty.models import CardStatus, MemberCard

    client = a_client()
    wallets.wallet_top_up(client=client, amount=10000, idempotency_key="t")
    card = MemberCard.objects.create(client=client, number="88000001", status=CardStatus.LOST)
    Wallet.objects.filter(client=client).update(current_card=card)
    with pytest.raises(ServiceError) as lost:
        wallets.wallet_debit(client=client, amount=100, idempotency_key="p")
    assert lost.value.code == LoyaltyError.CARD_LOST
    MemberCard.objects.filter(pk=card.pk).update(status=CardStatus.FROZEN)
    with pytest.raises(ServiceError) as frozen:
        wallets.wallet_debit(client=client, amount=100, idempotency_key="p")
    assert frozen.value.code == LoyaltyError.CARD_FROZEN
    assert Wallet.objects.get(client=client).principal == 10000


def test_redemption_code_required_then_override_by_a_manager_is_audited(in_alpha):
    from apps.core.models import AuditEntry
    from apps.loyalty.services._common import Verification
    from tests.fixtures import make_staff, owner_of

    LoyaltySettings.objects.filter(id=1).update(require_redemption_code=True)
    desk = make_staff(in_alpha, role="front_desk", username="desk")
    client = a_client()
    wallets.wallet_top_up(client=client, amount=10000, idempotency_key="t")
    with pytest.raises(ServiceError) as needs_code:
        wallets.wallet_debit(client=client, amount=100, idempotency_key="p", acting_user=desk)
    assert needs_code.value.code == LoyaltyError.CODE_REQUIRED
    with pytest.raises(ServiceError) as not_manager:
        wallets.wallet_debit(
            client=client,
            amount=100,
            idempotency_key="p",
            acting_user=desk,
            verification=Verification(override_reason="phone flat"),
        )
    assert not_manager.value.code == LoyaltyError.PERMISSION_DENIED
    wallets.wallet_debit(
        client=client,
        amount=100,
        idempotency_key="p",
        acting_user=owner_of(in_alpha),
        verification=Verification(override_reason="phone flat"),
    )
    entry = AuditEntry.objects.get(action="loyalty.redemption_code_overridden")
    assert entry.data == {"what": "stored_value", "reference": "", "reason": "phone flat"}


def test_redemption_code_sent_and_checked(in_alpha, django_capture_on_commit_callbacks):
    from apps.loyalty.services._common import redemption_code_check, redemption_code_send
    from apps.messaging import sms
    from tests.fixtures import make_staff

    sms.outbox.clear()
    LoyaltySettings.objects.filter(id=1).update(require_redemption_code=True)
    desk = make_staff(in_alpha, role="front_desk", username="desk")
    client = a_client()
    wallets.wallet_top_up(client=client, amount=10000, idempotency_key="t")
    with django_capture_on_commit_callbacks(execute=True):
        redemption_code_send(client=client)
    code = sms.outbox[0].body.split("is ")[1][:6]
    with pytest.raises(ServiceError) as wrong:
        redemption_code_check(client=client, code="000000" if code != "000000" else "111111")
    assert wrong.value.code == LoyaltyError.CODE_INVALID
    verified = redemption_code_check(client=client, code=code)
    wallets.wallet_debit(client=client, amount=100, idempotency_key="p", acting_user=desk, verification=verified)
    with pytest.raises(ServiceError) as used:
        redemption_code_check(client=client, code=code)  # a code works once
    assert used.value.code == LoyaltyError.CODE_INVALID


def test_the_wallet_mirrors_its_cards_status_whatever_writes_it(in_alpha):
    from apps.loyalty.models import CardStatus, MemberCard

    client = a_client()
    wallet = wallets.wallet_for(client)
    card = MemberCard.objects.create(client=client, number="88000002", expires_on=None)
    Wallet.objects.filter(pk=wallet.pk).update(current_card=card)
    wallet.refresh_from_db()
    assert (wallet.card_status, wallet.card_expires_on) == ("active", None)
    MemberCard.objects.filter(pk=card.pk).update(status=CardStatus.FROZEN)
    wallet.refresh_from_db()
    assert wallet.card_status == "frozen"
    # a stale in-memory value written back is recomputed from the card
    wallet.card_status = "active"
    wallet.save()
    wallet.refresh_from_db()
    assert wallet.card_status == "frozen"
    Wallet.objects.filter(pk=wallet.pk).update(current_card=None)
    wallet.refresh_from_db()
    assert (wallet.card_status, wallet.card_expires_on) == ("", None)


def test_a_card_holders_payment_is_three_statements_too(in_alpha):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from apps.loyalty.services import cards
    from tests.fixtures import owner_of

    client = a_client()
    cards.member_card_issue(client=client, acting_user=owner_of(in_alpha))
    wallets.wallet_top_up(client=client, amount=50000, idempotency_key="t")
    with CaptureQueriesContext(connection) as captured:
        wallets.wallet_debit(client=client, amount=100, idempotency_key="p")
    statements = [
        q["sql"].split()[0]
        for q in captured.captured_queries
        if not q["sql"].startswith(("SET search_path", "SAVEPOINT", "RELEASE SAVEPOINT"))
    ]
    assert statements == ["SELECT", "INSERT", "UPDATE"]
