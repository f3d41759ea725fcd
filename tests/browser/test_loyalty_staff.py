"""The staff's member-account flows in a real browser on the front-desk tablet (1024×768): stored value
with a top-up rule and the refund of a card, a member card reported lost and reissued, check-in points
and a course card sold and used, a coupon issued from its template, and a points redemption that needs
the code texted to the client.

The till is not built yet, so top-ups and stored-value payments are made through the wallet services
(as the till will). Each staff member switches the app to English after signing in: these pages'
Chinese translations are compiled centrally later, so the test reads the English source labels."""

from __future__ import annotations

import datetime
import re
import secrets
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.browser.support import (
    ACTION_TIMEOUT_MS,
    NAVIGATION_TIMEOUT_MS,
    VIEWPORT,
    LiveSalonServer,
    SalonLedger,
    db_run,
    sign_in,
)

try:
    from playwright.sync_api import expect
except ImportError:  # the browser_available fixture skips, or fails under REQUIRE_BROWSER=1
    expect = None  # type: ignore[assignment]

pytestmark = pytest.mark.browser

PASSWORD = "Passw0rd-x"
PHONE = "13800138000"


# --- arranging a salon (in db_run) ------------------------------------------------------------------


def _salon_with_a_client(subdomain: str, *, staff: dict[str, str] | None = None) -> int:
    """A salon, its client 王芳 and the staff named (username → role). Returns the client's id."""
    from django_tenants.utils import schema_context

    from apps.core.services import staff_create
    from apps.crm.services.clients import client_create
    from tenants.services import salon_signup

    salon = salon_signup(
        raw={
            "salon_name": "芳华美容",
            "subdomain": subdomain,
            "owner_name": "林芳",
            "owner_email": f"owner@{subdomain}.test",
            "owner_phone": "13912345673",
            "password": PASSWORD,
        }
    ).salon
    with schema_context(salon.schema_name):
        for username, role in (staff or {}).items():
            staff_create(name=username.title(), role=role, username=username, password=PASSWORD)
        return int(client_create(name="王芳", phone=PHONE, acting_user=None).pk)


def _in_salon(subdomain: str, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
    """Run ``fn`` in the salon's schema (inside db_run)."""
    from django_tenants.utils import schema_context

    from tenants.models import Salon

    with schema_context(Salon.objects.get(subdomain=subdomain).schema_name):
        return fn(*args, **kwargs)


def _today() -> datetime.date:
    from apps.core.db import salon_today

    return salon_today()


def _client(client_id: int) -> Any:
    from apps.crm.models import Client

    return Client.objects.get(pk=client_id)


def _top_up(client_id: int, amount: int, key: str) -> None:
    from apps.loyalty.services import wallets

    wallets.wallet_top_up(client=_client(client_id), amount=amount, idempotency_key=key)


def _pay(client_id: int, amount: int, key: str) -> str:
    """A stored-value payment as the till makes it: "paid", or the code it was refused with."""
    from apps.core.errors import ServiceError
    from apps.loyalty.services import wallets

    try:
        wallets.wallet_debit(client=_client(client_id), amount=amount, idempotency_key=key)
    except ServiceError as error:
        return str(getattr(error.code, "value", error.code))
    return "paid"


def _wallet(client_id: int) -> dict[str, Any]:
    from apps.loyalty.models import Wallet, WalletEntry

    wallet = Wallet.objects.select_related("current_card").get(client_id=client_id)
    return {
        "principal": wallet.principal,
        "bonus": wallet.bonus,
        "points": wallet.points,
        "card": wallet.current_card.number if wallet.current_card else None,
        "entries": [
            (e.kind, e.principal_delta, e.bonus_delta, e.note)
            for e in WalletEntry.objects.filter(wallet=wallet).order_by("id")
        ],
    }


# --- in the browser ---------------------------------------------------------------------------------


@pytest.fixture
def another_page(browser: Any) -> Iterator[Callable[[], Any]]:
    """Pages for the other staff members of a test, each in its own context (its own sign-in)."""
    contexts: list[Any] = []

    def make() -> Any:
        context = browser.new_context(viewport=VIEWPORT)
        context.set_default_timeout(ACTION_TIMEOUT_MS)
        context.set_default_navigation_timeout(NAVIGATION_TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    try:
        yield make
    finally:
        for context in contexts:
            context.close()


def _signs_in(page: Any, server: LiveSalonServer, subdomain: str, username: str) -> None:
    """Sign in on the (Chinese) sign-in page and switch the staff app to English."""
    page.goto(server.salon_url(subdomain, "/login/"))
    sign_in(page, username, PASSWORD)
    page.get_by_role("button", name="English", exact=True).click()
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Members", exact=True)).to_be_visible()


def _opens_the_member_account(page: Any, server: LiveSalonServer, subdomain: str, client_id: int) -> None:
    """From the client's record, through its member-account section."""
    page.goto(server.salon_url(subdomain, f"/clients/{client_id}/"))
    page.get_by_role("region", name="Member account").get_by_role("link", name="Open the member account").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("王芳")


def _tab(page: Any, name: str) -> None:
    page.get_by_role("navigation", name="Member account").get_by_role("link", name=name, exact=True).click()
    expect(page.get_by_role("navigation", name="Member account").locator('[aria-current="page"]')).to_have_text(name)


def _header(page: Any, label: str) -> Any:
    """A figure of the member account's header ("Stored value", "Points", …)."""
    return page.locator(f"dl[aria-label='Balances'] dt:text-is('{label}') + dd")


def _said(page: Any, text: str) -> None:
    expect(page.locator(".messages").get_by_role("status")).to_have_text(text)


# --- 1. stored value and the refund of a card ---------------------------------------------------------


def _top_up_rules() -> list[tuple[str, int, int, bool]]:
    from apps.loyalty.models import TopUpRule

    return list(TopUpRule.objects.values_list("name", "pay_amount", "bonus_amount", "is_active"))


def test_top_up_rule_ledger_and_refund_of_the_card(
    salon_ledger: SalonLedger, salon_server: LiveSalonServer, page: Any
) -> None:
    subdomain = f"sv-{secrets.token_hex(3)}"
    client_id = db_run(_salon_with_a_client, subdomain)
    owner = f"owner@{subdomain}.test"

    # The owner adds the rule 充1000送200 under Members → Top-up rules.
    _signs_in(page, salon_server, subdomain, owner)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Members", exact=True).click()
    page.get_by_role("navigation", name="Members").get_by_role("link", name="Top-up rules", exact=True).click()
    page.get_by_role("link", name="Add a rule", exact=True).click()
    form = page.locator("form.card")
    form.get_by_label("Name", exact=True).fill("充1000送200")
    form.get_by_label("Pay at least (yuan)", exact=True).fill("1000")
    form.get_by_label("Bonus (yuan)", exact=True).fill("200")
    form.get_by_role("button", name="Save", exact=True).click()
    _said(page, "The top-up rule was added.")
    rule_row = page.get_by_role("row").filter(has_text="充1000送200")
    for text in ("¥1,000.00", "¥200.00", "Always", "Active"):
        expect(rule_row).to_contain_text(text)

    # At the till (not built yet): the client tops up ¥1,000 and later pays ¥600 by stored value.
    db_run(_in_salon, subdomain, _top_up, client_id, 100000, "bill:1:top-up")
    assert db_run(_in_salon, subdomain, _pay, client_id, 60000, "bill:2:pay") == "paid"

    # The client's record shows the member account; its ledger shows the ¥200 bonus of the rule.
    page.goto(salon_server.salon_url(subdomain, f"/clients/{client_id}/"))
    section = page.get_by_role("region", name="Member account")
    expect(section.locator('[data-figure="stored-value"]')).to_have_text("¥600.00")
    section.get_by_role("link", name="Open the member account").click()
    # The page belongs to Members only (its path holds "/clients/" too).
    expect(page.get_by_role("navigation", name="Main").locator('[aria-current="page"]')).to_have_text(["Members"])
    expect(_header(page, "Stored value")).to_have_text("¥600.00")
    expect(_header(page, "Principal")).to_have_text("¥500.00")
    expect(_header(page, "Bonus")).to_have_text("¥100.00")
    # Ledger rows: amount, principal, bonus, principal after, bonus after.
    top_up = page.get_by_role("row").filter(has_text="Top-up")
    expect(top_up).to_contain_text("充1000送200")
    expect(top_up.locator("td.num")).to_have_text(["¥1,200.00", "¥1,000.00", "¥200.00", "¥1,000.00", "¥200.00"])
    payment = page.get_by_role("row").filter(has_text="Payment")
    expect(payment.locator("td.num")).to_have_text(["-¥600.00", "-¥500.00", "-¥100.00", "¥500.00", "¥100.00"])
    expect(payment.locator("td.num").nth(2)).to_have_css("white-space", "nowrap")  # the sign stays with it

    # Refund the card: the working, then the confirmation with a reason.
    page.get_by_role("link", name="Refund the card", exact=True).click()
    expect(page.locator("ol.working li")).to_have_text(
        [
            "Principal paid in: ¥1,000.00",
            "Bonus received: ¥200.00",
            "Used: ¥600.00",
            "Principal share of what was used: ¥600.00 × 1,000.00 ÷ 1,200.00 = ¥500.00",
            "Refundable principal: ¥1,000.00 − ¥500.00 = ¥500.00",
            "Bonus forfeited: ¥100.00",
        ]
    )
    expect(page.locator('[data-figure="refundable"]')).to_have_text("¥500.00")
    expect(page.locator('[data-figure="forfeited-bonus"]')).to_have_text("¥100.00")
    expect(page.locator('[data-figure="forfeited-principal"]')).to_have_count(0)
    page.get_by_label("Reason", exact=True).fill("Moving to another city")
    page.get_by_role("button", name="Refund and close the card", exact=True).click()
    _said(page, "The card was refunded: pay the client ¥500.00.")
    expect(_header(page, "Stored value")).to_have_text("¥0.00")
    expect(_header(page, "Principal")).to_have_text("¥0.00")
    expect(_header(page, "Bonus")).to_have_text("¥0.00")
    refund = page.get_by_role("row").filter(has_text="Card refunded")
    expect(refund.locator("td.num")).to_have_text(["-¥500.00", "-¥500.00", "¥0.00", "¥0.00", "¥100.00"])
    forfeit = page.get_by_role("row").filter(has_text="Forfeited on refund")
    expect(forfeit.locator("td.num")).to_have_text(["-¥100.00", "¥0.00", "-¥100.00", "¥0.00", "¥0.00"])
    expect(forfeit).to_contain_text("Moving to another city")
    expect(page.get_by_role("link", name="Refund the card", exact=True)).to_have_count(0)
    assert db_run(_in_salon, subdomain, _top_up_rules) == [("充1000送200", 100000, 20000, True)]
    assert db_run(_in_salon, subdomain, _wallet, client_id) == {
        "principal": 0,
        "bonus": 0,
        "points": 0,
        "card": None,
        "entries": [
            ("top_up", 100000, 20000, ""),
            ("payment", -50000, -10000, ""),
            ("refund", -50000, 0, "Moving to another city"),
            ("forfeit", 0, -10000, "Moving to another city"),
        ],
    }


# --- 2. a member card reported lost and reissued --------------------------------------------------------


def _cards(client_id: int) -> list[tuple[str, str, str | None, str]]:
    from apps.loyalty.models import MemberCard

    return [
        (card.number, card.status, card.replaced_by.number if card.replaced_by else None, card.status_reason)
        for card in MemberCard.objects.filter(client_id=client_id).select_related("replaced_by").order_by("id")
    ]


def test_card_reported_lost_blocks_payments_until_reissued(
    salon_ledger: SalonLedger, salon_server: LiveSalonServer, page: Any, another_page: Callable[[], Any]
) -> None:
    subdomain = f"card-{secrets.token_hex(3)}"
    client_id = db_run(_salon_with_a_client, subdomain, staff={"desk": "front_desk", "manager": "manager"})
    db_run(_in_salon, subdomain, _top_up, client_id, 50000, "bill:1:top-up")

    # The front desk issues a card on the client's Member cards tab.
    _signs_in(page, salon_server, subdomain, "desk")
    _opens_the_member_account(page, salon_server, subdomain, client_id)
    _tab(page, "Member cards")
    # The front desk is offered only the Members pages it may open (not the salon's set-up).
    expect(page.get_by_role("navigation", name="Members").get_by_role("link")).to_have_text(
        ["Member accounts", "Course cards"]
    )
    issue = page.get_by_role("form", name="Issue a card")
    issue.get_by_label("Card number", exact=True).fill("vip 0001")
    issue.get_by_role("button", name="Issue the card", exact=True).click()
    _said(page, "Card VIP0001 was issued.")
    expect(page.locator('[data-figure="number"]')).to_have_text("VIP0001")
    expect(page.locator('[data-figure="status"]')).to_have_text("Active")

    # The client phones: the card is lost. The front desk reports it.
    lost = page.get_by_role("form", name="Report lost (挂失)")
    lost.get_by_label("How was the loss reported?", exact=True).fill("Client phoned: lost at the gym")
    lost.get_by_role("button", name="Report lost (挂失)", exact=True).click()
    _said(page, "The card was reported lost: stored value and points are blocked until it is found.")
    expect(page.locator('[data-figure="status"]')).to_have_text("Reported lost")
    expect(page.locator("section.card").get_by_role("status")).to_contain_text("Reported lost: stored value")
    expect(_header(page, "Member card")).to_contain_text("VIP0001 Reported lost")
    # Reissuing is a manager's work: the front desk is not offered it.
    expect(page.get_by_role("button", name="Reissue (补办)")).to_have_count(0)

    # A stored-value payment at the till is now refused, and nothing is written.
    assert db_run(_in_salon, subdomain, _pay, client_id, 10000, "bill:2:pay") == "card_lost"
    assert db_run(_in_salon, subdomain, _wallet, client_id) == {
        "principal": 50000,
        "bonus": 0,
        "points": 0,
        "card": "VIP0001",
        "entries": [("top_up", 50000, 0, "")],
    }

    # A manager reissues the card to a new number; the balance follows it.
    manager = another_page()
    _signs_in(manager, salon_server, subdomain, "manager")
    manager.goto(salon_server.salon_url(subdomain, f"/members/clients/{client_id}/cards/"))
    reissue = manager.get_by_role("form", name="Reissue (补办)")
    reissue.get_by_label("New card number", exact=True).fill("VIP0002")
    reissue.get_by_label("Why is it reissued?", exact=True).fill("Replaces the lost card")
    reissue.get_by_role("button", name="Reissue (补办)", exact=True).click()
    _said(manager, "A new card was issued; the balance moved to it.")
    expect(manager.locator('[data-figure="number"]')).to_have_text("VIP0002")
    expect(manager.locator('[data-figure="status"]')).to_have_text("Active")
    expect(_header(manager, "Stored value")).to_have_text("¥500.00")
    old = manager.get_by_role("row").filter(has_text="VIP0001")
    expect(old.get_by_role("cell").nth(2)).to_have_text("Replaced")
    expect(old.get_by_role("cell").nth(7)).to_have_text("VIP0002")

    # Payments work again, on the same balance.
    assert db_run(_in_salon, subdomain, _pay, client_id, 10000, "bill:2:pay") == "paid"
    manager.reload()
    expect(_header(manager, "Stored value")).to_have_text("¥400.00")
    assert db_run(_in_salon, subdomain, _cards, client_id) == [
        ("VIP0001", "replaced", "VIP0002", "Client phoned: lost at the gym; Replaces the lost card"),
        ("VIP0002", "active", None, ""),
    ]
    assert db_run(_in_salon, subdomain, _wallet, client_id) == {
        "principal": 40000,
        "bonus": 0,
        "points": 0,
        "card": "VIP0002",
        "entries": [("top_up", 50000, 0, ""), ("payment", -10000, 0, "")],
    }


# --- 3. check-in points, a course card sold and one session used -----------------------------------------


def _course_card_on_sale() -> None:
    from apps.catalog.services.bundles import CourseCardItemSpec, course_card_template_create
    from apps.catalog.services.offerings import service_create

    facial = service_create(name="面部深层清洁", duration_minutes=60, price=28800)
    course_card_template_create(
        name="护理十次卡", price=200000, validity_days=365, items=[CourseCardItemSpec(service=facial, sessions=10)]
    )


def _points_and_courses(client_id: int) -> dict[str, Any]:
    from apps.loyalty.models import CourseCard, CourseRedemption, PointsEntry

    card = CourseCard.objects.get(client_id=client_id)
    return {
        "points": [(e.kind, e.points, e.balance_after) for e in PointsEntry.objects.order_by("id")],
        "card": (card.name, card.price, card.status, card.expires_on, card.sold_by.username),
        "balances": [(b.service.name, b.sessions_total, b.sessions_left) for b in card.balances.all()],
        "redemptions": [
            (r.balance.service.name, r.sessions, r.sessions_left_after, r.staff.username, r.actor.username)
            for r in CourseRedemption.objects.order_by("id")
        ],
    }


def test_check_in_points_and_a_course_card_sold_and_used(
    salon_ledger: SalonLedger, salon_server: LiveSalonServer, page: Any, another_page: Callable[[], Any]
) -> None:
    subdomain = f"pts-{secrets.token_hex(3)}"
    client_id = db_run(_salon_with_a_client, subdomain, staff={"desk": "front_desk", "tech": "technician"})
    db_run(_in_salon, subdomain, _course_card_on_sale)
    today = db_run(_in_salon, subdomain, _today)

    # The owner gives 20 points for a check-in (Members → Settings).
    _signs_in(page, salon_server, subdomain, f"owner@{subdomain}.test")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Members", exact=True).click()
    page.get_by_role("navigation", name="Members").get_by_role("link", name="Settings", exact=True).click()
    page.get_by_label("Points for a check-in", exact=True).fill("20")
    page.get_by_role("button", name="Save", exact=True).click()
    _said(page, "The loyalty settings were saved.")
    expect(page.get_by_label("Points for a check-in", exact=True)).to_have_value("20")
    expect(page.get_by_role("navigation", name="Main").locator('[aria-current="page"]')).to_have_text(["Members"])

    # The front desk checks the client in on the Points tab.
    desk = another_page()
    _signs_in(desk, salon_server, subdomain, "desk")
    _opens_the_member_account(desk, salon_server, subdomain, client_id)
    _tab(desk, "Points")
    desk.get_by_role("button", name="Check in (+20 points)", exact=True).click()
    _said(desk, "Checked in: 20 points.")
    expect(desk.locator('[data-figure="points"]')).to_have_text("20")
    expect(_header(desk, "Points")).to_have_text("20")
    expect(desk.get_by_role("row").filter(has_text="Check-in").get_by_role("cell").nth(2)).to_have_text("20")

    # Then sells the course card on the Course cards tab and uses one session of it.
    _tab(desk, "Course cards")
    sell = desk.get_by_role("region", name="Sell a course card")
    sell.get_by_label("Course card", exact=True).select_option(label="护理十次卡")
    sell.get_by_role("button", name="Add the card", exact=True).click()
    _said(desk, "护理十次卡 was added to the client's cards.")
    card = desk.get_by_role("region", name=re.compile("^护理十次卡"))
    expect(card).to_contain_text(f"sold {today.isoformat()} for ¥2,000.00")
    session = card.get_by_role("row").filter(has_text="面部深层清洁")
    expect(session.get_by_role("cell").nth(1)).to_have_text("10 / 10")
    session.get_by_label("Done by", exact=True).select_option(label="Tech")
    session.get_by_role("button", name="Use one session of 面部深层清洁", exact=True).click()
    _said(desk, "One session of 面部深层清洁 was used; 9 left.")
    card = desk.get_by_role("region", name=re.compile("^护理十次卡"))
    expect(card.get_by_role("row").filter(has_text="面部深层清洁").get_by_role("cell").nth(1)).to_have_text("9 / 10")
    used = desk.get_by_role("table").last.get_by_role("row").filter(has_text="护理十次卡")
    expect(used.get_by_role("cell").nth(3)).to_have_text("−1")
    expect(used.get_by_role("cell").nth(4)).to_have_text("9")
    expect(used.get_by_role("cell").nth(5)).to_have_text("Tech")

    assert db_run(_in_salon, subdomain, _points_and_courses, client_id) == {
        "points": [("earn_check_in", 20, 20)],
        "card": ("护理十次卡", 200000, "active", today + datetime.timedelta(days=365), "desk"),
        "balances": [("面部深层清洁", 10, 9)],
        "redemptions": [("面部深层清洁", 1, 9, "tech", "desk")],
    }


# --- 4. a 满减 coupon issued from its template ------------------------------------------------------------


def _coupons(client_id: int) -> dict[str, Any]:
    from apps.loyalty.models import Coupon, CouponTemplate

    template = CouponTemplate.objects.get()
    return {
        "template": (
            template.name,
            template.kind,
            template.value,
            template.min_spend,
            template.valid_days,
            template.is_active,
        ),
        "coupons": [
            (c.client_id, c.status, c.source, c.valid_from, c.valid_until) for c in Coupon.objects.order_by("id")
        ],
    }


def test_owner_creates_a_money_off_coupon_and_issues_it(
    salon_ledger: SalonLedger, salon_server: LiveSalonServer, page: Any
) -> None:
    subdomain = f"cpn-{secrets.token_hex(3)}"
    client_id = db_run(_salon_with_a_client, subdomain)

    # The owner adds 满100减20: ¥20 off a bill of ¥100 or more, valid 30 days after issue.
    _signs_in(page, salon_server, subdomain, f"owner@{subdomain}.test")
    page.goto(salon_server.salon_url(subdomain, "/members/coupons/new/"))
    form = page.locator("form.card")
    form.get_by_label("Name", exact=True).fill("满100减20")
    form.get_by_label("Kind", exact=True).select_option(label="Money off over a threshold (满减)")
    form.get_by_label("Money off, or the trial price (yuan)", exact=True).fill("20")
    form.get_by_label("Minimum spend (yuan)", exact=True).fill("100")
    form.get_by_label("Or valid for (days after issue)", exact=True).fill("30")
    form.get_by_role("button", name="Save", exact=True).click()
    _said(page, "The coupon 满100减20 was added.")
    expect(page.get_by_role("heading", level=1)).to_have_text("满100减20")
    expect(page.locator('[data-figure="issued"]')).to_have_text("0")

    # On the template's page, the owner finds the client, ticks them and issues the coupon.
    issue = page.get_by_role("region", name="Issue to clients")
    issue.get_by_label("Find clients to tick (name, phone, last four digits)", exact=True).fill("8000")
    client_box = issue.get_by_role("checkbox", name=re.compile("王芳"))
    client_box.check()
    issue.get_by_role("button", name="Issue", exact=True).click()
    _said(page, "1 coupon was issued.")
    expect(page.locator('[data-figure="issued"]')).to_have_text("1")

    # The client's Coupons tab lists it as available.
    _opens_the_member_account(page, salon_server, subdomain, client_id)
    _tab(page, "Coupons")
    today = db_run(_in_salon, subdomain, _today)
    until = today + datetime.timedelta(days=29)
    available = page.get_by_role("region", name=re.compile("^Available"))
    expect(available.get_by_role("heading")).to_have_text("Available 1")
    row = available.get_by_role("row").filter(has_text="满100减20")
    expect(row.get_by_role("cell").nth(2)).to_have_text("¥20.00 off from ¥100.00")
    expect(row.get_by_role("cell").nth(3)).to_have_text(f"{today.isoformat()} – {until.isoformat()}")
    expect(row.get_by_role("cell").nth(4)).to_have_text("Issued to a list")
    expect(page.get_by_role("region", name=re.compile("^Used")).get_by_role("heading")).to_have_text("Used 0")

    assert db_run(_in_salon, subdomain, _coupons, client_id) == {
        "template": ("满100减20", "money_off", 2000, 10000, 30, True),
        "coupons": [(client_id, "available", "bulk", today, until)],
    }


# --- 5. a points redemption that needs the client's code -----------------------------------------------


def _points_to_spend(client_id: int) -> None:
    from apps.loyalty.services import points
    from apps.loyalty.services.settings import loyalty_settings_update

    points.points_earn_for_spend(
        client=_client(client_id), amount_spent=50000, reference="bill:1", idempotency_key="bill:1:points"
    )
    loyalty_settings_update(acting_user=None, require_redemption_code=True)


def _texted_code() -> tuple[str, str, str]:
    """(recipient, status, code) of the last redemption code texted: the delivery log says to whom and
    whether it went, the test SMS backend (same process as the live server) has the text; the log
    itself keeps no code once it is sent."""
    from apps.messaging import sms
    from apps.messaging.models import Delivery

    delivery = Delivery.objects.filter(purpose="code:redemption").latest("id")
    assert "******" in delivery.body, delivery.body
    message = sms.outbox[-1]
    assert message.to == delivery.recipient
    match = re.search(r"\b(\d{6})\b", message.body)
    assert match is not None, message.body
    return delivery.recipient, delivery.status, match.group(1)


def _points_ledger(client_id: int) -> list[tuple[str, int, int, str]]:
    from apps.loyalty.models import PointsEntry

    return [
        (e.kind, e.points, e.balance_after, e.description)
        for e in PointsEntry.objects.filter(wallet__client_id=client_id).order_by("id")
    ]


def test_points_redemption_asks_for_the_code_texted_to_the_client(
    salon_ledger: SalonLedger, salon_server: LiveSalonServer, page: Any
) -> None:
    subdomain = f"code-{secrets.token_hex(3)}"
    client_id = db_run(_salon_with_a_client, subdomain, staff={"desk": "front_desk"})
    db_run(_in_salon, subdomain, _points_to_spend, client_id)

    _signs_in(page, salon_server, subdomain, "desk")
    _opens_the_member_account(page, salon_server, subdomain, client_id)
    _tab(page, "Points")
    expect(page.locator('[data-figure="points"]')).to_have_text("500")

    # Without the code, the redemption is refused and asks for it.
    redeem = page.get_by_role("form", name="Redeem points")
    expect(redeem).to_contain_text("This salon asks for a code sent to the client's phone")
    redeem.get_by_label("Points to redeem", exact=True).fill("200")
    redeem.get_by_label("What for", exact=True).fill("Hair mask")
    redeem.get_by_role("button", name="Redeem", exact=True).click()
    redeem = page.get_by_role("form", name="Redeem points")
    expect(redeem.get_by_role("alert")).to_have_text("Enter the code sent to the client's phone.")
    expect(page.locator('[data-figure="points"]')).to_have_text("500")

    # The front desk texts the client a code; what was typed stays.
    redeem.get_by_role("button", name="Send code to client", exact=True).click()
    _said(page, "A code was sent to the client's phone. Ask them for it.")
    redeem = page.get_by_role("form", name="Redeem points")
    expect(redeem.get_by_label("Points to redeem", exact=True)).to_have_value("200")
    expect(redeem.get_by_label("What for", exact=True)).to_have_value("Hair mask")
    recipient, status, code = db_run(_in_salon, subdomain, _texted_code)
    assert (recipient, status) == ("+86" + PHONE, "sent")

    # The client reads it out; with it the redemption goes through.
    redeem.get_by_label("Code from the client's phone", exact=True).fill(code)
    redeem.get_by_role("button", name="Redeem", exact=True).click()
    _said(page, "200 points redeemed.")
    expect(page.locator('[data-figure="points"]')).to_have_text("300")
    expect(page.get_by_role("row").filter(has_text="Hair mask").get_by_role("cell").nth(2)).to_have_text("-200")

    assert db_run(_in_salon, subdomain, _points_ledger, client_id) == [
        ("earn_spend", 500, 500, ""),
        ("redeem", -200, 300, "Hair mask"),
    ]
