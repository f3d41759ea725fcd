"""Course cards (LOY-5): sold from templates, one session redeemed at a time (idempotent), sessions given
back, cards voided and extended; every refusal changes nothing."""

from __future__ import annotations

import datetime

import pytest

from apps.catalog import services as catalog
from apps.core.db import salon_today
from apps.core.errors import ServiceError
from apps.core.models import AuditEntry
from apps.crm.models import Client
from apps.loyalty.errors import LoyaltyError
from apps.loyalty.models import CourseCard, CourseCardBalance, CourseCardStatus, CourseRedemption, LoyaltySettings
from apps.loyalty.services import courses
from apps.loyalty.services._common import Verification
from apps.loyalty.tests.helpers import a_client
from tests.fixtures import make_staff


def a_service(name: str, price: int = 19800):
    return catalog.service_create(name=name, duration_minutes=60, price=price)


def a_template(*items, name: str = "面部护理10次卡", price: int = 168000, validity_days: int = 365):
    specs = [catalog.CourseCardItemSpec(service=service, sessions=sessions) for service, sessions in items]
    return catalog.course_card_template_create(name=name, price=price, validity_days=validity_days, items=specs)


@pytest.fixture
def facial(in_alpha):
    return a_service("Facial")


@pytest.fixture
def massage(in_alpha):
    return a_service("Massage")


@pytest.fixture
def card(in_alpha, facial, massage):
    """A sold card with 2 facials and 1 massage."""
    template = a_template((facial, 2), (massage, 1))
    return courses.course_card_sell(client=a_client(), template=template, idempotency_key="bill:1:line:1")


def left(card) -> dict[str, int]:
    return {
        b.service.name: b.sessions_left for b in CourseCardBalance.objects.filter(card=card).select_related("service")
    }


# --- sale ----------------------------------------------------------------------------------------


def test_selling_a_card_copies_the_template(in_alpha, facial, massage):
    # given
    desk = make_staff(in_alpha, role="front_desk", username="desk")
    template = a_template((facial, 10), (massage, 2), validity_days=180)
    client = a_client()
    # when
    card = courses.course_card_sell(
        client=client, template=template, idempotency_key="bill:7:1", reference="bill:7", acting_user=desk
    )
    # then
    card = CourseCard.objects.get(pk=card.pk)
    assert (card.client, card.template, card.name, card.price, card.status) == (
        client,
        template,
        "面部护理10次卡",
        168000,
        CourseCardStatus.ACTIVE,
    )
    assert (card.expires_on, card.reference, card.sold_by) == (
        salon_today() + datetime.timedelta(days=180),
        "bill:7",
        desk,
    )
    assert [(b.service, b.sessions_total, b.sessions_left) for b in card.balances.all()] == [
        (facial, 10, 10),
        (massage, 2, 2),
    ]


def test_replaying_a_sale_returns_the_same_card(in_alpha, facial):
    template = a_template((facial, 5))
    client = a_client()
    first = courses.course_card_sell(client=client, template=template, idempotency_key="k", price=150000)
    again = courses.course_card_sell(client=client, template=template, idempotency_key="k", price=150000)
    assert again.pk == first.pk
    assert (CourseCard.objects.count(), CourseCardBalance.objects.count()) == (1, 1)
    assert CourseCard.objects.get().price == 150000
    # the same key for another client's sale is refused
    other = a_client(name="李", phone="13900139000")
    with pytest.raises(ServiceError) as refused:
        courses.course_card_sell(client=other, template=template, idempotency_key="k")
    assert refused.value.code == LoyaltyError.KEY_REUSED
    assert CourseCard.objects.count() == 1


def test_a_card_may_be_given_free(in_alpha, facial):
    card = courses.course_card_sell(client=a_client(), template=a_template((facial, 1)), idempotency_key="k", price=0)
    assert card.price == 0


@pytest.mark.parametrize("case", ["inactive", "empty", "client_inactive", "negative_price", "no_key", "technician"])
def test_sale_refusals_create_nothing(in_alpha, facial, case):
    template = a_template((facial, 3))
    client = a_client()
    arguments = {"client": client, "template": template, "idempotency_key": "k", "acting_user": None}
    expected = {
        "inactive": LoyaltyError.TEMPLATE_INACTIVE,
        "empty": LoyaltyError.TEMPLATE_EMPTY,
        "client_inactive": LoyaltyError.CLIENT_INACTIVE,
        "negative_price": LoyaltyError.INVALID_AMOUNT,
        "no_key": LoyaltyError.KEY_REQUIRED,
        "technician": LoyaltyError.PERMISSION_DENIED,
    }[case]
    if case == "inactive":
        catalog.course_card_template_deactivate(template=template, acting_user=None)
    elif case == "empty":
        arguments["template"] = catalog.course_card_template_create(name="Empty", price=100, validity_days=30)
    elif case == "client_inactive":
        Client.objects.filter(pk=client.pk).update(is_active=False)
        arguments["client"] = Client.objects.get(pk=client.pk)
    elif case == "negative_price":
        arguments["price"] = -1
    elif case == "no_key":
        arguments["idempotency_key"] = "  "
    else:
        arguments["acting_user"] = make_staff(in_alpha, role="technician", username="tech")
    with pytest.raises(ServiceError) as refused:
        courses.course_card_sell(**arguments)
    assert refused.value.code == expected
    assert (CourseCard.objects.count(), CourseCardBalance.objects.count()) == (0, 0)


# --- redeeming -----------------------------------------------------------------------------------


def test_redeeming_one_session(card, facial, in_alpha):
    # given
    therapist = make_staff(in_alpha, role="technician", username="amy")
    desk = make_staff(in_alpha, role="front_desk", username="desk")
    # when
    redemption = courses.course_session_redeem(
        card=card,
        service=facial,
        idempotency_key="appt:5:facial",
        reference="bill:9",
        staff=therapist,
        acting_user=desk,
    )
    # then
    assert (redemption.sessions, redemption.sessions_left_after, redemption.staff, redemption.actor) == (
        1,
        1,
        therapist,
        desk,
    )
    assert (redemption.reference, redemption.balance.service) == ("bill:9", facial)
    assert left(card) == {"Facial": 1, "Massage": 1}


def test_redeeming_twice_with_one_key_uses_one_session(card, facial):
    first = courses.course_session_redeem(card=card, service=facial, idempotency_key="k1")
    again = courses.course_session_redeem(card=card, service=facial, idempotency_key="k1")
    assert again.pk == first.pk
    assert left(card) == {"Facial": 1, "Massage": 1}
    assert CourseRedemption.objects.count() == 1


def test_the_same_key_for_another_service_is_refused(card, facial, massage):
    courses.course_session_redeem(card=card, service=facial, idempotency_key="k1")
    with pytest.raises(ServiceError) as refused:
        courses.course_session_redeem(card=card, service=massage, idempotency_key="k1")
    assert refused.value.code == LoyaltyError.KEY_REUSED
    assert left(card) == {"Facial": 1, "Massage": 1}


def test_the_last_session_uses_the_card_up(card, facial, massage):
    courses.course_session_redeem(card=card, service=facial, idempotency_key="k1")
    courses.course_session_redeem(card=card, service=massage, idempotency_key="k2")
    # a service with none left is refused while the card has sessions of another
    with pytest.raises(ServiceError) as refused:
        courses.course_session_redeem(card=card, service=massage, idempotency_key="k3")
    assert refused.value.code == LoyaltyError.NO_SESSIONS_LEFT
    assert CourseCard.objects.get(pk=card.pk).status == CourseCardStatus.ACTIVE
    last = courses.course_session_redeem(card=card, service=facial, idempotency_key="k4")
    assert last.sessions_left_after == 0
    assert CourseCard.objects.get(pk=card.pk).status == CourseCardStatus.USED_UP
    with pytest.raises(ServiceError) as refused:
        courses.course_session_redeem(card=card, service=facial, idempotency_key="k5")
    assert refused.value.code == LoyaltyError.COURSE_CARD_NOT_ACTIVE
    assert CourseRedemption.objects.count() == 3


def test_a_service_not_on_the_card_is_refused(card, in_alpha):
    haircut = a_service("Cut")
    with pytest.raises(ServiceError) as refused:
        courses.course_session_redeem(card=card, service=haircut, idempotency_key="k1")
    assert (refused.value.code, refused.value.field) == (LoyaltyError.COURSE_SERVICE_NOT_ON_CARD, "service")
    assert not CourseRedemption.objects.exists()


def test_an_expired_card_is_refused_until_extended(card, facial, in_alpha):
    # given the card expired yesterday
    manager = make_staff(in_alpha, role="manager", username="mgr")
    CourseCard.objects.filter(pk=card.pk).update(expires_on=salon_today() - datetime.timedelta(days=1))
    # when / then
    with pytest.raises(ServiceError) as refused:
        courses.course_session_redeem(card=card, service=facial, idempotency_key="k1")
    assert refused.value.code == LoyaltyError.COURSE_CARD_EXPIRED
    assert left(card) == {"Facial": 2, "Massage": 1}
    # and the card expiring today still works once extended
    courses.course_card_extend(card=card, expires_on=salon_today(), reason="Goodwill", acting_user=manager)
    assert courses.course_session_redeem(card=card, service=facial, idempotency_key="k1").sessions_left_after == 1


class TestRedemptionCode:
    @pytest.fixture(autouse=True)
    def _codes_required(self, in_alpha):
        LoyaltySettings.objects.update_or_create(id=1, defaults={"require_redemption_code": True})

    def test_staff_need_the_code(self, card, facial, in_alpha):
        desk = make_staff(in_alpha, role="front_desk", username="desk")
        with pytest.raises(ServiceError) as refused:
            courses.course_session_redeem(card=card, service=facial, idempotency_key="k1", acting_user=desk)
        assert refused.value.code == LoyaltyError.CODE_REQUIRED
        with pytest.raises(ServiceError) as refused:
            courses.course_session_redeem(
                card=card,
                service=facial,
                idempotency_key="k1",
                acting_user=desk,
                verification=Verification(override_reason="Phone flat"),
            )
        assert refused.value.code == LoyaltyError.PERMISSION_DENIED
        assert left(card) == {"Facial": 2, "Massage": 1}
        verified = courses.course_session_redeem(
            card=card, service=facial, idempotency_key="k1", acting_user=desk, verification=Verification(True)
        )
        assert verified.sessions_left_after == 1

    def test_a_manager_override_is_audited(self, card, facial, in_alpha):
        manager = make_staff(in_alpha, role="manager", username="mgr")
        courses.course_session_redeem(
            card=card,
            service=facial,
            idempotency_key="k1",
            reference="bill:3",
            acting_user=manager,
            verification=Verification(override_reason="Phone flat"),
        )
        entry = AuditEntry.objects.get(action="loyalty.redemption_code_overridden")
        assert entry.data == {"what": "course_session", "reference": "bill:3", "reason": "Phone flat"}
        assert left(card) == {"Facial": 1, "Massage": 1}


# --- giving back ---------------------------------------------------------------------------------


def test_giving_a_session_back_once(card, facial, massage, in_alpha):
    # given the card used up
    manager = make_staff(in_alpha, role="manager", username="mgr")
    courses.course_session_redeem(card=card, service=facial, idempotency_key="k1")
    used = courses.course_session_redeem(card=card, service=facial, idempotency_key="k2")
    courses.course_session_redeem(card=card, service=massage, idempotency_key="k3")
    assert CourseCard.objects.get(pk=card.pk).status == CourseCardStatus.USED_UP
    # when
    reversal = courses.course_session_reverse(redemption=used, idempotency_key="r1", acting_user=manager)
    # then
    assert (reversal.sessions, reversal.sessions_left_after, reversal.reverses, reversal.actor) == (
        -1,
        1,
        used,
        manager,
    )
    assert left(card) == {"Facial": 1, "Massage": 0}
    assert CourseCard.objects.get(pk=card.pk).status == CourseCardStatus.ACTIVE
    # a replay is a no-op, a second give-back is refused, a give-back cannot be given back
    assert courses.course_session_reverse(redemption=used, idempotency_key="r1", acting_user=manager).pk == reversal.pk
    with pytest.raises(ServiceError) as refused:
        courses.course_session_reverse(redemption=used, idempotency_key="r2", acting_user=manager)
    assert (refused.value.code, refused.value.status) == (LoyaltyError.ALREADY_REVERSED, 409)
    with pytest.raises(ServiceError) as refused:
        courses.course_session_reverse(redemption=reversal, idempotency_key="r3", acting_user=manager)
    assert refused.value.code == LoyaltyError.NOT_A_SESSION_USED
    assert left(card) == {"Facial": 1, "Massage": 0}
    assert CourseRedemption.objects.count() == 4


def test_giving_back_needs_issue_refunds(card, facial, in_alpha):
    desk = make_staff(in_alpha, role="front_desk", username="desk")
    used = courses.course_session_redeem(card=card, service=facial, idempotency_key="k1")
    with pytest.raises(ServiceError) as refused:
        courses.course_session_reverse(redemption=used, idempotency_key="r1", acting_user=desk)
    assert refused.value.code == LoyaltyError.PERMISSION_DENIED
    assert left(card) == {"Facial": 1, "Massage": 1}


# --- void and extend -----------------------------------------------------------------------------


def test_voiding_a_card(card, facial, in_alpha):
    manager = make_staff(in_alpha, role="manager", username="mgr")
    voided = courses.course_card_void(card=card, reason="Refunded at the till", acting_user=manager)
    assert CourseCard.objects.get(pk=card.pk).status == voided.status == CourseCardStatus.VOIDED
    entry = AuditEntry.objects.get(action="loyalty.course_card_voided")
    assert (entry.actor_id, entry.data["was"], entry.data["reason"]) == (manager.pk, "active", "Refunded at the till")
    with pytest.raises(ServiceError) as refused:
        courses.course_session_redeem(card=card, service=facial, idempotency_key="k1")
    assert refused.value.code == LoyaltyError.COURSE_CARD_NOT_ACTIVE
    with pytest.raises(ServiceError) as refused:
        courses.course_card_void(card=card, reason="again", acting_user=manager)
    assert (refused.value.code, refused.value.status) == (LoyaltyError.COURSE_CARD_VOIDED, 409)
    assert AuditEntry.objects.filter(action="loyalty.course_card_voided").count() == 1


@pytest.mark.parametrize(
    ("role", "reason", "code"),
    [("front_desk", "x", LoyaltyError.PERMISSION_DENIED), ("manager", "", LoyaltyError.REASON_REQUIRED)],
)
def test_void_refusals(card, in_alpha, role, reason, code):
    user = make_staff(in_alpha, role=role, username="someone")
    with pytest.raises(ServiceError) as refused:
        courses.course_card_void(card=card, reason=reason, acting_user=user)
    assert refused.value.code == code
    assert CourseCard.objects.get(pk=card.pk).status == CourseCardStatus.ACTIVE
    assert not AuditEntry.objects.filter(action="loyalty.course_card_voided").exists()


def test_extending_a_card(card, in_alpha):
    manager = make_staff(in_alpha, role="manager", username="mgr")
    was = card.expires_on
    new = was + datetime.timedelta(days=30)
    courses.course_card_extend(card=card, expires_on=new, reason="Client was ill", acting_user=manager)
    assert CourseCard.objects.get(pk=card.pk).expires_on == new
    entry = AuditEntry.objects.get(action="loyalty.course_card_extended")
    assert entry.data == {
        "client": card.client_id,
        "from": was.isoformat(),
        "to": new.isoformat(),
        "reason": "Client was ill",
    }


@pytest.mark.parametrize(
    ("role", "days", "code"),
    [
        ("front_desk", 30, LoyaltyError.PERMISSION_DENIED),
        ("manager", 0, LoyaltyError.EXPIRY_NOT_LATER),
        ("manager", -1, LoyaltyError.EXPIRY_NOT_LATER),
        ("manager", None, LoyaltyError.EXPIRY_IN_PAST),
        ("manager", "past", LoyaltyError.EXPIRY_IN_PAST),
    ],
)
def test_extend_refusals(card, in_alpha, role, days, code):
    user = make_staff(in_alpha, role=role, username="someone")
    was = card.expires_on
    if days == "past":
        CourseCard.objects.filter(pk=card.pk).update(expires_on=salon_today() - datetime.timedelta(days=10))
        was = salon_today() - datetime.timedelta(days=10)
        expires_on = salon_today() - datetime.timedelta(days=1)
    else:
        expires_on = None if days is None else was + datetime.timedelta(days=days)
    with pytest.raises(ServiceError) as refused:
        courses.course_card_extend(card=card, expires_on=expires_on, reason="Goodwill", acting_user=user)
    assert refused.value.code == code
    assert CourseCard.objects.get(pk=card.pk).expires_on == was
    assert not AuditEntry.objects.filter(action="loyalty.course_card_extended").exists()
