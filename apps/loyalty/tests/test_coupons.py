"""Coupon templates, issuing (one, a list, by rule, on birthdays), redemption, give-back, void, statistics."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django_tenants.utils import schema_context

from apps.core.errors import ServiceError
from apps.core.models import AuditEntry
from apps.crm.models import Client
from apps.crm.services.tags import clients_tag, tag_create, tier_create
from apps.loyalty import selectors_coupons
from apps.loyalty.errors import LoyaltyError
from apps.loyalty.models import (
    Coupon,
    CouponIssueRule,
    CouponKind,
    CouponRuleTrigger,
    CouponSource,
    CouponStatus,
    CouponTemplate,
)
from apps.loyalty.services import coupon_rules, coupon_templates, coupons
from apps.loyalty.services.coupons import CODE_ALPHABET
from apps.loyalty.tests.coupon_helpers import (
    TODAY,
    a_product,
    a_service,
    a_template,
    give,
    other_line,
    salon_day_fixture,  # noqa: F401  (registers the salon_day fixture)
)
from apps.loyalty.tests.helpers import a_client
from tests.fixtures import make_staff, owner_of
from tests.races import race, salon_for_races

pytestmark = pytest.mark.usefixtures("salon_day")


def refused(code: LoyaltyError, call, *args, **kwargs) -> ServiceError:
    with pytest.raises(ServiceError) as error:
        call(*args, **kwargs)
    assert error.value.code == code, error.value.message
    return error.value


@pytest.fixture
def desk(in_alpha):
    return make_staff(in_alpha, role="front_desk", username="desk")


@pytest.fixture
def owner(in_alpha):
    return owner_of(in_alpha)


def deactivate(client: Client) -> None:
    # There is no service that only deactivates a client (merging and erasure do it among other things).
    Client.objects.filter(pk=client.pk).update(is_active=False)
    client.refresh_from_db()


# --- templates ---------------------------------------------------------------------------------


def test_a_template_of_each_kind_keeps_what_it_means(in_alpha, owner):
    cut, shampoo = a_service(), a_product()
    # when
    money = a_template(CouponKind.MONEY_OFF, value=5000, min_spend=30000, acting_user=owner)
    trial = a_template(CouponKind.SERVICE_TRIAL, value=0, eligible_services=[cut], eligible_products=[shampoo])
    products = a_template(CouponKind.PRODUCT_DISCOUNT, value=30, eligible_products=[shampoo.pk], max_discount=2000)
    gift = a_template(CouponKind.GIFT, gift="Hair clip", value=999, max_discount=100)
    # then
    assert (money.value, money.min_spend, money.max_discount) == (5000, 30000, None)
    assert list(trial.eligible_services.all()) == [cut]
    assert list(trial.eligible_products.all()) == []  # a trial is for services
    assert (list(products.eligible_products.all()), products.max_discount) == ([shampoo], 2000)
    assert (gift.value, gift.gift, gift.max_discount) == (0, "Hair clip", None)
    entry = AuditEntry.objects.get(action="loyalty.coupon_template.created", target_id=str(money.pk))
    assert (entry.data["value"], entry.data["min_spend"], entry.actor_id) == (5000, 30000, owner.pk)


@pytest.mark.parametrize(
    ("values", "code", "field"),
    [
        ({"kind": CouponKind.MONEY_OFF, "value": 0}, LoyaltyError.COUPON_INVALID_VALUE, "value"),
        ({"kind": CouponKind.MONEY_OFF, "value": 5000, "min_spend": 3000}, LoyaltyError.COUPON_INVALID_VALUE, "value"),
        ({"kind": CouponKind.PERCENTAGE, "value": 0}, LoyaltyError.COUPON_INVALID_VALUE, "value"),
        ({"kind": CouponKind.PERCENTAGE, "value": 100}, LoyaltyError.COUPON_INVALID_VALUE, "value"),
        ({"kind": CouponKind.PERCENTAGE, "value": "20"}, LoyaltyError.COUPON_INVALID_VALUE, "value"),
        (
            {"kind": CouponKind.PERCENTAGE, "value": 20, "max_discount": 0},
            LoyaltyError.COUPON_INVALID_VALUE,
            "max_discount",
        ),
        ({"kind": CouponKind.SERVICE_TRIAL, "value": -1, "services": True}, LoyaltyError.COUPON_INVALID_VALUE, "value"),
        ({"kind": CouponKind.SERVICE_TRIAL, "value": 0}, LoyaltyError.COUPON_ITEMS_REQUIRED, "eligible_services"),
        (
            {"kind": CouponKind.PRODUCT_DISCOUNT, "value": 100, "products": True},
            LoyaltyError.COUPON_INVALID_VALUE,
            "value",
        ),
        ({"kind": CouponKind.PRODUCT_DISCOUNT, "value": 20}, LoyaltyError.COUPON_ITEMS_REQUIRED, "eligible_products"),
        ({"kind": CouponKind.GIFT, "gift": "  "}, LoyaltyError.COUPON_GIFT_REQUIRED, "gift"),
        ({"kind": "cashback", "value": 10}, LoyaltyError.COUPON_INVALID_KIND, "kind"),
        ({"name": " ", "value": 10}, LoyaltyError.NAME_REQUIRED, "name"),
        ({"name": "x" * 101, "value": 10}, LoyaltyError.TEXT_TOO_LONG, "name"),
        ({"value": 10, "valid_until": TODAY}, LoyaltyError.INVALID_WINDOW, "valid_days"),
        ({"value": 10, "valid_days": None}, LoyaltyError.INVALID_WINDOW, "valid_until"),
        ({"value": 10, "valid_days": 0}, LoyaltyError.COUPON_INVALID_VALUE, "valid_days"),
        (
            {"value": 10, "valid_days": None, "valid_from": TODAY, "valid_until": TODAY - datetime.timedelta(days=1)},
            LoyaltyError.INVALID_WINDOW,
            "valid_until",
        ),
        ({"value": 10, "max_issued": 0}, LoyaltyError.COUPON_INVALID_VALUE, "max_issued"),
        ({"value": 10, "eligible_services": [999_999]}, LoyaltyError.NOT_FOUND, "eligible_services"),
        ({"value": 10, "min_spend": -1}, LoyaltyError.INVALID_AMOUNT, "min_spend"),
    ],
)
def test_a_template_that_does_not_suit_its_kind_is_refused(in_alpha, values, code, field):
    values = {"kind": CouponKind.MONEY_OFF, "name": "Coupon", "valid_days": 30, **values}
    if values.pop("services", False):
        values["eligible_services"] = [a_service()]
    if values.pop("products", False):
        values["eligible_products"] = [a_product()]
    error = refused(code, coupon_templates.coupon_template_create, acting_user=None, **values)
    assert error.field == field
    assert CouponTemplate.objects.count() == 0


def test_only_loyalty_managers_define_coupons(in_alpha, desk):
    refused(
        LoyaltyError.PERMISSION_DENIED,
        coupon_templates.coupon_template_create,
        name="¥50 off",
        kind=CouponKind.MONEY_OFF,
        value=5000,
        valid_days=30,
        acting_user=desk,
    )
    assert CouponTemplate.objects.count() == 0


def test_updating_a_template_is_audited_and_keeps_issued_coupons_consistent(in_alpha, owner):
    template = a_template(value=5000, max_issued=10)
    give(template, a_client())
    give(template, a_client("李娜", "13900139000"))
    # when
    coupon_templates.coupon_template_update(template=template, value=3000, name="¥30 off", acting_user=owner)
    # then
    template.refresh_from_db()
    assert (template.value, template.name, template.valid_days) == (3000, "¥30 off", 30)
    entry = AuditEntry.objects.get(action="loyalty.coupon_template.updated")
    assert entry.data == {"value": [5000, 3000], "name": ["money_off coupon", "¥30 off"]}
    # and the kind and a limit below the issued count are refused, changing nothing
    refused(
        LoyaltyError.COUPON_INVALID_KIND,
        coupon_templates.coupon_template_update,
        template=template,
        kind=CouponKind.PERCENTAGE,
        value=20,
        acting_user=owner,
    )
    refused(
        LoyaltyError.COUPON_LIMIT_BELOW_ISSUED,
        coupon_templates.coupon_template_update,
        template=template,
        max_issued=1,
        acting_user=owner,
    )
    template.refresh_from_db()
    assert (template.kind, template.value, template.max_issued) == (CouponKind.MONEY_OFF, 3000, 10)


# --- issuing -----------------------------------------------------------------------------------------


def test_an_issued_coupon_has_a_code_and_its_validity(in_alpha, owner):
    client = a_client()
    days = a_template(valid_days=30)
    window = a_template(valid_days=None, valid_from=datetime.date(2025, 3, 1), valid_until=datetime.date(2025, 5, 31))
    # when
    first = coupons.coupon_issue(template=days, client=client, issue_key="k1", acting_user=owner)
    second = coupons.coupon_issue(template=window, client=client, issue_key="k2", acting_user=owner)
    # then
    assert len(first.code) == 10 and set(first.code) <= set(CODE_ALPHABET)
    assert first.code != second.code
    assert (first.valid_from, first.valid_until) == (TODAY, datetime.date(2025, 4, 8))
    assert (second.valid_from, second.valid_until) == (datetime.date(2025, 3, 1), datetime.date(2025, 5, 31))
    assert (first.status, first.source, first.issued_by) == (CouponStatus.AVAILABLE, CouponSource.MANUAL, owner)
    assert CouponTemplate.objects.get(pk=days.pk).issued_count == 1
    assert AuditEntry.objects.filter(action="loyalty.coupon.issued").count() == 2


def test_issuing_again_with_the_same_key_returns_the_same_coupon(in_alpha):
    template, client = a_template(), a_client()
    first = give(template, client, key="welcome:1")
    again = give(template, client, key="welcome:1")
    assert again.pk == first.pk
    assert (Coupon.objects.count(), CouponTemplate.objects.get(pk=template.pk).issued_count) == (1, 1)
    # the same key for someone else is a mistake, not a replay
    refused(LoyaltyError.KEY_REUSED, give, template, a_client("李娜", "13900139000"), key="welcome:1")
    assert Coupon.objects.count() == 1


def test_issuing_is_refused_with_its_reason_and_changes_nothing(in_alpha, salon_day, desk):
    client = a_client()
    limited = a_template(max_issued=1, name="Only one")
    give(limited, client, key="first")
    inactive = a_template(is_active=False, name="Retired")
    ended = a_template(valid_days=None, valid_from=datetime.date(2025, 1, 1), valid_until=datetime.date(2025, 2, 28))
    gone = a_client("李娜", "13900139000")
    deactivate(gone)
    # then
    refused(LoyaltyError.COUPON_LIMIT_REACHED, give, limited, client, key="second")
    refused(LoyaltyError.COUPON_TEMPLATE_INACTIVE, give, inactive, client)
    refused(LoyaltyError.COUPON_WINDOW_ENDED, give, ended, client)
    refused(LoyaltyError.CLIENT_INACTIVE, give, a_template(name="Any"), gone)
    refused(
        LoyaltyError.PERMISSION_DENIED,
        coupons.coupon_issue,
        template=limited,
        client=client,
        issue_key="desk",
        acting_user=desk,
    )
    assert Coupon.objects.count() == 1
    assert list(CouponTemplate.objects.order_by("pk").values_list("issued_count", flat=True)) == [1, 0, 0, 0]


def test_bulk_issue_to_a_tag_skips_who_already_got_one(in_alpha, owner):
    # given three active clients tagged VIP and one who left
    vip = tag_create(name="VIP", acting_user=None)
    people = [
        a_client(name, phone) for name, phone in [("A", "13800000001"), ("B", "13800000002"), ("C", "13800000003")]
    ]
    left = a_client("D", "13800000004")
    clients_tag(client_ids=[c.pk for c in [*people, left]], tag=vip, acting_user=None)
    deactivate(left)
    template = a_template(max_issued=5)
    # when
    tagged = selectors_coupons.active_clients_tagged(vip)
    issued = coupons.coupons_issue_bulk(template=template, clients=tagged, acting_user=owner, batch_key="spring")
    # then
    assert (tagged, issued) == ([c.pk for c in people], 3)
    assert sorted(Coupon.objects.values_list("client_id", flat=True)) == [c.pk for c in people]
    assert set(Coupon.objects.values_list("source", flat=True)) == {CouponSource.BULK}
    # and resubmitting the list issues nothing more; a newcomer to the tag gets one
    assert coupons.coupons_issue_bulk(template=template, clients=people, acting_user=owner, batch_key="spring") == 0
    newcomer = a_client("E", "13800000005")
    clients_tag(client_ids=[newcomer.pk], tag=vip, acting_user=None)
    tagged = selectors_coupons.active_clients_tagged(vip)
    assert coupons.coupons_issue_bulk(template=template, clients=tagged, acting_user=owner, batch_key="spring") == 1
    assert CouponTemplate.objects.get(pk=template.pk).issued_count == 4
    assert AuditEntry.objects.filter(action="loyalty.coupons.issued_bulk").count() == 2


def test_bulk_issue_is_all_or_nothing(in_alpha, owner):
    template = a_template(max_issued=2)
    people = [
        a_client(name, phone) for name, phone in [("A", "13800000001"), ("B", "13800000002"), ("C", "13800000003")]
    ]
    error = refused(
        LoyaltyError.COUPON_LIMIT_REACHED,
        coupons.coupons_issue_bulk,
        template=template,
        clients=people,
        acting_user=owner,
        batch_key="b",
    )
    assert error.message == "Only 2 more coupons of this kind may be issued."
    refused(
        LoyaltyError.NO_RECIPIENTS,
        coupons.coupons_issue_bulk,
        template=template,
        clients=[],
        acting_user=owner,
        batch_key="b",
    )
    assert (Coupon.objects.count(), CouponTemplate.objects.get(pk=template.pk).issued_count) == (0, 0)


# --- rules -----------------------------------------------------------------------------------------


def test_a_rule_fires_once_per_occasion(in_alpha):
    welcome = a_template(name="Welcome")
    coupon_rules.coupon_rule_create(template=welcome, trigger=CouponRuleTrigger.NEW_MEMBER, acting_user=None)
    client = a_client()
    # when the card is issued, and the same event is reported again
    first = coupon_rules.coupon_rules_fire(trigger=CouponRuleTrigger.NEW_MEMBER, client=client, occasion="card:1")
    again = coupon_rules.coupon_rules_fire(trigger=CouponRuleTrigger.NEW_MEMBER, client=client, occasion="card:1")
    # then one coupon
    assert [c.pk for c in again] == [c.pk for c in first]
    assert (len(first), first[0].source) == (1, CouponSource.RULE)
    # and a new card is a new occasion
    coupon_rules.coupon_rules_fire(trigger=CouponRuleTrigger.NEW_MEMBER, client=client, occasion="card:2")
    assert Coupon.objects.count() == 2


def test_tier_and_top_up_rules_fire_only_when_their_condition_holds(in_alpha):
    gold, silver = (
        tier_create(name="Gold", rank=2, acting_user=None),
        tier_create(name="Silver", rank=1, acting_user=None),
    )
    coupon_rules.coupon_rule_create(
        template=a_template(name="Gold gift"), trigger=CouponRuleTrigger.TIER_REACHED, tier=gold, acting_user=None
    )
    coupon_rules.coupon_rule_create(
        template=a_template(name="Top-up gift"), trigger=CouponRuleTrigger.TOP_UP, min_top_up=100000, acting_user=None
    )
    client = a_client()
    fire = coupon_rules.coupon_rules_fire
    assert fire(trigger=CouponRuleTrigger.TIER_REACHED, client=client, occasion="t1", tier=silver) == []
    assert len(fire(trigger=CouponRuleTrigger.TIER_REACHED, client=client, occasion="t2", tier=gold)) == 1
    assert fire(trigger=CouponRuleTrigger.TOP_UP, client=client, occasion="u1", top_up_amount=99999) == []
    assert len(fire(trigger=CouponRuleTrigger.TOP_UP, client=client, occasion="u2", top_up_amount=100000)) == 1
    assert sorted(Coupon.objects.values_list("template__name", flat=True)) == ["Gold gift", "Top-up gift"]


def test_a_rule_whose_coupons_ran_out_lets_the_event_go_on(in_alpha):
    template = a_template(max_issued=1)
    coupon_rules.coupon_rule_create(template=template, trigger=CouponRuleTrigger.NEW_MEMBER, acting_user=None)
    coupon_rules.coupon_rules_fire(trigger=CouponRuleTrigger.NEW_MEMBER, client=a_client(), occasion="card:1")
    other = a_client("李娜", "13900139000")
    assert coupon_rules.coupon_rules_fire(trigger=CouponRuleTrigger.NEW_MEMBER, client=other, occasion="card:2") == []
    assert Coupon.objects.count() == 1


def test_rule_changes_are_checked_and_audited(in_alpha, owner, desk):
    template = a_template()
    refused(
        LoyaltyError.COUPON_RULE_TIER_REQUIRED,
        coupon_rules.coupon_rule_create,
        template=template,
        trigger=CouponRuleTrigger.TIER_REACHED,
        acting_user=owner,
    )
    refused(
        LoyaltyError.COUPON_INVALID_TRIGGER,
        coupon_rules.coupon_rule_create,
        template=template,
        trigger="anniversary",
        acting_user=owner,
    )
    refused(
        LoyaltyError.PERMISSION_DENIED,
        coupon_rules.coupon_rule_create,
        template=template,
        trigger=CouponRuleTrigger.BIRTHDAY,
        acting_user=desk,
    )
    assert CouponIssueRule.objects.count() == 0
    rule = coupon_rules.coupon_rule_create(
        template=template, trigger=CouponRuleTrigger.TOP_UP, min_top_up=50000, acting_user=owner
    )
    rule = coupon_rules.coupon_rule_update(rule=rule, is_active=False, acting_user=owner)
    assert (rule.is_active, rule.min_top_up) == (False, 50000)
    assert AuditEntry.objects.filter(action__startswith="loyalty.coupon_rule.").count() == 2


def test_birthday_coupons_go_to_clients_born_this_month_once(in_alpha, salon_day):
    # given a birthday rule, a client born in March and one born in April
    coupon_rules.coupon_rule_create(
        template=a_template(name="Birthday"), trigger=CouponRuleTrigger.BIRTHDAY, acting_user=None
    )
    march = a_client("三月", "13800000001", birthday=datetime.date(1990, 3, 18))
    a_client("四月", "13800000002", birthday=datetime.date(1992, 4, 2))
    # when the month begins (and the nightly run repeats)
    salon_day(datetime.date(2025, 3, 1))
    assert coupon_rules.coupons_birthday_issue(today=datetime.date(2025, 3, 1)) == 1
    assert coupon_rules.coupons_birthday_issue(today=datetime.date(2025, 3, 2)) == 0
    # then
    coupon = Coupon.objects.get()
    assert (coupon.client, coupon.source, coupon.issue_key.endswith(":2025-03")) == (march, CouponSource.RULE, True)
    # and next year the client gets another
    salon_day(datetime.date(2026, 3, 1))
    assert coupon_rules.coupons_birthday_issue(today=datetime.date(2026, 3, 1)) == 1


def test_the_nightly_task_issues_birthday_coupons_in_every_salon(alpha, beta, salon_day):
    from tenants.tasks import for_each_salon

    # given a birthday rule and a client born in March in each salon
    for info in (alpha, beta):
        with schema_context(info.schema):
            coupon_rules.coupon_rule_create(
                template=a_template(name="Birthday"), trigger=CouponRuleTrigger.BIRTHDAY, acting_user=None
            )
            a_client("三月", "13800000001", birthday=datetime.date(1990, 3, 18))
    # when beat's fan-out runs on the 1st of March
    salon_day(datetime.date(2025, 3, 1))
    for_each_salon.apply_async(args=["loyalty.coupons_birthday_issue"]).get()
    # then each salon's client has one
    for info in (alpha, beta):
        with schema_context(info.schema):
            assert Coupon.objects.get().issue_key.endswith(":2025-03")


# --- redeeming -------------------------------------------------------------------------------------


def test_redeeming_records_the_discount_and_a_replay_returns_it(in_alpha, owner):
    client = a_client()
    coupon = give(a_template(value=5000, min_spend=30000), client)
    lines = [other_line(38800)]
    # when
    used = coupons.coupon_redeem(coupon=coupon, client=client, lines=lines, reference="bill:7", acting_user=owner)
    again = coupons.coupon_redeem(coupon=coupon, client=client, lines=lines, reference="bill:7", acting_user=owner)
    # then
    assert (used.status, used.discount, used.redeemed_reference, used.redeemed_by) == (
        CouponStatus.REDEEMED,
        5000,
        "bill:7",
        owner,
    )
    assert used.redeemed_at is not None
    assert (again.pk, again.redeemed_at) == (used.pk, used.redeemed_at)
    # and another bill cannot use it
    refused(
        LoyaltyError.COUPON_NOT_AVAILABLE,
        coupons.coupon_redeem,
        coupon=coupon,
        client=client,
        lines=lines,
        reference="bill:8",
        acting_user=owner,
    )
    assert Coupon.objects.get(pk=coupon.pk).redeemed_reference == "bill:7"


def _assert_unused(coupon: Coupon) -> None:
    coupon = Coupon.objects.get(pk=coupon.pk)
    assert (coupon.status, coupon.discount, coupon.redeemed_at, coupon.redeemed_reference) == (
        CouponStatus.AVAILABLE,
        0,
        None,
        "",
    )


def test_each_redemption_refusal_names_its_reason_and_changes_nothing(in_alpha, salon_day, owner):
    client, stranger = a_client(), a_client("李娜", "13900139000")
    plain = give(a_template(value=5000, min_spend=30000, name="满300减50"), client)
    stackable = a_template(value=1000, stackable=True, one_per_bill=True, name="¥10 off, combines")
    first, second = give(stackable, client, key="s1"), give(stackable, client, key="s2")
    voided = coupons.coupon_void(coupon=give(a_template(name="Void me"), client), reason="Mistake", acting_user=owner)

    def redeem(coupon, *, who=client, amount=40000, others=()):
        return coupons.coupon_redeem(
            coupon=coupon,
            client=who,
            lines=[other_line(amount)],
            reference="bill:1",
            acting_user=owner,
            other_coupons=others,
        )

    refused(LoyaltyError.COUPON_OTHER_CLIENT, redeem, plain, who=stranger)
    refused(LoyaltyError.COUPON_MIN_SPEND, redeem, plain, amount=29999)
    refused(LoyaltyError.COUPON_NOT_STACKABLE, redeem, plain, others=[first])
    refused(LoyaltyError.COUPON_NOT_STACKABLE, redeem, first, others=[plain])
    refused(LoyaltyError.COUPON_ONE_PER_BILL, redeem, first, others=[second])
    refused(LoyaltyError.COUPON_NOT_AVAILABLE, redeem, voided)
    refused(
        LoyaltyError.KEY_REQUIRED,
        coupons.coupon_redeem,
        coupon=plain,
        client=client,
        lines=[],
        reference=" ",
        acting_user=owner,
    )
    salon_day(datetime.date(2025, 4, 9))
    refused(LoyaltyError.COUPON_EXPIRED, redeem, plain)
    for coupon in (plain, first, second):
        _assert_unused(coupon)


def test_stacked_coupons_never_take_off_more_than_the_bill(in_alpha, owner):
    # given two ¥30 coupons that combine, on a ¥40 bill
    client = a_client()
    stack = a_template(value=3000, stackable=True, one_per_bill=False)
    first, second = give(stack, client, key="a"), give(stack, client, key="b")
    lines = [other_line(4000)]
    # when the till redeems them one after the other, the second first
    coupons.coupon_redeem(
        coupon=second, client=client, lines=lines, reference="bill:1", acting_user=owner, other_coupons=[first]
    )
    coupons.coupon_redeem(
        coupon=first, client=client, lines=lines, reference="bill:1", acting_user=owner, other_coupons=[second]
    )
    # then the older takes its ¥30 and the other the ¥10 left, whichever came first
    assert list(Coupon.objects.order_by("pk").values_list("discount", flat=True)) == [3000, 1000]


def test_a_refunded_bill_gives_the_coupon_back_while_it_is_valid(in_alpha, salon_day, owner):
    client = a_client()
    template = a_template(value=5000)
    kept, late = give(template, client, key="kept"), give(template, client, key="late")
    for coupon, bill in ((kept, "bill:1"), (late, "bill:2")):
        coupons.coupon_redeem(coupon=coupon, client=client, lines=[other_line(9000)], reference=bill, acting_user=owner)
    # when bill 1 is refunded the same month
    back = coupons.coupon_redeem_reverse(coupon=kept, reference="bill:1", acting_user=owner)
    assert again_unchanged(kept, "bill:1", owner) == back.status == CouponStatus.AVAILABLE
    _assert_unused(kept)
    # and bill 2 after the coupon expired: it is voided, never to be used
    refused(
        LoyaltyError.COUPON_NOT_REDEEMED,
        coupons.coupon_redeem_reverse,
        coupon=late,
        reference="bill:9",
        acting_user=owner,
    )
    salon_day(datetime.date(2025, 5, 1))
    assert coupons.coupon_redeem_reverse(coupon=late, acting_user=owner).status == CouponStatus.VOIDED
    assert AuditEntry.objects.filter(action="loyalty.coupon.redemption_reversed").count() == 2


def again_unchanged(coupon: Coupon, reference: str, user) -> str:
    return coupons.coupon_redeem_reverse(coupon=coupon, reference=reference, acting_user=user).status


def test_voiding_needs_a_reason_and_a_manager(in_alpha, owner, desk):
    client = a_client()
    coupon = give(a_template(), client)
    refused(LoyaltyError.REASON_REQUIRED, coupons.coupon_void, coupon=coupon, reason=" ", acting_user=owner)
    refused(LoyaltyError.PERMISSION_DENIED, coupons.coupon_void, coupon=coupon, reason="x", acting_user=desk)
    _assert_unused(coupon)
    voided = coupons.coupon_void(coupon=coupon, reason="Given by mistake", acting_user=owner)
    assert voided.status == CouponStatus.VOIDED
    assert AuditEntry.objects.get(action="loyalty.coupon.voided").data["reason"] == "Given by mistake"
    used = give(a_template(name="Used"), client)
    coupons.coupon_redeem(coupon=used, client=client, lines=[other_line(9000)], reference="b", acting_user=owner)
    refused(LoyaltyError.COUPON_NOT_AVAILABLE, coupons.coupon_void, coupon=used, reason="x", acting_user=owner)


# --- statistics ------------------------------------------------------------------------------------


def test_statistics_per_template(in_alpha, salon_day, owner):
    template = a_template(value=5000, valid_days=10)
    other = a_template(name="Other")
    people = [
        a_client(name, phone)
        for name, phone in [("A", "13800000001"), ("B", "13800000002"), ("C", "13800000003"), ("D", "13800000004")]
    ]
    issued = [give(template, person) for person in people]
    give(other, people[0])
    coupons.coupon_redeem(
        coupon=issued[0], client=people[0], lines=[other_line(8000)], reference="b1", acting_user=owner
    )
    coupons.coupon_void(coupon=issued[1], reason="Duplicate", acting_user=owner)
    # when ten days later two are unused: both expired
    salon_day(datetime.date(2025, 3, 20))
    stats = selectors_coupons.coupon_template_stats(template)
    # then
    assert (stats.issued, stats.redeemed, stats.voided, stats.expired_unused, stats.total_discount) == (
        4,
        1,
        1,
        2,
        5000,
    )
    assert stats.redemption_rate == Decimal("25.0")
    assert selectors_coupons.coupon_template_stats(other).issued == 1


# --- concurrency -----------------------------------------------------------------------------------
# Real threads with their own connections and committed transactions, in a salon made for the race and
# removed afterwards (alpha and beta keep their rolled-back tests).

THREADS = 8


@pytest.fixture(scope="module")
def race_salon(two_salons, django_db_blocker):
    with django_db_blocker.unblock(), salon_for_races("coupon-race") as schema:
        yield schema


def test_concurrent_issues_never_pass_the_limit(race_salon):
    # given a template limited to 5 and eight clients
    with schema_context(race_salon):
        template = a_template(max_issued=5, name="Opening week")
        people = [a_client(f"Racer {i}", f"1380000{i:04d}") for i in range(THREADS)]
    # when eight desks issue one each at the same moment
    outcomes = race(race_salon, THREADS, lambda i: give(template, people[i], key=f"race:{i}"))
    # then exactly five are issued and three refused by name
    issued = [o for o in outcomes if isinstance(o, Coupon)]
    refusals = [o for o in outcomes if not isinstance(o, Coupon)]
    assert len(issued) == 5
    assert all(isinstance(o, ServiceError) and o.code == LoyaltyError.COUPON_LIMIT_REACHED for o in refusals), refusals
    with schema_context(race_salon):
        assert Coupon.objects.filter(template=template).count() == 5
        assert CouponTemplate.objects.get(pk=template.pk).issued_count == 5


def test_concurrent_issues_with_one_key_give_one_coupon(race_salon):
    with schema_context(race_salon):
        template = a_template(name="Welcome")
        client = a_client("Only one", "13900009999")
    outcomes = race(race_salon, THREADS, lambda i: give(template, client, key="welcome:once"))
    assert all(isinstance(o, Coupon) for o in outcomes), outcomes
    assert len({o.pk for o in outcomes}) == 1
    with schema_context(race_salon):
        assert Coupon.objects.filter(template=template).count() == 1
        assert CouponTemplate.objects.get(pk=template.pk).issued_count == 1


def test_one_bulk_issue_submitted_at_once_issues_each_coupon_once(race_salon):
    with schema_context(race_salon):
        template = a_template(name="Spring list")
        people = [a_client(f"Bulk {i}", f"1390000{i:04d}") for i in range(3)]
    outcomes = race(
        race_salon,
        THREADS,
        lambda i: coupons.coupons_issue_bulk(template=template, clients=people, acting_user=None, batch_key="spring"),
    )
    assert all(isinstance(o, int) for o in outcomes), outcomes
    assert sum(outcomes) == 3
    with schema_context(race_salon):
        assert Coupon.objects.filter(template=template).count() == 3
        assert CouponTemplate.objects.get(pk=template.pk).issued_count == 3
