"""A cash session in a real browser (POS-5, 收银交班): the owner at the front desk (1024×768 tablet) opens
the drawer with a float, a cash sale is taken, pays 30.50 out for milk tea, counts the drawer at the
handover and reads the difference on the handover report.

The owner switches the staff app to English first: these pages' Chinese translations are compiled
centrally later, so the test reads the English source labels."""

from __future__ import annotations

import secrets
from typing import Any

import pytest

from tests.browser.support import LiveSalonServer, SalonLedger, db_run, sign_in

try:
    from playwright.sync_api import expect
except ImportError:  # the browser_available fixture skips, or fails under REQUIRE_BROWSER=1
    expect = None  # type: ignore[assignment]

pytestmark = pytest.mark.browser

PASSWORD = "Passw0rd-x"


def _create_salon(subdomain: str) -> None:
    from tenants.services import salon_signup

    salon_signup(
        raw={
            "salon_name": "芳华美发",
            "subdomain": subdomain,
            "owner_name": "林芳",
            "owner_email": f"owner@{subdomain}.test",
            "owner_phone": "13912345673",
            "password": PASSWORD,
        }
    )


def _cash_sale(subdomain: str, amount: int) -> None:
    """A bill paid in cash at the salon's location now (as the payment flow writes it)."""
    from django_tenants.utils import schema_context

    from apps.pos.tests.factories_receipts import cash_bill_make
    from tenants.models import Salon

    with schema_context(Salon.objects.get(subdomain=subdomain).schema_name):
        cash_bill_make(amount, tendered=amount)


def _closed_session(subdomain: str) -> tuple[str, int, int, int, list[tuple[str, int, str]]]:
    from django_tenants.utils import schema_context

    from apps.pos.models import CashSession
    from tenants.models import Salon

    with schema_context(Salon.objects.get(subdomain=subdomain).schema_name):
        session = CashSession.objects.get()
        movements = [(m.kind, m.amount, m.reason) for m in session.movements.all()]
        return session.status, session.expected_cash, session.counted_cash, session.cash_difference, movements


def test_front_desk_opens_pays_out_and_closes_the_drawer(
    salon_ledger: SalonLedger, salon_server: LiveSalonServer, page: Any
) -> None:
    subdomain = f"cash-{secrets.token_hex(3)}"
    db_run(_create_salon, subdomain)

    # The owner signs in, switches to English and opens Till → Cash session.
    page.goto(salon_server.salon_url(subdomain, "/login/"))
    sign_in(page, f"owner@{subdomain}.test", PASSWORD)
    page.get_by_role("button", name="English", exact=True).click()
    page.goto(salon_server.salon_url(subdomain, "/till/cash/"))
    expect(page.get_by_role("heading", name="Open a cash session")).to_be_visible()

    # Open the drawer with a float of 200 yuan.
    page.get_by_label("Float (yuan)", exact=True).fill("200")
    page.get_by_role("button", name="Open the session", exact=True).click()
    expect(page.get_by_text("The cash session is open.", exact=True)).to_be_visible()

    # A 50-yuan haircut is paid in cash at the till.
    db_run(_cash_sale, subdomain, 5_000)
    page.reload()
    drawer = page.get_by_role("table", name="Cash in the drawer")
    expect(drawer.get_by_role("row", name="Expected cash")).to_contain_text("¥250.00")

    # Pay 30.50 out of the drawer for milk tea.
    page.get_by_label("Kind", exact=True).select_option(label="Pay-out")
    page.get_by_label("Amount (yuan)", exact=True).fill("30.50")
    page.get_by_label("Reason", exact=True).fill("Milk tea")
    page.get_by_role("button", name="Record", exact=True).click()
    expect(page.get_by_text("Paid out.", exact=True)).to_be_visible()
    expect(
        page.get_by_role("table", name="Cash in the drawer").get_by_role("row", name="Expected cash")
    ).to_contain_text("¥219.50")

    # At the handover the drawer holds 219 yuan: close the session with that count.
    page.get_by_label("Counted cash (yuan)", exact=True).fill("219")
    page.get_by_role("button", name="Close the session", exact=True).click()

    # The handover report shows what was expected, what was counted and the 0.50 short.
    expect(page.get_by_role("heading", name="Cash handover report")).to_be_visible()
    figures = page.get_by_role("table", name="Cash in the drawer")
    expect(figures.get_by_role("row", name="Expected cash")).to_contain_text("¥219.50")
    expect(figures.get_by_role("row", name="Counted cash")).to_contain_text("¥219.00")
    expect(figures.get_by_role("row", name="Difference")).to_contain_text("-¥0.50 (short)")
    expect(page.get_by_role("table", name="Pay-ins and pay-outs")).to_contain_text("Milk tea")
    assert db_run(_closed_session, subdomain) == (
        "closed",
        21_950,
        21_900,
        -50,
        [("pay_out", 3_050, "Milk tea")],
    )
