"""A technician on the front-desk tablet uploads a client's before and after photos, compares
them side by side (stacked on a phone), and prints a skin report without the app around it."""

from __future__ import annotations

import io
import re
import secrets
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.browser.support import LiveSalonServer, SalonLedger, db_run, sign_in

try:
    from playwright.sync_api import expect
except ImportError:  # the browser_available fixture skips, or fails under REQUIRE_BROWSER=1
    expect = None  # type: ignore[assignment]

pytestmark = pytest.mark.browser

PASSWORD = "Passw0rd-x"


def _jpeg(color: tuple[int, int, int]) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (120, 90), color).save(out, "JPEG")
    return out.getvalue()


def _prepare(subdomain: str) -> dict[str, Any]:
    from django_tenants.utils import schema_context

    from apps.core.db import salon_today
    from apps.core.services import staff_create, user_set_language
    from apps.crm.services.clients import client_create
    from apps.crm.services.media import skin_record_create
    from tenants.services import salon_signup

    salon = salon_signup(
        raw={
            "salon_name": "Lotus Spa",
            "subdomain": subdomain,
            "owner_name": "Lin Fang",
            "owner_email": f"owner@{subdomain}.test",
            "owner_phone": "13912345671",
            "password": PASSWORD,
        }
    ).salon
    with schema_context(salon.schema_name):
        tech = staff_create(name="Chen Tech", role="technician", username="chen", password=PASSWORD)
        user_set_language(user=tech, language="en")
        client = client_create(name="Ana Li", acting_user=tech)
        record = skin_record_create(
            client=client,
            recorded_on=salon_today(),
            area="Cheeks",
            symptoms="Redness",
            plan="Soothing mask",
            acting_user=tech,
        )
    return {"schema": salon.schema_name, "client": client.pk, "record": record.pk}


def _upload(page: Any, kind: str, color: tuple[int, int, int], caption: str) -> None:
    page.get_by_label("Photo", exact=True).set_input_files(
        {"name": f"{kind}.jpg", "mimeType": "image/jpeg", "buffer": _jpeg(color)}
    )
    page.get_by_label("Kind", exact=True).select_option(kind)
    page.get_by_label("Caption", exact=True).fill(caption)
    page.get_by_role("button", name="Upload", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="The photo was added.")).to_be_visible()


def _loaded(image: Any) -> bool:
    """Whether the picture loaded: waits for its load or error event when it is still on its way (a
    thumbnail inserted by htmx may still be loading when the test looks)."""
    return bool(
        image.evaluate(
            """img => img.complete && img.naturalWidth > 0 ? true : new Promise(resolve => {
                img.addEventListener("load", () => resolve(img.naturalWidth > 0), {once: true});
                img.addEventListener("error", () => resolve(false), {once: true});
                if (img.complete) resolve(img.naturalWidth > 0);
            })"""
        )
    )


def test_technician_uploads_compares_and_prints(
    salon_ledger: SalonLedger, salon_server: LiveSalonServer, page: Any
) -> None:
    from django.conf import settings

    subdomain = f"photos-{secrets.token_hex(3)}"
    made = db_run(_prepare, subdomain)
    try:
        pk = made["client"]
        page.goto(salon_server.salon_url(subdomain, "/login/"))
        sign_in(page, "chen", PASSWORD)
        page.goto(salon_server.salon_url(subdomain, f"/clients/{pk}/photos/"))

        # Two photos go up; both thumbnails load from the private streaming view.
        _upload(page, "before", (200, 30, 30), "First visit")
        _upload(page, "after", (30, 30, 200), "After six sessions")
        thumbs = page.locator(".photo-grid img")
        expect(thumbs).to_have_count(2)
        for i in range(2):
            assert _loaded(thumbs.nth(i))
            assert "/thumb/" in (thumbs.nth(i).get_attribute("src") or "")

        # Before on the left, after on the right, side by side on the tablet.
        page.get_by_role("link", name="Compare before and after").first.click()
        figures = page.locator("#comparison figure")
        expect(figures).to_have_count(2)
        expect(figures.nth(0)).to_contain_text("First visit")
        expect(figures.nth(1)).to_contain_text("After six sessions")
        left, right = figures.nth(0).bounding_box(), figures.nth(1).bounding_box()
        assert left and right and right["x"] > left["x"] + left["width"] - 1 and abs(right["y"] - left["y"]) < 2

        # Swapping the left picker redraws the comparison in place and keeps the address.
        after_id = page.get_by_label("Right photo").input_value()
        page.get_by_label("Left photo").select_option(after_id)
        expect(figures.nth(0)).to_contain_text("After six sessions")
        expect(page).to_have_url(re.compile(rf"left={after_id}"))

        # On a phone the two photos stack.
        page.set_viewport_size({"width": 390, "height": 844})
        top, bottom = figures.nth(0).bounding_box(), figures.nth(1).bounding_box()
        assert top and bottom and bottom["y"] >= top["y"] + top["height"] - 1
        page.set_viewport_size({"width": 1024, "height": 768})

        # The printed skin report has no navigation and no buttons.
        page.goto(salon_server.salon_url(subdomain, f"/clients/{pk}/skin-records/{made['record']}/print/"))
        expect(page.get_by_role("heading", level=1)).to_have_text("Skin diagnosis report")
        page.emulate_media(media="print")
        expect(page.get_by_role("button", name="Print")).to_be_hidden()
        expect(page.get_by_text("Lotus Spa")).to_be_visible()
        expect(page.get_by_text("Client signature")).to_be_visible()
        assert page.locator(".sidenav").count() == 0
    finally:
        shutil.rmtree(Path(settings.MEDIA_ROOT) / "salons" / made["schema"], ignore_errors=True)
