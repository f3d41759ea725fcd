"""The member-card and points tabs of a member account: they render with labelled inputs, their forms go
through the services, each action is shown and allowed by role, and the redemption code reaches the
client's phone."""

from __future__ import annotations

import re

import pytest
from django_tenants.utils import schema_context

from apps.loyalty.models import CardStatus, MemberCard, PointsEntry, PointsEntryKind, Wallet
from apps.loyalty.services import cards, points
from apps.loyalty.services.settings import loyalty_settings_update
from apps.loyalty.tests.helpers import a_client
from apps.messaging import sms
from tests.fixtures import logged_in_client, make_staff, owner_of


def _browser(info, username: str):
    browser = logged_in_client(info, username)
    browser.post("/account/language/", {"language": "en"})
    return browser


@pytest.fixture
def owner(alpha):
    return _browser(alpha, alpha.owner_username)


@pytest.fixture
def desk(alpha):
    make_staff(alpha, role="front_desk", username="desk")
    return _browser(alpha, "desk")


@pytest.fixture
def member(alpha):
    with schema_context(alpha.schema):
        return a_client()


def _html(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def _labelled(html: str) -> bool:
    return html.count("<input") - html.count('type="hidden"') <= html.count("<label") + html.count("aria-label")


def salon_today_in(info):
    from apps.core.db import salon_today

    with schema_context(info.schema):
        return salon_today()


def _earn(alpha, member, amount: int, key: str) -> None:
    with schema_context(alpha.schema):
        points.points_award(
            client=member, points=amount, kind=PointsEntryKind.EARN_REFERRAL, reference="", idempotency_key=key
        )


# --- the cards tab ----------------------------------------------------------------------------------------


def test_both_tabs_render_with_labelled_inputs_and_are_linked(owner, member):
    for url in (f"/members/clients/{member.pk}/cards/", f"/members/clients/{member.pk}/points/"):
        html = _html(owner.get(url))
        assert _labelled(html)
        assert f'href="/members/clients/{member.pk}/cards/"' in html
        assert f'href="/members/clients/{member.pk}/points/"' in html
    cards_html = _html(owner.get(f"/members/clients/{member.pk}/cards/"))
    assert "Issue a card" in cards_html and "No member card yet." in cards_html


def test_issue_a_card_from_the_tab_and_see_the_error_for_a_bad_number(alpha, owner, member):
    url = f"/members/clients/{member.pk}/cards/issue/"
    refused = owner.post(url, {"issue-number": "x!", "issue-card_type": "physical"})
    assert "A card number has 4 to 32 letters, digits or dashes." in _html(refused)
    done = owner.post(url, {"issue-number": "vip 8", "issue-card_type": "virtual", "issue-expires_on": ""})
    assert done.status_code == 302
    html = _html(owner.get(done["Location"]))
    assert "Card VIP8 was issued." in html
    assert '<dd data-figure="number">VIP8</dd>' in html
    with schema_context(alpha.schema):
        assert Wallet.objects.get(client=member).current_card.number == "VIP8"


def test_front_desk_reports_a_card_lost_but_cannot_reissue_it(alpha, desk, member):
    with schema_context(alpha.schema):
        card = cards.member_card_issue(client=member, number="D0001", acting_user=None)
    html = _html(desk.get(f"/members/clients/{member.pk}/cards/"))
    assert f'action="/members/cards/{card.pk}/report_lost/"' in html
    assert f'action="/members/cards/{card.pk}/freeze/"' in html
    for change in ("unfreeze", "reissue", "cancel"):
        assert f'action="/members/cards/{card.pk}/{change}/"' not in html
    # a reason is asked for
    assert "This field is required." in _html(desk.post(f"/members/cards/{card.pk}/report_lost/", {}))
    lost = desk.post(f"/members/cards/{card.pk}/report_lost/", {"report_lost-reason": "客户来电"})
    assert lost.status_code == 302
    html = _html(desk.get(lost["Location"]))
    assert "Reported lost: stored value and points cannot be used" in html
    assert desk.post(f"/members/cards/{card.pk}/reissue/", {"reissue-number": ""}).status_code == 403
    assert desk.post(f"/members/cards/{card.pk}/unknown/", {}).status_code == 404
    with schema_context(alpha.schema):
        assert MemberCard.objects.get().status == CardStatus.LOST


def test_a_manager_reissues_from_the_tab(alpha, member):
    make_staff(alpha, role="manager", username="boss")
    boss = _browser(alpha, "boss")
    with schema_context(alpha.schema):
        card = cards.member_card_issue(client=member, number="M0001", acting_user=None)
        cards.member_card_report_lost(card=card, reason="丢失", acting_user=None)
    html = _html(boss.get(f"/members/clients/{member.pk}/cards/"))
    assert _labelled(html)
    assert f'action="/members/cards/{card.pk}/unfreeze/"' in html
    assert f'action="/members/cards/{card.pk}/freeze/"' not in html  # not from lost
    done = boss.post(f"/members/cards/{card.pk}/reissue/", {"reissue-number": "m0002", "reissue-reason": "补办"})
    html = _html(boss.get(done["Location"]))
    assert "A new card was issued; the balance moved to it." in html
    assert '<dd data-figure="number">M0002</dd>' in html
    assert "<td>M0001</td>" in html and "<td>M0002</td>" in html  # both in the history
    # a stale page's change is refused with its reason on top
    stale = boss.post(f"/members/cards/{card.pk}/cancel/", {"cancel-reason": "r"})
    assert "This card cannot change to that status." in _html(boss.get(stale["Location"]))


def test_a_technician_opens_neither_tab(alpha, member):
    make_staff(alpha, role="technician", username="tech")
    tech = _browser(alpha, "tech")
    assert tech.get(f"/members/clients/{member.pk}/cards/").status_code == 403
    assert tech.get(f"/members/clients/{member.pk}/points/").status_code == 403
    assert tech.post(f"/members/clients/{member.pk}/cards/issue/", {"issue-card_type": "physical"}).status_code == 403
    with schema_context(alpha.schema):
        assert not MemberCard.objects.exists()


# --- the points tab ---------------------------------------------------------------------------------------


def test_points_tab_shows_lots_ledger_and_redeems(alpha, desk, member):
    with schema_context(alpha.schema):
        loyalty_settings_update(acting_user=None, points_validity_months=12)
    _earn(alpha, member, 300, "a")
    html = _html(desk.get(f"/members/clients/{member.pk}/points/"))
    assert '<dd data-figure="points">300</dd>' in html
    assert '<dd data-figure="value">¥3.00</dd>' in html
    expiry = points.add_months(salon_today_in(alpha), 12).isoformat()
    assert f'<dd data-figure="next-expiry">300 on {expiry}</dd>' in html
    assert "Adjust points" not in html  # the front desk does not adjust
    assert "Check in" not in html  # the salon gives no check-in points
    # when the front desk redeems 120 for a gift
    done = desk.post(
        f"/members/clients/{member.pk}/points/redeem/",
        {"redeem-points": "120", "redeem-description": "护手霜", "redeem-idempotency_key": "k1"},
    )
    html = _html(desk.get(done["Location"]))
    assert "120 points redeemed." in html
    assert '<dd data-figure="points">180</dd>' in html
    assert "<td>护手霜</td>" in html
    # and a redemption without saying what for, or beyond the balance, is refused on the form
    refused = desk.post(
        f"/members/clients/{member.pk}/points/redeem/", {"redeem-points": "10", "redeem-idempotency_key": "k2"}
    )
    assert "Say what the points are redeemed for." in _html(refused)
    short = desk.post(
        f"/members/clients/{member.pk}/points/redeem/",
        {"redeem-points": "181", "redeem-money_off": "on", "redeem-idempotency_key": "k3"},
    )
    assert "The client does not have enough points." in _html(short)
    money = desk.post(
        f"/members/clients/{member.pk}/points/redeem/",
        {"redeem-points": "150", "redeem-money_off": "on", "redeem-idempotency_key": "k4"},
    )
    assert "150 points redeemed: take ¥1.50 off the bill." in _html(desk.get(money["Location"]))
    with schema_context(alpha.schema):
        assert Wallet.objects.get(client=member).points == 30


def test_redeeming_with_a_code_sent_from_the_tab(alpha, owner, desk, member, django_capture_on_commit_callbacks):
    # given a salon that requires codes
    sms.outbox.clear()
    with schema_context(alpha.schema):
        loyalty_settings_update(acting_user=None, require_redemption_code=True)
    _earn(alpha, member, 100, "a")
    url = f"/members/clients/{member.pk}/points/redeem/"
    html = _html(desk.get(f"/members/clients/{member.pk}/points/"))
    assert "Send code to client" in html and "Code from the client&#x27;s phone" in html
    assert "Or skip the code (manager)" not in html
    typed = {"redeem-points": "40", "redeem-description": "洗发水", "redeem-idempotency_key": "k1"}
    # when the front desk sends the code, the form comes back as typed
    with django_capture_on_commit_callbacks(execute=True):
        sent = desk.post(url, {**typed, "send_code": "1"})
    html = _html(sent)
    assert "A code was sent to the client&#x27;s phone." in html
    assert 'value="40"' in html and 'value="洗发水"' in html
    assert [m.to for m in sms.outbox] == ["+8613800138000"]
    code = re.search(r"\b(\d{6})\b", sms.outbox[0].body).group(1)
    # without the code it is refused, with it the points go
    assert "Enter the code sent to the client&#x27;s phone." in _html(desk.post(url, typed))
    done = desk.post(url, {**typed, "redeem-code": code})
    assert done.status_code == 302
    # a manager may skip the code with a reason
    assert "Or skip the code (manager)" in _html(owner.get(f"/members/clients/{member.pk}/points/"))
    skip = owner.post(
        url,
        {
            "redeem-points": "10",
            "redeem-description": "x",
            "redeem-idempotency_key": "k2",
            "redeem-override_reason": "客户手机没电",
        },
    )
    assert skip.status_code == 302
    with schema_context(alpha.schema):
        assert Wallet.objects.get(client=member).points == 50


def test_check_in_and_adjust_from_the_tab(alpha, owner, desk, member):
    with schema_context(alpha.schema):
        loyalty_settings_update(acting_user=None, check_in_points=5)
    url = f"/members/clients/{member.pk}/points/"
    assert "Check in (+5 points)" in _html(desk.get(url))
    first = desk.post(f"{url}check-in/")
    assert "Checked in: 5 points." in _html(desk.get(first["Location"]))
    again = desk.post(f"{url}check-in/")
    assert "The client has already checked in today." in _html(desk.get(again["Location"]))
    # the front desk cannot adjust; the owner can, with a reason
    body = {"adjust-points": "-3", "adjust-reason": "更正", "adjust-idempotency_key": "a1"}
    assert desk.post(f"{url}adjust/", body).status_code == 403
    assert "This field is required." in _html(owner.post(f"{url}adjust/", {**body, "adjust-reason": ""}))
    assert "The client does not have enough points." in _html(
        owner.post(f"{url}adjust/", {**body, "adjust-points": "-6"})
    )
    assert owner.post(f"{url}adjust/", body).status_code == 302
    with schema_context(alpha.schema):
        assert list(PointsEntry.objects.order_by("id").values_list("kind", "points")) == [
            ("earn_check_in", 5),
            ("adjustment", -3),
        ]


def test_the_points_tab_reads_a_fixed_number_of_queries(alpha, owner, member, django_assert_max_num_queries):
    # given 30 ledger entries and lots, each naming the staff member who made it, and a few cards
    desk_user = make_staff(alpha, role="front_desk", username="desk2")
    with schema_context(alpha.schema):
        boss = owner_of(alpha)
        for index in range(30):
            points.points_adjust(
                client=member, points=index + 1, reason="r", idempotency_key=f"k{index}", acting_user=boss
            )
        card = cards.member_card_issue(client=member, acting_user=desk_user)
        cards.member_card_reissue(card=card, acting_user=boss)
    with django_assert_max_num_queries(28):  # every query also sets the schema's search path in tests
        _html(owner.get(f"/members/clients/{member.pk}/points/"))
    with django_assert_max_num_queries(18):  # every query also sets the schema's search path in tests
        _html(owner.get(f"/members/clients/{member.pk}/cards/"))
