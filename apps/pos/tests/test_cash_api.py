"""Cash sessions through the API and the staff pages (POS-5): open, current, pay-in/out, close, list and
detail; who may do and see what; bad input → 400 with nothing written; two salons."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.test import Client as HttpClient
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.core.models import Location
from apps.edge.models import PrintJob
from apps.pos.models import CashMovement, CashSession, CashSessionTally
from apps.pos.tests.factories_receipts import (
    cash_bill_make,
    english,  # noqa: F401  (fixture, used by pytestmark)
    english_staff,
)
from tests.fixtures import api_token, logged_in_client, make_staff

pytestmark = pytest.mark.usefixtures("english")


def _api(info: Any, username: str) -> HttpClient:
    return HttpClient(
        HTTP_HOST=info.host, HTTP_AUTHORIZATION=f"Bearer {api_token(info, username)}", HTTP_ACCEPT_LANGUAGE="en"
    )


def _location(info: Any) -> Location:
    with schema_context(info.schema):
        return Location.objects.order_by("pk").first()  # type: ignore[return-value]


def _counts(info: Any) -> tuple[int, int, int, int]:
    with schema_context(info.schema):
        return (
            CashSession.objects.count(),
            CashSession.objects.filter(status="closed").count(),
            CashMovement.objects.count(),
            CashSessionTally.objects.count(),
        )


def test_a_cashier_runs_a_drawer_through_the_api(alpha, beta):
    # given a front-desk cashier's token
    make_staff(alpha, role="front_desk", username="desk")
    api = _api(alpha, "desk")
    location = _location(alpha)

    # when the cashier opens the drawer with 300 yuan, takes 88 in cash, pays 20 out, and closes with 367
    opened = api.post(
        "/api/v1/cash-sessions/", {"location": location.pk, "opening_float": 30_000}, content_type="application/json"
    )
    session_id = opened.json()["id"]
    with schema_context(alpha.schema):
        cash_bill_make(8_800, location=location, tendered=10_000)
    current = api.get(f"/api/v1/cash-sessions/current/?location={location.pk}")
    pay_out = api.post(
        f"/api/v1/cash-sessions/{session_id}/pay-out/",
        {"amount": 2_000, "reason": "Flowers", "idempotency_key": "po-1"},
        content_type="application/json",
    )
    pay_out_again = api.post(
        f"/api/v1/cash-sessions/{session_id}/pay-out/",
        {"amount": 2_000, "reason": "Flowers", "idempotency_key": "po-1"},
        content_type="application/json",
    )
    closed = api.post(
        f"/api/v1/cash-sessions/{session_id}/close/",
        {"counted_cash": 36_700, "counted": {"wechat": 0}},
        content_type="application/json",
    )
    listed = api.get("/api/v1/cash-sessions/?status=closed")

    # then the session was open with its figures, and closed 1 yuan short of 368
    assert opened.status_code == 201 and opened.json()["status"] == "open"
    assert current.status_code == 200 and current.json()["report"]["cash"]["taken"] == 8_800
    assert current.json()["report"]["expected_cash"] == 38_800
    assert pay_out.status_code == 201 and pay_out.json()["kind"] == "pay_out"
    assert pay_out_again.status_code == 200 and pay_out_again.json()["id"] == pay_out.json()["id"]
    assert closed.status_code == 200
    body = closed.json()
    assert (body["status"], body["expected_cash"], body["counted_cash"], body["cash_difference"]) == (
        "closed",
        36_800,
        36_700,
        -100,
    )
    assert body["report"]["cash"] == {
        "method": "cash",
        "count": 1,
        "taken": 8_800,
        "refunded": 0,
        "expected": 36_800,
        "counted": 36_700,
        "difference": -100,
    }
    assert body["report"]["tenders"] == [
        {"method": "wechat", "count": 0, "taken": 0, "refunded": 0, "expected": 0, "counted": 0, "difference": 0}
    ]
    assert [(m["kind"], m["amount"], m["reason"]) for m in body["report"]["movements"]] == [
        ("pay_out", 2_000, "Flowers")
    ]
    assert [s["id"] for s in listed.json()["results"]] == [session_id]
    assert api.get(f"/api/v1/cash-sessions/current/?location={location.pk}").status_code == 404
    with schema_context(alpha.schema):
        assert PrintJob.objects.filter(kind="handover_report", reference=f"cash_session:{session_id}").count() == 1

    # and beta's staff do not see alpha's session
    make_staff(beta, role="owner", username="boss")
    assert _api(beta, "boss").get(f"/api/v1/cash-sessions/{session_id}/").status_code == 404


def test_second_open_is_a_conflict_and_closed_sessions_refuse_more(alpha):
    make_staff(alpha, role="front_desk", username="desk")
    api = _api(alpha, "desk")
    location = _location(alpha)
    first = api.post(
        "/api/v1/cash-sessions/", {"location": location.pk, "opening_float": 0}, content_type="application/json"
    )
    second = api.post(
        "/api/v1/cash-sessions/", {"location": location.pk, "opening_float": 100}, content_type="application/json"
    )
    assert second.status_code == 409
    assert second.json() == {
        "detail": "A cash session is already open at this location.",
        "code": "cash_session_already_open",
        "session": first.json()["id"],
    }
    session_id = first.json()["id"]
    api.post(f"/api/v1/cash-sessions/{session_id}/close/", {"counted_cash": 0}, content_type="application/json")
    late = api.post(
        f"/api/v1/cash-sessions/{session_id}/pay-in/", {"amount": 100, "reason": "x"}, content_type="application/json"
    )
    assert late.status_code == 409 and late.json()["code"] == "cash_session_closed"
    assert _counts(alpha) == (1, 1, 0, 1)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("open", {"opening_float": 100}),
        ("open", {"location": "main", "opening_float": 100}),
        ("open", {"location": 999_999, "opening_float": 100}),
        ("open", {"location": "LOC", "opening_float": -1}),
        ("open", {"location": "LOC", "opening_float": "1.5"}),
        ("open", {"location": "LOC", "opening_float": 10_000_000_001}),
        ("pay-in", {"amount": 0, "reason": "x"}),
        ("pay-in", {"amount": 100, "reason": ""}),
        ("pay-out", {"amount": 999_999, "reason": "More than the drawer"}),
        ("close", {}),
        ("close", {"counted_cash": 100, "counted": {"bitcoin": 1}}),
        ("close", {"counted_cash": 100, "counted": "wechat"}),
    ],
)
def test_bad_input_is_400_and_nothing_is_written(alpha, path, body):
    # given an open session at the first location (the second is free)
    make_staff(alpha, role="front_desk", username="desk")
    api = _api(alpha, "desk")
    first = _location(alpha)
    with schema_context(alpha.schema):
        second = Location.objects.create(name="Second shop")
    session = api.post(
        "/api/v1/cash-sessions/", {"location": first.pk, "opening_float": 500}, content_type="application/json"
    ).json()
    before = _counts(alpha)
    if body.get("location") == "LOC":
        body = {**body, "location": second.pk}

    # when nonsense is posted
    url = "/api/v1/cash-sessions/" if path == "open" else f"/api/v1/cash-sessions/{session['id']}/{path}/"
    response = api.post(url, body, content_type="application/json")

    # then 400 names the field, and nothing changed
    assert response.status_code == 400, response.content
    assert set(response.json()) <= {"location", "opening_float", "amount", "reason", "counted_cash", "counted"}
    assert _counts(alpha) == before


def test_who_may_do_and_see_what(alpha):
    # given a session opened by one cashier
    make_staff(alpha, role="front_desk", username="desk")
    make_staff(alpha, role="front_desk", username="colleague")
    make_staff(alpha, role="accountant", username="books")
    make_staff(alpha, role="technician", username="tech")
    location = _location(alpha)
    desk, colleague, books, tech = (_api(alpha, u) for u in ("desk", "colleague", "books", "tech"))
    session_id = desk.post(
        "/api/v1/cash-sessions/", {"location": location.pk, "opening_float": 100}, content_type="application/json"
    ).json()["id"]

    # then the colleague may pay in and see the current session but not its figures or report
    assert colleague.get(f"/api/v1/cash-sessions/current/?location={location.pk}").json()["report"] is None
    assert colleague.get(f"/api/v1/cash-sessions/{session_id}/").status_code == 403
    assert colleague.get("/api/v1/cash-sessions/").json()["count"] == 0
    assert (
        colleague.post(
            f"/api/v1/cash-sessions/{session_id}/pay-in/",
            {"amount": 100, "reason": "Coins"},
            content_type="application/json",
        ).status_code
        == 201
    )
    # the accountant reads every report but cannot open, pay or close
    assert books.get(f"/api/v1/cash-sessions/{session_id}/").status_code == 200
    assert books.get("/api/v1/cash-sessions/").json()["count"] == 1
    assert (
        books.post(f"/api/v1/cash-sessions/{session_id}/close/", {"counted_cash": 0}, content_type="application/json")
    ).status_code == 403
    # the technician gets nothing
    assert tech.get("/api/v1/cash-sessions/").status_code == 403
    assert (
        tech.post(
            "/api/v1/cash-sessions/", {"location": location.pk, "opening_float": 0}, content_type="application/json"
        ).status_code
        == 403
    )
    assert _counts(alpha) == (1, 0, 1, 0)


def test_pages_open_pay_out_close_and_the_report(alpha):
    # given a front-desk cashier whose pages are in English
    english_staff(alpha, role="front_desk", username="desk")
    english_staff(alpha, role="front_desk", username="colleague")
    english_staff(alpha, role="accountant", username="books")
    page = logged_in_client(alpha, "desk")
    location = _location(alpha)

    # when the cashier opens the drawer with 200 yuan, takes 50 in cash, pays 30.50 out and counts 219
    empty = page.get("/till/cash/")
    page.post("/till/cash/open/", {"location": location.pk, "opening_float": "200", "key": "k1-open"})
    with schema_context(alpha.schema):
        session = CashSession.objects.get()
        CashSession.objects.filter(pk=session.pk).update(opened_at=timezone.now() - datetime.timedelta(hours=1))
        cash_bill_make(5_000, location=location)
    bad = page.post(f"/till/cash/{session.pk}/movement/", {"kind": "pay_out", "amount": "-3", "reason": ""})
    movements_after_bad = _counts(alpha)[2]
    page.post(
        f"/till/cash/{session.pk}/movement/", {"kind": "pay_out", "amount": "30.50", "reason": "Milk tea", "key": "m1"}
    )
    open_page = page.get("/till/cash/")
    closed = page.post(f"/till/cash/{session.pk}/close/", {"counted_cash": "219"})
    report = page.get(closed["Location"])

    # then each page says what happened, and the report shows the drawer 50 fen short
    assert "No cash session is open at" in empty.content.decode()
    assert bad.status_code == 400 and movements_after_bad == 0
    html = open_page.content.decode()
    assert "Milk tea" in html and "¥219.50" in html  # expected so far: 200 + 50 − 30.50
    assert closed.status_code == 302 and closed["Location"] == f"/till/cash/{session.pk}/"
    text = report.content.decode()
    assert "Cash handover report" in text
    assert "¥219.50" in text and "¥219.00" in text and "-¥0.50" in text and "(short)" in text

    # and a colleague may not read it; the accountant may
    assert logged_in_client(alpha, "colleague").get(f"/till/cash/{session.pk}/").status_code == 403
    assert logged_in_client(alpha, "books").get(f"/till/cash/{session.pk}/").status_code == 200
    assert logged_in_client(alpha, "books").get("/till/cash/").status_code == 403
