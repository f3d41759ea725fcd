"""Member cards and points through the REST API: issue and status changes, the swipe lookup, the points
account, redemption behind the one-time code, check-in, adjustments; roles; and two salons that never
see each other's cards."""

from __future__ import annotations

import re

import pytest
from django.test import Client as HttpClient
from django_tenants.utils import schema_context

from apps.core.services import user_set_language
from apps.loyalty.models import CardStatus, MemberCard, PointsEntry, PointsEntryKind, Wallet
from apps.loyalty.services import cards, points
from apps.loyalty.services.settings import loyalty_settings_update
from apps.loyalty.tests.helpers import a_client
from apps.messaging import sms
from tests.fixtures import api_token, make_staff, owner_of


def _api(info, username: str) -> HttpClient:
    return HttpClient(HTTP_HOST=info.host, HTTP_AUTHORIZATION=f"Bearer {api_token(info, username)}")


def _english(info, user) -> None:
    with schema_context(info.schema):
        user_set_language(user=user, language="en")


@pytest.fixture
def owner_api(alpha):
    _english(alpha, owner_of(alpha))
    return _api(alpha, alpha.owner_username)


@pytest.fixture
def desk_api(alpha):
    _english(alpha, make_staff(alpha, role="front_desk", username="desk"))
    return _api(alpha, "desk")


@pytest.fixture
def member(alpha):
    with schema_context(alpha.schema):
        return a_client()


def _card(alpha, member, number: str = "A0001") -> MemberCard:
    with schema_context(alpha.schema):
        return cards.member_card_issue(client=member, number=number, acting_user=None)


def _post(api, url: str, body: dict | None = None):
    return api.post(url, body or {}, content_type="application/json")


# --- cards ------------------------------------------------------------------------------------------------


def test_issue_look_up_by_swipe_and_report_lost(alpha, owner_api, desk_api, member):
    # when the front desk issues a card with a generated number
    issued = _post(desk_api, f"/api/v1/clients/{member.pk}/cards/", {"card_type": "virtual"})
    # then
    assert issued.status_code == 201, issued.content
    card = issued.json()
    assert (card["client"], card["client_name"], card["status"], card["card_type"]) == (
        member.pk,
        "王芳",
        "active",
        "virtual",
    )
    assert re.fullmatch(r"[1-9]\d{9}", card["number"])
    # a swipe (spaces, lower case) finds the card and its client
    swiped = desk_api.get("/api/v1/member-cards/", {"number": f" {card['number'][:5]} {card['number'][5:]} "}).json()
    assert (swiped["count"], swiped["results"][0]["id"], swiped["results"][0]["client"]) == (1, card["id"], member.pk)
    assert desk_api.get("/api/v1/member-cards/", {"number": "NOPE-1"}).json()["count"] == 0
    assert desk_api.get("/api/v1/member-cards/", {"number": "!"}).json()["count"] == 0
    listed = desk_api.get(f"/api/v1/clients/{member.pk}/cards/").json()
    assert [c["id"] for c in listed["results"]] == [card["id"]]
    # when it is reported lost
    lost = _post(desk_api, f"/api/v1/member-cards/{card['id']}/report-lost/", {"reason": "客户来电"})
    # then the card and the wallet show it
    assert (lost.status_code, lost.json()["status"], lost.json()["status_reason"]) == (200, "lost", "客户来电")
    assert desk_api.get(f"/api/v1/member-cards/{card['id']}/").json()["status"] == "lost"
    assert desk_api.get(f"/api/v1/clients/{member.pk}/wallet/").json()["card"]["status"] == "lost"
    assert owner_api.get("/api/v1/member-cards/", {"status": "lost"}).json()["count"] == 1


def test_front_desk_cannot_unfreeze_reissue_or_cancel_but_the_owner_can(alpha, owner_api, desk_api, member):
    card = _card(alpha, member)
    assert _post(desk_api, f"/api/v1/member-cards/{card.pk}/freeze/", {"reason": "客户要求"}).status_code == 200
    for change in ("unfreeze", "reissue", "cancel"):
        assert _post(desk_api, f"/api/v1/member-cards/{card.pk}/{change}/", {"reason": "r"}).status_code == 403
    with schema_context(alpha.schema):
        assert list(MemberCard.objects.values_list("number", "status")) == [("A0001", CardStatus.FROZEN)]
    reissued = _post(owner_api, f"/api/v1/member-cards/{card.pk}/reissue/", {"number": "b 0002", "reason": "补办"})
    assert reissued.status_code == 201
    assert (reissued.json()["number"], reissued.json()["status"]) == ("B0002", "active")
    assert owner_api.get(f"/api/v1/member-cards/{card.pk}/").json()["replaced_by"] == reissued.json()["id"]
    new = reissued.json()["id"]
    assert _post(owner_api, f"/api/v1/member-cards/{new}/cancel/", {"reason": "销卡"}).json()["status"] == "cancelled"


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ({"number": "ab!"}, 400, {"number": ["A card number has 4 to 32 letters, digits or dashes."]}),
        ({"number": "A0001"}, 409, {"number": ["This card number is already in use."]}),
        ({"card_type": "gold"}, 400, None),
        ({"expires_on": "2001-01-01"}, 400, {"expires_on": ["The expiry date must be in the future."]}),
        ({"expires_on": "soon"}, 400, None),
    ],
)
def test_issue_refuses_bad_input_with_the_reason(alpha, owner_api, member, body, status, error):
    with schema_context(alpha.schema):
        other = a_client(name="李四", phone="13900139000")
    _card(alpha, other)
    response = _post(owner_api, f"/api/v1/clients/{member.pk}/cards/", body)
    assert response.status_code == status, response.content
    if error is not None:
        assert response.json() == error
    with schema_context(alpha.schema):
        assert not MemberCard.objects.filter(client=member).exists()


def test_card_changes_refuse_what_does_not_apply(alpha, owner_api, member):
    card = _card(alpha, member)
    held = _post(owner_api, f"/api/v1/clients/{member.pk}/cards/", {})
    assert (held.status_code, held.json()["detail"]) == (
        409,
        "This client already holds a member card; reissue it instead.",
    )
    no_reason = _post(owner_api, f"/api/v1/member-cards/{card.pk}/report-lost/", {})
    assert (no_reason.status_code, no_reason.json()) == (400, {"reason": ["Enter a reason."]})
    wrong = _post(owner_api, f"/api/v1/member-cards/{card.pk}/unfreeze/", {})
    assert (wrong.status_code, wrong.json()["detail"]) == (400, "This card cannot change to that status.")
    assert _post(owner_api, "/api/v1/clients/999999/cards/", {}).status_code == 404
    assert _post(owner_api, "/api/v1/member-cards/999999/freeze/", {"reason": "r"}).status_code == 404


def test_another_salon_cannot_see_or_change_a_card(alpha, beta, member):
    # given a card in alpha and beta's owner
    card = _card(alpha, member)
    beta_api = _api(beta, beta.owner_username)
    # then beta finds nothing and changes nothing
    assert beta_api.get(f"/api/v1/member-cards/{card.pk}/").status_code == 404
    assert _post(beta_api, f"/api/v1/member-cards/{card.pk}/report-lost/", {"reason": "r"}).status_code == 404
    assert beta_api.get(f"/api/v1/clients/{member.pk}/cards/").status_code == 404
    assert beta_api.get("/api/v1/member-cards/", {"number": "A0001"}).json()["count"] == 0
    assert beta_api.get(f"/api/v1/clients/{member.pk}/points/").status_code == 404
    with schema_context(alpha.schema):
        assert MemberCard.objects.get(pk=card.pk).status == CardStatus.ACTIVE


def test_a_technician_reads_no_cards_or_points(alpha, member):
    make_staff(alpha, role="technician", username="tech")
    tech = _api(alpha, "tech")
    assert tech.get(f"/api/v1/clients/{member.pk}/cards/").status_code == 403
    assert tech.get(f"/api/v1/clients/{member.pk}/points/").status_code == 403
    assert tech.get("/api/v1/member-cards/").status_code == 403


# --- points -----------------------------------------------------------------------------------------------


def _earn(alpha, member, amount: int, key: str) -> None:
    with schema_context(alpha.schema):
        points.points_award(
            client=member, points=amount, kind=PointsEntryKind.EARN_REFERRAL, reference="", idempotency_key=key
        )


def test_the_points_account_shows_balance_lots_and_ledger(alpha, desk_api, member):
    with schema_context(alpha.schema):
        loyalty_settings_update(acting_user=None, points_validity_months=0)
    _earn(alpha, member, 100, "a")
    _earn(alpha, member, 50, "b")
    _post(
        desk_api,
        f"/api/v1/clients/{member.pk}/points/redeem/",
        {"points": 120, "description": "护发精油", "idempotency_key": "r"},
    )
    body = desk_api.get(f"/api/v1/clients/{member.pk}/points/").json()
    assert (body["balance"], body["value"], body["count"]) == (30, 30, 3)
    assert [(lot["points"], lot["remaining"], lot["expires_on"]) for lot in body["lots"]] == [(50, 30, None)]
    assert body["next_expiry"] is None
    assert [(e["kind"], e["points"], e["balance_after"]) for e in body["results"]] == [
        ("redeem", -120, 30),
        ("earn_referral", 50, 150),
        ("earn_referral", 100, 100),
    ]


def test_redeeming_with_the_code_sent_to_the_client(
    alpha, owner_api, desk_api, member, django_capture_on_commit_callbacks
):
    # given a salon that requires a code and a member with 100 points
    sms.outbox.clear()
    with schema_context(alpha.schema):
        loyalty_settings_update(acting_user=None, require_redemption_code=True)
    _earn(alpha, member, 100, "a")
    url = f"/api/v1/clients/{member.pk}/points/redeem/"
    body = {"points": 40, "description": "洗发水", "idempotency_key": "r1"}
    # when the front desk redeems without a code, it is asked for one
    assert _post(desk_api, url, body).json() == {"code": ["Enter the code sent to the client's phone."]}
    # and when a code is sent, the client's phone gets it, once per minute
    with django_capture_on_commit_callbacks(execute=True):
        sent = _post(desk_api, f"/api/v1/clients/{member.pk}/redemption-code/")
    assert (sent.status_code, sent.json()["expires_in"]) == (202, 300)
    assert [m.to for m in sms.outbox] == ["+8613800138000"]
    code = re.search(r"\b(\d{6})\b", sms.outbox[0].body).group(1)
    assert _post(desk_api, f"/api/v1/clients/{member.pk}/redemption-code/").status_code == 429
    # a wrong code is refused and nothing is taken
    wrong = "000000" if code != "000000" else "111111"
    assert _post(desk_api, url, {**body, "code": wrong}).json() == {
        "code": ["This code is wrong or has expired; send a new one."]
    }
    # then with the right code the points go
    done = _post(desk_api, url, {**body, "code": code})
    assert done.status_code == 201, done.content
    assert (done.json()["entry"]["points"], done.json()["entry"]["balance_after"]) == (-40, 60)
    # and a replay of the same request (the code now used) returns the same entry
    assert _post(desk_api, url, {**body, "code": code}).json()["entry"]["id"] == done.json()["entry"]["id"]
    # a front desk cannot skip the code; the owner can, with a reason
    skip = {"points": 10, "description": "x", "idempotency_key": "r2", "override_reason": "客户手机没电"}
    assert _post(desk_api, url, skip).status_code == 403
    assert _post(owner_api, url, skip).status_code == 201
    with schema_context(alpha.schema):
        assert Wallet.objects.get(client=member).points == 50


def test_money_off_and_refusals(alpha, desk_api, member):
    _earn(alpha, member, 100, "a")
    url = f"/api/v1/clients/{member.pk}/points/redeem/"
    money = _post(desk_api, url, {"points": 50, "money_off": True, "idempotency_key": "m", "reference": "bill:3"})
    assert money.status_code == 201
    assert (money.json()["value"], money.json()["entry"]["description"]) == (50, "Money off ¥0.50")
    short = _post(desk_api, url, {"points": 51, "description": "x", "idempotency_key": "m2"})
    assert (short.status_code, short.json()) == (400, {"points": ["The client does not have enough points."]})
    assert _post(desk_api, url, {"points": 0, "description": "x", "idempotency_key": "m3"}).status_code == 400
    assert _post(desk_api, url, {"points": "lots", "description": "x", "idempotency_key": "m4"}).status_code == 400
    reused = _post(desk_api, url, {"points": 5, "description": "x", "idempotency_key": "m"})
    assert reused.status_code == 409
    with schema_context(alpha.schema):
        assert Wallet.objects.get(client=member).points == 50


def test_check_in_once_a_day(alpha, desk_api, member):
    url = f"/api/v1/clients/{member.pk}/points/check-in/"
    assert _post(desk_api, url).json()["detail"] == "This salon does not give points for this."
    with schema_context(alpha.schema):
        loyalty_settings_update(acting_user=None, check_in_points=3)
    first = _post(desk_api, url)
    assert (first.status_code, first.json()["points"], first.json()["kind"]) == (201, 3, "earn_check_in")
    assert _post(desk_api, url).status_code == 409


def test_adjustments_need_adjust_balances(alpha, owner_api, desk_api, member):
    url = f"/api/v1/clients/{member.pk}/points/adjustments/"
    body = {"points": 25, "reason": "补录积分", "idempotency_key": "adj"}
    assert _post(desk_api, url, body).status_code == 403
    done = _post(owner_api, url, body)
    assert (done.status_code, done.json()["points"], done.json()["description"]) == (201, 25, "补录积分")
    assert _post(owner_api, url, {**body, "idempotency_key": "adj2", "points": -26}).status_code == 400
    with schema_context(alpha.schema):
        assert list(PointsEntry.objects.values_list("kind", "points")) == [("adjustment", 25)]


def test_the_schema_documents_the_new_endpoints(owner_api):
    schema = owner_api.get("/api/v1/schema/", {"format": "json"}).json()
    for url in (
        "/api/v1/clients/{id}/cards/",
        "/api/v1/member-cards/{id}/reissue/",
        "/api/v1/clients/{id}/points/redeem/",
        "/api/v1/clients/{id}/redemption-code/",
    ):
        assert url in schema["paths"], url
