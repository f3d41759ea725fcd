"""Member cards (LOY-4): issue, loss report that blocks stored value at once, freeze, reissue keeping the
balance, cancellation; every refusal leaves everything as it was."""

from __future__ import annotations

import datetime

import pytest

from apps.core.db import salon_today
from apps.core.errors import ServiceError
from apps.core.models import AuditEntry
from apps.crm.models import Client
from apps.crm.selectors import client_search
from apps.loyalty.errors import LoyaltyError
from apps.loyalty.models import CardStatus, CardType, MemberCard, Wallet, WalletEntry
from apps.loyalty.services import cards, wallets
from apps.loyalty.tests.helpers import a_client
from tests.fixtures import make_staff, owner_of


@pytest.fixture
def owner(in_alpha):
    return owner_of(in_alpha)


@pytest.fixture
def desk(in_alpha):
    return make_staff(in_alpha, role="front_desk", username="desk")


def _state(client: Client) -> tuple:
    """Everything a card change may touch, to assert that a refusal touched nothing."""
    client.refresh_from_db()
    wallet = Wallet.objects.filter(client=client).first()
    return (
        list(MemberCard.objects.filter(client=client).order_by("id").values_list("number", "status", "replaced_by")),
        wallet.current_card_id if wallet else None,
        client.card_number,
        AuditEntry.objects.filter(action__startswith="loyalty.member_card").count(),
    )


def test_issue_generates_a_ten_digit_number_and_links_wallet_and_client(owner):
    # given
    client = a_client()
    # when
    card = cards.member_card_issue(client=client, card_type=CardType.PHYSICAL, acting_user=owner)
    # then
    assert len(card.number) == 10 and card.number.isdigit() and card.number[0] != "0"
    assert (card.status, card.card_type, card.issued_by) == (CardStatus.ACTIVE, CardType.PHYSICAL, owner)
    assert Wallet.objects.get(client=client).current_card == card
    client.refresh_from_db()
    assert client.card_number == card.number
    assert AuditEntry.objects.filter(action="loyalty.member_card_issued", target_id=str(client.pk)).count() == 1


def test_issue_normalises_the_number_and_crm_search_finds_it(owner):
    client = a_client()
    expiry = salon_today() + datetime.timedelta(days=365)
    card = cards.member_card_issue(
        client=client, number=" vip 0001-a ", card_type=CardType.VIRTUAL, expires_on=expiry, acting_user=owner
    )
    assert (card.number, card.card_type, card.expires_on) == ("VIP0001-A", CardType.VIRTUAL, expiry)
    assert [c.pk for c in client_search(query="VIP0001-A")] == [client.pk]


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"number": "ab!"}, LoyaltyError.INVALID_CARD_NUMBER),
        ({"number": "123"}, LoyaltyError.INVALID_CARD_NUMBER),
        ({"number": "1" * 33}, LoyaltyError.INVALID_CARD_NUMBER),
        ({"card_type": "gold"}, LoyaltyError.INVALID_CARD_TYPE),
        ({"expires_on": datetime.date(2000, 1, 1)}, LoyaltyError.EXPIRY_IN_PAST),
    ],
)
def test_issue_refuses_bad_input_and_changes_nothing(owner, fields, code):
    client = a_client()
    before = _state(client)
    with pytest.raises(ServiceError) as refused:
        cards.member_card_issue(client=client, acting_user=owner, **{"card_type": CardType.PHYSICAL, **fields})
    assert refused.value.code == code
    assert _state(client) == before


def test_a_second_current_card_is_refused(owner):
    client = a_client()
    cards.member_card_issue(client=client, number="A0001", acting_user=owner)
    before = _state(client)
    with pytest.raises(ServiceError) as refused:
        cards.member_card_issue(client=client, number="A0002", acting_user=owner)
    assert (refused.value.code, refused.value.status) == (LoyaltyError.CARD_ALREADY_HELD, 409)
    assert _state(client) == before


def test_a_number_in_use_is_refused_whether_on_a_card_or_on_a_client_record(owner):
    # given one client holds card A0001 and another had B0002 typed into their record
    first = a_client()
    cards.member_card_issue(client=first, number="A0001", acting_user=owner)
    a_client(name="李四", phone="13900139000", card_number="B0002")
    third = a_client(name="赵六", phone="13700137000")
    before = _state(third)
    # when / then
    for number in ("a0001", "B 0002"):
        with pytest.raises(ServiceError) as refused:
            cards.member_card_issue(client=third, number=number, acting_user=owner)
        assert (refused.value.code, refused.value.status) == (LoyaltyError.DUPLICATE_CARD_NUMBER, 409)
    assert _state(third) == before


def test_a_racing_insert_of_the_same_number_is_the_same_clear_error(owner, monkeypatch):
    # given the friendly check misses a number that another request has just taken
    cards.member_card_issue(client=a_client(), number="RACE1", acting_user=owner)
    late = a_client(name="李四", phone="13900139000")
    monkeypatch.setattr(cards, "_number_taken", lambda number, client: False)
    # when / then the unique constraint answers with the same error
    with pytest.raises(ServiceError) as refused:
        cards.member_card_issue(client=late, number="RACE1", acting_user=owner)
    assert refused.value.code == LoyaltyError.DUPLICATE_CARD_NUMBER
    assert not MemberCard.objects.filter(client=late).exists()


def test_a_generated_number_that_collides_is_drawn_again(owner, monkeypatch):
    cards.member_card_issue(client=a_client(), number="1000000001", acting_user=owner)
    drawn = iter(["1000000001", "1000000002"])
    monkeypatch.setattr(cards, "_generated_number", lambda: next(drawn))
    monkeypatch.setattr(cards, "_number_taken", lambda number, client: False)
    card = cards.member_card_issue(client=a_client(name="李四", phone="13900139000"), acting_user=owner)
    assert card.number == "1000000002"


def test_a_lost_card_blocks_stored_value_at_once_and_a_found_card_unblocks_it(owner):
    # given a member with ¥500 and a card
    client = a_client()
    wallets.wallet_top_up(client=client, amount=50000, idempotency_key="t")
    card = cards.member_card_issue(client=client, acting_user=owner)
    # when the card is reported lost
    cards.member_card_report_lost(card=card, reason="客户来电挂失", acting_user=owner)
    # then the next payment is refused and nothing is taken
    with pytest.raises(ServiceError) as refused:
        wallets.wallet_debit(client=client, amount=1000, idempotency_key="p1")
    assert refused.value.code == LoyaltyError.CARD_LOST
    assert Wallet.objects.get(client=client).balance == 50000
    assert not WalletEntry.objects.filter(idempotency_key="p1").exists()
    # and when it is found again, payments work
    cards.member_card_unfreeze(card=card, reason="找到了", acting_user=owner)
    wallets.wallet_debit(client=client, amount=1000, idempotency_key="p1")
    assert Wallet.objects.get(client=client).balance == 49000


def test_a_frozen_card_blocks_stored_value_until_unfrozen(owner):
    client = a_client()
    wallets.wallet_top_up(client=client, amount=50000, idempotency_key="t")
    card = cards.member_card_issue(client=client, acting_user=owner)
    cards.member_card_freeze(card=card, reason="客户要求", acting_user=owner)
    with pytest.raises(ServiceError) as refused:
        wallets.wallet_debit(client=client, amount=1000, idempotency_key="p1")
    assert refused.value.code == LoyaltyError.CARD_FROZEN
    card = cards.member_card_unfreeze(card=card, acting_user=owner)
    assert card.status == CardStatus.ACTIVE
    assert wallets.wallet_debit(client=client, amount=1000, idempotency_key="p1").amount == -1000


def test_reissue_moves_the_balance_to_a_new_number(owner):
    # given a lost card with ¥500 behind it
    client = a_client()
    wallets.wallet_top_up(client=client, amount=50000, idempotency_key="t")
    expiry = salon_today() + datetime.timedelta(days=30)
    old = cards.member_card_issue(
        client=client, number="OLD0001", card_type=CardType.VIRTUAL, expires_on=expiry, acting_user=owner
    )
    cards.member_card_report_lost(card=old, reason="丢了", acting_user=owner)
    # when it is reissued (补办)
    new = cards.member_card_reissue(card=old, number="new 0002", reason="补办", acting_user=owner)
    # then the old card is replaced by the new one, which has the same type and expiry; why it was lost stays
    old.refresh_from_db()
    assert (old.status, old.replaced_by, old.status_reason) == (CardStatus.REPLACED, new, "丢了; 补办")
    assert (new.number, new.status, new.card_type, new.expires_on) == ("NEW0002", CardStatus.ACTIVE, "virtual", expiry)
    wallet = Wallet.objects.get(client=client)
    assert (wallet.current_card, wallet.balance) == (new, 50000)
    client.refresh_from_db()
    assert client.card_number == "NEW0002"
    # and the balance can be spent with the new card
    assert wallets.wallet_debit(client=client, amount=20000, idempotency_key="p").amount == -20000
    assert AuditEntry.objects.get(action="loyalty.member_card_reissued").data["new_number"] == "NEW0002"


def test_reissue_without_a_number_generates_one(owner):
    client = a_client()
    old = cards.member_card_issue(client=client, number="OLD0001", acting_user=owner)
    new = cards.member_card_reissue(card=old, acting_user=owner)
    assert len(new.number) == 10 and new.number != "OLD0001"


def test_reissue_refuses_a_number_in_use_and_changes_nothing(owner):
    other = a_client(name="李四", phone="13900139000")
    cards.member_card_issue(client=other, number="TAKEN01", acting_user=owner)
    client = a_client()
    card = cards.member_card_issue(client=client, number="MINE001", acting_user=owner)
    before = _state(client)
    with pytest.raises(ServiceError) as refused:
        cards.member_card_reissue(card=card, number="TAKEN01", acting_user=owner)
    assert refused.value.code == LoyaltyError.DUPLICATE_CARD_NUMBER
    assert _state(client) == before


def test_cancel_leaves_the_client_without_a_card_and_a_new_one_can_be_issued(owner):
    client = a_client()
    wallets.wallet_top_up(client=client, amount=50000, idempotency_key="t")
    card = cards.member_card_issue(client=client, number="C0001", acting_user=owner)
    cards.member_card_cancel(card=card, reason="客户退卡", acting_user=owner)
    card.refresh_from_db()
    client.refresh_from_db()
    assert (card.status, card.status_reason) == (CardStatus.CANCELLED, "客户退卡")
    assert Wallet.objects.get(client=client).current_card is None
    assert client.card_number == ""
    assert cards.member_card_issue(client=client, number="C0002", acting_user=owner).status == CardStatus.ACTIVE


@pytest.mark.parametrize(
    ("start", "change"),
    [
        ("lost", "freeze"),
        ("active", "unfreeze"),
        ("replaced", "report_lost"),
        ("replaced", "reissue"),
        ("cancelled", "cancel"),
        ("cancelled", "unfreeze"),
        ("frozen", "freeze"),
    ],
)
def test_only_valid_transitions(owner, start, change):
    # given a card brought to the starting status through the services
    client = a_client()
    card = cards.member_card_issue(client=client, number="T0001", acting_user=owner)
    if start == "lost":
        cards.member_card_report_lost(card=card, reason="r", acting_user=owner)
    elif start == "frozen":
        cards.member_card_freeze(card=card, reason="r", acting_user=owner)
    elif start == "replaced":
        cards.member_card_reissue(card=card, acting_user=owner)
    elif start == "cancelled":
        cards.member_card_cancel(card=card, reason="r", acting_user=owner)
    before = _state(client)
    # when / then
    service = getattr(cards, f"member_card_{change}")
    kwargs = {} if change == "reissue" else {"reason": "again"}
    with pytest.raises(ServiceError) as refused:
        service(card=card, acting_user=owner, **kwargs)
    assert refused.value.code == LoyaltyError.INVALID_CARD_TRANSITION
    assert _state(client) == before


@pytest.mark.parametrize("change", ["report_lost", "freeze", "cancel"])
def test_a_reason_is_required(owner, change):
    client = a_client()
    card = cards.member_card_issue(client=client, acting_user=owner)
    before = _state(client)
    with pytest.raises(ServiceError) as refused:
        getattr(cards, f"member_card_{change}")(card=card, reason="  ", acting_user=owner)
    assert refused.value.code == LoyaltyError.REASON_REQUIRED
    assert _state(client) == before


def test_front_desk_issues_reports_lost_and_freezes_but_a_manager_unfreezes_reissues_and_cancels(desk, in_alpha):
    # given a front-desk user
    client = a_client()
    card = cards.member_card_issue(client=client, number="D0001", acting_user=desk)
    cards.member_card_freeze(card=card, reason="客户要求", acting_user=desk)
    cards.member_card_report_lost(card=card, reason="丢了", acting_user=desk)
    before = _state(client)
    # when they try what needs manage_loyalty, then each is refused and nothing changes
    for change in ("unfreeze", "reissue", "cancel"):
        with pytest.raises(ServiceError) as refused:
            getattr(cards, f"member_card_{change}")(card=card, reason="r", acting_user=desk)
        assert (refused.value.code, refused.value.status) == (LoyaltyError.PERMISSION_DENIED, 403)
    assert _state(client) == before
    # and a manager may
    manager = make_staff(in_alpha, role="manager", username="boss")
    assert cards.member_card_reissue(card=card, acting_user=manager).status == CardStatus.ACTIVE


def test_a_technician_cannot_issue(in_alpha):
    tech = make_staff(in_alpha, role="technician", username="tech")
    client = a_client()
    before = _state(client)
    with pytest.raises(ServiceError) as refused:
        cards.member_card_issue(client=client, acting_user=tech)
    assert refused.value.code == LoyaltyError.PERMISSION_DENIED
    assert _state(client) == before


def test_every_status_change_is_audited_with_its_reason(owner):
    client = a_client()
    card = cards.member_card_issue(client=client, number="AU0001", acting_user=owner)
    cards.member_card_freeze(card=card, reason="冻结原因", acting_user=owner)
    cards.member_card_unfreeze(card=card, reason="解冻原因", acting_user=owner)
    cards.member_card_report_lost(card=card, reason="挂失原因", acting_user=owner)
    new = cards.member_card_reissue(card=card, reason="补办原因", acting_user=owner)
    cards.member_card_cancel(card=new, reason="销卡原因", acting_user=owner)
    trail = [
        (e.action.removeprefix("loyalty.member_card_"), e.data.get("from"), e.data.get("to"), e.data.get("reason"))
        for e in AuditEntry.objects.filter(action__startswith="loyalty.member_card").order_by("id")
    ]
    assert trail == [
        ("issued", None, None, None),
        ("frozen", "active", "frozen", "冻结原因"),
        ("unfrozen", "frozen", "active", "解冻原因"),
        ("reported_lost", "active", "lost", "挂失原因"),
        ("reissued", "lost", "replaced", "补办原因"),
        ("cancelled", "active", "cancelled", "销卡原因"),
    ]
    assert {e.actor_id for e in AuditEntry.objects.filter(action__startswith="loyalty.member_card")} == {owner.pk}


def test_an_inactive_client_gets_no_card(owner):
    client = a_client()
    Client.objects.filter(pk=client.pk).update(is_active=False)
    client.refresh_from_db()
    with pytest.raises(ServiceError) as refused:
        cards.member_card_issue(client=client, acting_user=owner)
    assert refused.value.code == LoyaltyError.CLIENT_INACTIVE
    assert not MemberCard.objects.filter(client=client).exists()
