"""Points (LOY-2): earning per spend with the tier's multiplier, check-in, birthday; redemption oldest
lots first; expiry; reversals; adjustments; and the invariant that the balance, the lots and the ledger
always agree."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.core.errors import ServiceError
from apps.core.models import AuditEntry
from apps.crm.services.tags import tier_create
from apps.loyalty.errors import LoyaltyError
from apps.loyalty.models import PointsEntry, PointsEntryKind, PointsLot, TierBenefit, Wallet
from apps.loyalty.services import cards, points, points_lots
from apps.loyalty.services._common import Verification
from apps.loyalty.services.settings import loyalty_settings_update
from apps.loyalty.tests.helpers import a_client
from tests.fixtures import make_staff, owner_of

D = datetime.date
EARN = PointsEntryKind.EARN_REFERRAL


class Calendar:
    """The salon's day as the points services see it, moved by the test."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.today = D(2024, 1, 10)
        monkeypatch.setattr(points, "salon_today", lambda: self.today)

    def on(self, day: datetime.date) -> Calendar:
        self.today = day
        return self


@pytest.fixture
def day(in_alpha, monkeypatch):
    loyalty_settings_update(acting_user=None, points_validity_months=12)
    return Calendar(monkeypatch)


@pytest.fixture
def owner(in_alpha):
    return owner_of(in_alpha)


def _agrees(client) -> int:
    """The balance equals what is left in the lots and the sum of the ledger; returns it."""
    wallet = Wallet.objects.filter(client=client).first()
    if wallet is None:  # nothing ever applied: a refused first operation leaves no wallet
        return 0
    in_lots = sum(PointsLot.objects.filter(wallet=wallet).values_list("remaining", flat=True))
    ledger = list(PointsEntry.objects.filter(wallet=wallet).order_by("id").values_list("points", "balance_after"))
    assert wallet.points == in_lots == sum(p for p, _after in ledger)
    assert not ledger or ledger[-1][1] == wallet.points
    return wallet.points


def _lots(client) -> list[tuple]:
    return list(
        PointsLot.objects.filter(wallet__client=client)
        .order_by("earned_on", "id")
        .values_list("earned_on", "expires_on", "points", "remaining")
    )


def _earn(client, amount: int, key: str):
    return points.points_award(client=client, points=amount, kind=EARN, reference="", idempotency_key=key)


def _snapshot(client) -> tuple:
    wallet = Wallet.objects.filter(client=client).first()
    return (
        wallet.points if wallet else None,
        _lots(client),
        PointsEntry.objects.filter(wallet__client=client).count(),
    )


# --- earning ----------------------------------------------------------------------------------------


def test_spend_earns_points_per_yuan_times_the_tier_multiplier_rounded_down(day):
    # given 2 points per yuan and a gold tier with ×1.5
    loyalty_settings_update(acting_user=None, points_per_yuan=2)
    gold = tier_create(name="金卡", rank=2, acting_user=None)
    TierBenefit.objects.create(tier=gold, points_multiplier=Decimal("1.50"))
    client = a_client(tier=gold)
    # when the client pays ¥123.45
    entry = points.points_earn_for_spend(client=client, amount_spent=12345, reference="bill:1", idempotency_key="e1")
    # then 123.45 × 2 × 1.5 = 370.35 → 370 points, in a lot that expires 12 months on
    assert (entry.kind, entry.points, entry.balance_after, entry.reference) == ("earn_spend", 370, 370, "bill:1")
    assert _lots(client) == [(D(2024, 1, 10), D(2025, 1, 10), 370, 370)]
    assert _agrees(client) == 370


def test_no_tier_means_a_multiplier_of_one_and_nothing_is_written_for_zero_points(day):
    client = a_client()
    assert points.points_earn_for_spend(client=client, amount_spent=199, reference="", idempotency_key="e1").points == 1
    assert points.points_earn_for_spend(client=client, amount_spent=99, reference="", idempotency_key="e2") is None
    loyalty_settings_update(acting_user=None, points_per_yuan=0)
    assert points.points_earn_for_spend(client=client, amount_spent=99900, reference="", idempotency_key="e3") is None
    assert PointsEntry.objects.filter(wallet__client=client).count() == 1


def test_expiry_is_months_later_clamped_to_the_month_end_or_never(day):
    assert points.add_months(D(2024, 1, 31), 1) == D(2024, 2, 29)
    assert points.add_months(D(2023, 11, 30), 3) == D(2024, 2, 29)
    assert points.add_months(D(2024, 12, 15), 24) == D(2026, 12, 15)
    loyalty_settings_update(acting_user=None, points_validity_months=0)
    client = a_client()
    _earn(client, 10, "a")
    assert _lots(client) == [(D(2024, 1, 10), None, 10, 10)]


def test_replaying_an_earning_applies_it_once_and_a_reused_key_is_refused(day):
    client = a_client()
    first = points.points_earn_for_spend(client=client, amount_spent=10000, reference="b", idempotency_key="k")
    again = points.points_earn_for_spend(client=client, amount_spent=10000, reference="b", idempotency_key="k")
    assert again.pk == first.pk
    before = _snapshot(client)
    with pytest.raises(ServiceError) as refused:
        _earn(client, 5, "k")
    assert (refused.value.code, refused.value.status) == (LoyaltyError.KEY_REUSED, 409)
    assert _snapshot(client) == before
    assert _agrees(client) == 100


def test_a_spend_key_taken_by_another_operation_is_refused_and_writes_no_lot_or_balance(day):
    client = a_client()
    _earn(client, 5, "k")
    before = _snapshot(client)
    with pytest.raises(ServiceError) as refused:
        points.points_earn_for_spend(client=client, amount_spent=10000, reference="b", idempotency_key="k")
    assert refused.value.code == LoyaltyError.KEY_REUSED
    assert _snapshot(client) == before
    assert _agrees(client) == 5


def test_earning_on_a_spend_takes_two_statements(day, django_assert_num_queries):
    # given a member with a tier and a wallet (the till's case)
    gold = tier_create(name="金卡", rank=2, acting_user=None)
    TierBenefit.objects.create(tier=gold, points_multiplier=Decimal("2.00"))
    client = a_client(tier=gold)
    _earn(client, 5, "first")
    # when a bill's points are earned inside the payment's transaction: the wallet locked with the settings
    # and the multiplier, then the entry, its lot and the balance in one statement (no savepoint)
    with transaction.atomic(), django_assert_num_queries(2):
        entry = points.points_earn_for_spend(client=client, amount_spent=10000, reference="b", idempotency_key="e")
    # then all three were written, and they agree
    assert (entry.points, entry.balance_after, entry.pk is not None) == (200, 205, True)
    assert _lots(client)[-1] == (D(2024, 1, 10), D(2025, 1, 10), 200, 200)
    assert _agrees(client) == 205


@pytest.mark.parametrize("bad", [0, -5, 1.5, True, "10", 10**10])
def test_award_refuses_bad_points(day, bad):
    client = a_client()
    with pytest.raises(ServiceError) as refused:
        _earn(client, bad, "k")
    assert refused.value.code == LoyaltyError.INVALID_POINTS
    assert not PointsEntry.objects.exists()


def test_check_in_once_a_day(day, owner):
    client = a_client()
    with pytest.raises(ServiceError) as refused:
        points.points_check_in(client=client, acting_user=owner)
    assert refused.value.code == LoyaltyError.POINTS_OFF
    loyalty_settings_update(acting_user=None, check_in_points=5)
    entry = points.points_check_in(client=client, acting_user=owner)
    assert (entry.kind, entry.points, entry.actor) == ("earn_check_in", 5, owner)
    with pytest.raises(ServiceError) as refused:
        points.points_check_in(client=client, acting_user=owner)
    assert (refused.value.code, refused.value.status) == (LoyaltyError.ALREADY_CHECKED_IN, 409)
    assert _agrees(client) == 5
    day.on(D(2024, 1, 11))
    points.points_check_in(client=client, acting_user=owner)
    assert _agrees(client) == 10


def test_birthday_points_once_a_year_for_solar_and_lunar_birthdays(day):
    # given 88 birthday points; 2024-02-10 is the first day of the lunar year (正月初一)
    loyalty_settings_update(acting_user=None, birthday_points=88)
    solar = a_client(name="甲", phone="13800000001", birthday=D(1990, 2, 10))
    lunar = a_client(name="乙", phone="13800000002", birthday=D(1991, 2, 15), birthday_is_lunar=True)  # 正月初一
    leap = a_client(name="丙", phone="13800000003", birthday=D(1992, 2, 29))
    a_client(name="丁", phone="13800000004", birthday=D(1990, 2, 11))
    # when the nightly grant runs on that day, twice
    assert points.birthday_points_grant(today=D(2024, 2, 10)) == 2
    assert points.birthday_points_grant(today=D(2024, 2, 10)) == 0
    # then each of the two got 88 once
    assert [_agrees(c) for c in (solar, lunar)] == [88, 88]
    assert not Wallet.objects.filter(client=leap).exists()
    # and someone born on 29 February celebrates on the 28th in a common year, once that year
    assert points.birthday_points_grant(today=D(2025, 2, 28)) == 1
    assert PointsEntry.objects.get(wallet__client=leap).idempotency_key == f"birthday:{leap.pk}:2025"


# --- redeeming and expiry -----------------------------------------------------------------------------


def _three_lots(day, client) -> None:
    day.on(D(2023, 1, 10))
    _earn(client, 100, "a")
    day.on(D(2023, 3, 1))
    _earn(client, 50, "b")
    day.on(D(2023, 6, 1))
    _earn(client, 80, "c")


def test_redemption_draws_the_oldest_lots_first(day, owner):
    client = a_client()
    _three_lots(day, client)
    entry = points.points_redeem(
        client=client,
        points=120,
        description="护发素一瓶",
        reference="gift:1",
        idempotency_key="r",
        acting_user=owner,
    )
    assert (entry.kind, entry.points, entry.balance_after, entry.description) == ("redeem", -120, 110, "护发素一瓶")
    assert [lot[3] for lot in _lots(client)] == [0, 30, 80]
    assert _agrees(client) == 110


def test_redeeming_more_than_the_balance_is_refused_and_nothing_changes(day, owner):
    client = a_client()
    _three_lots(day, client)
    before = _snapshot(client)
    with pytest.raises(ServiceError) as refused:
        points.points_redeem(
            client=client, points=231, description="x", reference="", idempotency_key="r", acting_user=owner
        )
    assert refused.value.code == LoyaltyError.INSUFFICIENT_POINTS
    assert _snapshot(client) == before


def test_expiry_zeroes_lots_past_their_date_once_even_when_run_twice(day, owner):
    # given lots of 100 (expires 2024-01-10), 50 (2024-03-01) and 80 (2024-06-01), 120 redeemed in 2023
    client = a_client()
    _three_lots(day, client)
    points.points_redeem(
        client=client, points=120, description="x", reference="", idempotency_key="r", acting_user=None
    )
    # when expiry runs on 2024-01-11 the first lot is already spent: nothing to expire
    assert points.points_expire(today=D(2024, 1, 11)) == 0
    # when it runs on 2024-03-02, the 30 left of the second lot expire, once
    assert points.points_expire(today=D(2024, 3, 2)) == 1
    assert points.points_expire(today=D(2024, 3, 2)) == 0
    expired = PointsEntry.objects.get(kind=PointsEntryKind.EXPIRE)
    assert (expired.points, expired.balance_after, expired.reference) == (-30, 80, "expire:2024-03-02")
    assert [lot[3] for lot in _lots(client)] == [0, 0, 80]
    assert _agrees(client) == 80


def test_points_past_their_expiry_cannot_be_spent_before_the_nightly_run(day, owner):
    client = a_client()
    _three_lots(day, client)
    day.on(D(2024, 3, 5))  # the first two lots (150) have expired, the nightly run has not come yet
    before = _snapshot(client)
    with pytest.raises(ServiceError) as refused:
        points.points_redeem(
            client=client, points=100, description="x", reference="", idempotency_key="r", acting_user=owner
        )
    assert refused.value.code == LoyaltyError.INSUFFICIENT_POINTS
    assert _snapshot(client) == before
    # 80 can still be spent; the expired 150 go in an EXPIRE entry first
    points.points_redeem(
        client=client, points=80, description="x", reference="", idempotency_key="r", acting_user=owner
    )
    assert list(PointsEntry.objects.filter(wallet__client=client, points__lt=0).values_list("kind", "points")) == [
        ("redeem", -80),
        ("expire", -150),
    ]
    assert _agrees(client) == 0


def test_money_off_is_the_salon_value_of_the_points_rounded_down(day, owner):
    loyalty_settings_update(acting_user=None, points_value_fen=150)
    client = a_client()
    _earn(client, 1000, "a")
    result = points.points_redeem_for_money(
        client=client, points=333, reference="bill:9", idempotency_key="m", acting_user=owner
    )
    assert (result.value, result.entry.points, result.entry.description) == (499, -333, "Money off ¥4.99")
    assert points.points_value(100) == 150
    loyalty_settings_update(acting_user=None, points_value_fen=1)
    with pytest.raises(ServiceError) as refused:
        points.points_redeem_for_money(client=client, points=99, reference="", idempotency_key="m2", acting_user=owner)
    assert refused.value.code == LoyaltyError.POINTS_TOO_FEW
    assert _agrees(client) == 667


def test_a_lost_card_blocks_points_too(day, owner):
    client = a_client()
    _earn(client, 100, "a")
    card = cards.member_card_issue(client=client, acting_user=owner)
    cards.member_card_report_lost(card=card, reason="丢了", acting_user=owner)
    with pytest.raises(ServiceError) as refused:
        points.points_redeem(
            client=client, points=10, description="x", reference="", idempotency_key="r", acting_user=owner
        )
    assert refused.value.code == LoyaltyError.CARD_LOST
    assert _agrees(client) == 100


def test_redemption_code_rule(day, in_alpha):
    # given the salon requires the client's code
    loyalty_settings_update(acting_user=None, require_redemption_code=True)
    desk = make_staff(in_alpha, role="front_desk", username="desk")
    manager = make_staff(in_alpha, role="manager", username="boss")
    client = a_client()
    _earn(client, 100, "a")
    before = _snapshot(client)

    def redeem(user, verification, key):
        return points.points_redeem(
            client=client,
            points=10,
            description="x",
            reference="",
            idempotency_key=key,
            acting_user=user,
            verification=verification,
        )

    # when the front desk redeems without a code, or overrides it, it is refused
    for verification, code in (
        (None, LoyaltyError.CODE_REQUIRED),
        (Verification(override_reason="熟客"), LoyaltyError.PERMISSION_DENIED),
    ):
        with pytest.raises(ServiceError) as refused:
            redeem(desk, verification, "r1")
        assert refused.value.code == code
    assert _snapshot(client) == before
    # then with the code, or a manager's override (audited), it goes through
    redeem(desk, Verification(code_verified=True), "r1")
    redeem(manager, Verification(override_reason="客户手机没电"), "r2")
    override = AuditEntry.objects.get(action="loyalty.redemption_code_overridden")
    assert (override.actor, override.data["what"], override.data["reason"]) == (manager, "points", "客户手机没电")
    assert _agrees(client) == 80


# --- reversals -------------------------------------------------------------------------------------------


def test_giving_back_a_redemption_restores_the_original_lots_once(day, owner):
    # given 120 redeemed from the 100-point lot and 20 of the 50-point lot
    client = a_client()
    _three_lots(day, client)
    redemption = points.points_redeem(
        client=client, points=120, description="x", reference="bill:5", idempotency_key="r", acting_user=owner
    )
    # when the bill is refunded
    given_back = points.points_redeem_reverse(entry=redemption, idempotency_key="rr", acting_user=owner)
    # then the points return with the dates of the lots they came from
    assert [(e.kind, e.points, e.idempotency_key, e.reverses_id) for e in given_back] == [
        ("redeem_reversal", 100, "rr", redemption.pk),
        ("redeem_reversal", 20, "rr:2", redemption.pk),
    ]
    restored = [lot for lot in _lots(client) if lot[2] != lot[3] or lot[2] in (100, 20)]
    assert (D(2023, 1, 10), D(2024, 1, 10), 100, 100) in restored
    assert (D(2023, 3, 1), D(2024, 3, 1), 20, 20) in restored
    assert _agrees(client) == 230
    # and a replay returns the same entries, another attempt is refused
    assert [e.pk for e in points.points_redeem_reverse(entry=redemption, idempotency_key="rr")] == [
        e.pk for e in given_back
    ]
    with pytest.raises(ServiceError) as refused:
        points.points_redeem_reverse(entry=redemption, idempotency_key="rr-again")
    assert (refused.value.code, refused.value.status) == (LoyaltyError.ALREADY_REVERSED, 409)
    with pytest.raises(ServiceError) as refused:
        points.points_redeem_reverse(entry=PointsEntry.objects.get(idempotency_key="a"), idempotency_key="x")
    assert refused.value.code == LoyaltyError.NOT_A_REDEMPTION
    assert _agrees(client) == 230


def test_the_lots_history_is_replayed_through_expiry_reversals_and_adjustments(day, owner):
    # given a history with every kind of change before and after the redemption
    client = a_client()
    _three_lots(day, client)  # 100 (2023-01-10), 50 (2023-03-01), 80 (2023-06-01)
    earned_c = PointsEntry.objects.get(idempotency_key="c")
    points.points_earn_reverse(entry=earned_c, idempotency_key="er", points=30)  # c: 50 left
    points.points_adjust(client=client, points=-60, reason="更正", idempotency_key="adj", acting_user=owner)  # a: 40
    points.points_expire(today=D(2024, 1, 11))  # a's 40 expire
    day.on(D(2024, 1, 20))
    redemption = points.points_redeem(
        client=client, points=70, description="x", reference="", idempotency_key="r", acting_user=owner
    )  # b: 50 → 0, c: 50 → 30
    _earn(client, 10, "d")
    # when the redemption is given back
    given_back = points.points_redeem_reverse(entry=redemption, idempotency_key="rr")
    # then it returns 50 with b's dates and 20 with c's dates
    assert [(e.points, e.lot.earned_on, e.lot.expires_on) for e in given_back] == [
        (50, D(2023, 3, 1), D(2024, 3, 1)),
        (20, D(2023, 6, 1), D(2024, 6, 1)),
    ]
    assert _agrees(client) == 30 + 10 + 70


def test_taking_back_earned_points_never_goes_below_zero(day, owner):
    client = a_client()
    earned = points.points_earn_for_spend(client=client, amount_spent=10000, reference="bill:1", idempotency_key="e")
    points.points_redeem(
        client=client, points=70, description="x", reference="", idempotency_key="r", acting_user=owner
    )
    taken = points.points_earn_reverse(entry=earned, idempotency_key="back")
    assert (taken.kind, taken.points, taken.reverses, taken.reference) == ("earn_reversal", -30, earned, "bill:1")
    assert points.points_earn_reverse(entry=earned, idempotency_key="back").pk == taken.pk
    assert points.points_earn_reverse(entry=earned, idempotency_key="back-2") is None
    with pytest.raises(ServiceError) as refused:
        points.points_earn_reverse(entry=PointsEntry.objects.get(idempotency_key="r"), idempotency_key="x")
    assert refused.value.code == LoyaltyError.NOT_AN_EARNING
    assert _agrees(client) == 0


# --- adjustments -----------------------------------------------------------------------------------------


def test_adjustments_need_adjust_balances_a_reason_and_are_audited(day, in_alpha, owner):
    desk = make_staff(in_alpha, role="front_desk", username="desk")
    client = a_client()
    _earn(client, 50, "a")
    before = _snapshot(client)
    for user, reason, amount, code in (
        (desk, "r", 10, LoyaltyError.PERMISSION_DENIED),
        (owner, " ", 10, LoyaltyError.REASON_REQUIRED),
        (owner, "r", 0, LoyaltyError.INVALID_POINTS),
        (owner, "r", -51, LoyaltyError.INSUFFICIENT_POINTS),
    ):
        with pytest.raises(ServiceError) as refused:
            points.points_adjust(client=client, points=amount, reason=reason, idempotency_key="k", acting_user=user)
        assert refused.value.code == code
    assert _snapshot(client) == before
    added = points.points_adjust(client=client, points=20, reason="补录", idempotency_key="k1", acting_user=owner)
    taken = points.points_adjust(client=client, points=-60, reason="更正", idempotency_key="k2", acting_user=owner)
    assert (added.points, added.description, taken.points, taken.balance_after) == (20, "补录", -60, 10)
    assert _lots(client) == [(D(2024, 1, 10), D(2025, 1, 10), 50, 0), (D(2024, 1, 10), D(2025, 1, 10), 20, 10)]
    audits = AuditEntry.objects.filter(action="loyalty.points_adjusted").order_by("id")
    assert [(a.data["points"], a.data["reason"]) for a in audits] == [(20, "补录"), (-60, "更正")]
    assert _agrees(client) == 10


# --- the invariant under any sequence -----------------------------------------------------------------------

OPERATIONS = st.lists(
    st.tuples(
        st.sampled_from(["earn", "spend", "redeem", "adjust", "expire", "earn_back", "redeem_back", "next_month"]),
        st.integers(min_value=1, max_value=400),
    ),
    min_size=1,
    max_size=25,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=OPERATIONS)
def test_balance_lots_and_ledger_always_agree(day, owner, monkeypatch, operations):
    # the replay of the lots' history must always match: its fallback would hide a divergence
    monkeypatch.setattr(points_lots, "_fallback", lambda *args, **kwargs: pytest.fail("lots replay diverged"))
    day.on(D(2023, 1, 1))
    with transaction.atomic():
        client = a_client()
        for index, (operation, amount) in enumerate(operations):
            key = f"op{index}"
            try:
                if operation == "earn":
                    _earn(client, amount, key)
                elif operation == "spend":
                    points.points_earn_for_spend(
                        client=client, amount_spent=amount * 100, reference="", idempotency_key=key
                    )
                elif operation == "redeem":
                    points.points_redeem(
                        client=client,
                        points=amount,
                        description="x",
                        reference="",
                        idempotency_key=key,
                        acting_user=owner,
                    )
                elif operation == "adjust":
                    points.points_adjust(
                        client=client,
                        points=amount if amount % 2 else -amount,
                        reason="r",
                        idempotency_key=key,
                        acting_user=owner,
                    )
                elif operation == "expire":
                    points.points_expire(today=day.today)
                elif operation == "next_month":
                    day.on(points.add_months(day.today, 1 + amount % 6))
                else:
                    kind = PointsEntryKind.REDEEM if operation == "redeem_back" else EARN
                    target = PointsEntry.objects.filter(wallet__client=client, kind=kind).order_by("?").first()
                    if target is not None and operation == "redeem_back":
                        before = _lots(client)
                        given_back = points.points_redeem_reverse(entry=target, idempotency_key=key)
                        assert sum(e.points for e in given_back) == -target.points
                        assert len(_lots(client)) == len(before) + len(given_back)
                    elif target is not None:
                        points.points_earn_reverse(entry=target, idempotency_key=key)
            except ServiceError as error:
                assert error.code in (LoyaltyError.INSUFFICIENT_POINTS, LoyaltyError.ALREADY_REVERSED)
            _agrees(client)
        transaction.set_rollback(True)


# --- nightly tasks ----------------------------------------------------------------------------------------


def test_nightly_tasks_run_in_every_salon_through_the_fan_out(alpha, beta, monkeypatch):
    from django_tenants.utils import schema_context

    from tenants.tasks import for_each_salon

    # given in each salon a client born on 1 March with 100 points earned on 2023-01-10
    monkeypatch.setattr(points, "salon_today", lambda: D(2023, 1, 10))
    held = {}
    for info in (alpha, beta):
        with schema_context(info.schema):
            loyalty_settings_update(acting_user=None, points_validity_months=12, birthday_points=20)
            held[info.schema] = a_client(birthday=D(1990, 3, 1))
            _earn(held[info.schema], 100, "a")
    # when beat fans the tasks out on 2024-03-01, twice
    monkeypatch.setattr(points, "salon_today", lambda: D(2024, 3, 1))
    for _run in range(2):
        assert for_each_salon.apply_async(args=["loyalty.points_expire"]).get() == 2
        assert for_each_salon.apply_async(args=["loyalty.birthday_points"]).get() == 2
    # then each salon expired its own 100 points once and gave its birthday points once
    for info in (alpha, beta):
        with schema_context(info.schema):
            client = held[info.schema]
            kinds = list(PointsEntry.objects.filter(wallet__client=client).order_by("id").values_list("kind", "points"))
            assert kinds == [("earn_referral", 100), ("expire", -100), ("earn_birthday", 20)]
            assert _agrees(client) == 20


def test_replaying_a_redemption_or_an_adjustment_applies_it_once(day, owner):
    client = a_client()
    _earn(client, 100, "a")
    first = points.points_redeem(
        client=client, points=30, description="x", reference="", idempotency_key="r", acting_user=owner
    )
    again = points.points_redeem(
        client=client, points=30, description="x", reference="", idempotency_key="r", acting_user=owner
    )
    adjusted = points.points_adjust(client=client, points=-5, reason="r", idempotency_key="j", acting_user=owner)
    assert (
        points.points_adjust(client=client, points=-5, reason="r", idempotency_key="j", acting_user=owner) == adjusted
    )
    assert again.pk == first.pk
    before = _snapshot(client)
    for call in (
        lambda: points.points_redeem(
            client=client, points=31, description="x", reference="", idempotency_key="r", acting_user=owner
        ),
        lambda: points.points_adjust(client=client, points=5, reason="r", idempotency_key="j", acting_user=owner),
        lambda: points.points_adjust(client=client, points=5, reason="r", idempotency_key="r", acting_user=owner),
    ):
        with pytest.raises(ServiceError) as refused:
            call()
        assert refused.value.code == LoyaltyError.KEY_REUSED
    assert _snapshot(client) == before
    assert _agrees(client) == 65


def test_a_technician_cannot_redeem_or_check_in(day, in_alpha):
    tech = make_staff(in_alpha, role="technician", username="tech")
    loyalty_settings_update(acting_user=None, check_in_points=5)
    client = a_client()
    _earn(client, 100, "a")
    before = _snapshot(client)
    for call in (
        lambda: points.points_redeem(
            client=client, points=10, description="x", reference="", idempotency_key="r", acting_user=tech
        ),
        lambda: points.points_check_in(client=client, acting_user=tech),
    ):
        with pytest.raises(ServiceError) as refused:
            call()
        assert (refused.value.code, refused.value.status) == (LoyaltyError.PERMISSION_DENIED, 403)
    assert _snapshot(client) == before
