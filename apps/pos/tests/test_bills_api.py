"""The orders API (SPEC §4): contract, bad input answered 400/403/404/409 with nothing changed, replays,
the top-up endpoint, and the checkout's query budget."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client as HttpClient
from django_tenants.utils import schema_context

from apps.core.models import AuditEntry
from apps.crm.models import PurchaseLine
from apps.loyalty.models import TopUpRule, WalletEntry
from apps.pos.models import Bill, BillLine, PosSettings, Refund, Tender
from apps.pos.tests.bills_support import api_client, coupon_for, till_make, wallet_of
from tests.fixtures import api_token


@pytest.fixture
def setup(alpha):
    with schema_context(alpha.schema):
        till = till_make()
    return {"till": till, "desk": api_client(alpha, till.desk), "boss": api_client(alpha, till.manager), "alpha": alpha}


def post(api: HttpClient, url: str, body: Any, **headers: Any) -> Any:
    return api.post(url, body, content_type="application/json", **headers)


def _order(s, **extra: Any) -> dict[str, Any]:
    t = s["till"]
    body = {
        "client": t.member.pk,
        "lines": [
            {"service": t.facial.pk, "staff": t.li.pk},
            {"service": t.cut.pk, "staff": [{"staff": t.wang.pk, "share": 6000}, {"staff": t.li.pk, "share": 4000}]},
            {"product": t.shampoo.pk, "quantity": 2},
        ],
        **extra,
    }
    response = post(s["desk"], "/api/v1/orders/", body)
    assert response.status_code == 201, response.content
    return response.json()


def _nothing_paid(s, order_id: int) -> None:
    with schema_context(s["alpha"].schema):
        bill = Bill.objects.get(pk=order_id)
        assert (bill.status, bill.paid_total) == ("open", 0)
        assert not Tender.objects.filter(bill=bill).exists()
        wallet = wallet_of(s["till"].member)
        assert (wallet.principal, wallet.bonus, wallet.points) == (100_000, 20_000, 500)


# --- orders and lines -----------------------------------------------------------------------------------


def test_creating_an_order_answers_the_bill(setup):
    t = setup["till"]
    order = _order(setup)
    assert order["status"] == "open" and order["number"].endswith("-0001")
    assert (order["client"], order["subtotal"], order["total"], order["due"]) == (t.member.pk, 57220, 57220, 57220)
    lines = order["lines"]
    assert [(x["kind"], x["name"], x["quantity"], x["unit_price"], x["amount"]) for x in lines] == [
        ("service", "Facial", 1, 26820, 26820),
        ("service", "Women's cut", 1, 10800, 10800),
        ("product", "Repair shampoo", 2, 9800, 19600),
    ]
    assert [(s["staff"], s["share"]) for s in lines[1]["staff"]] == [(t.wang.pk, 6000), (t.li.pk, 4000)]
    assert setup["desk"].get(f"/api/v1/orders/{order['id']}/").json() == order


def test_a_bad_line_creates_nothing(setup):
    t = setup["till"]
    unknown = post(setup["desk"], "/api/v1/orders/", {"client": t.member.pk, "lines": [{"service": 999999}]})
    assert unknown.status_code == 400 and "service" in unknown.json()["lines"]["0"]
    two = post(setup["desk"], "/api/v1/orders/", {"lines": [{"service": t.cut.pk, "product": t.shampoo.pk}]})
    assert two.status_code == 400 and "item" in two.json()["lines"]["0"]
    shares = post(
        setup["desk"],
        "/api/v1/orders/",
        {"lines": [{"service": t.cut.pk, "staff": [{"staff": t.li.pk, "share": 5000}]}]},
    )
    assert shares.status_code == 400, shares.content
    assert shares.json()["lines"]["0"] == {"staff": ["The staff shares of a line must add up to 100%."]}
    priced = post(
        setup["desk"], "/api/v1/orders/", {"lines": [{"service": t.cut.pk, "price": 1, "price_reason": "friend"}]}
    )
    assert priced.status_code == 400
    assert priced.json()["lines"]["0"] == {"price": ["You do not have permission to change prices."]}
    assert post(setup["desk"], "/api/v1/orders/", {"lines": "x"}).status_code == 400
    ghost = post(setup["desk"], "/api/v1/orders/", {"lines": [{"service": t.cut.pk, "staff": 10**20}]})
    assert (ghost.status_code, ghost.json()) == (400, {"lines": {"0": {"staff": ["Choose active staff members."]}}})
    with schema_context(setup["alpha"].schema):
        assert not Bill.objects.exists()


def test_lines_are_added_changed_and_removed(setup):
    t = setup["till"]
    order = post(setup["desk"], "/api/v1/orders/", {"client": t.plain.pk}).json()
    url = f"/api/v1/orders/{order['id']}/lines/"
    added = post(setup["desk"], url, {"service": t.facial.pk, "staff": [t.li.pk, t.wang.pk]})
    assert added.status_code == 201
    line = added.json()["lines"][0]
    assert [s["share"] for s in line["staff"]] == [5000, 5000]
    changed = setup["boss"].patch(
        f"{url}{line['id']}/", {"price": 25000, "price_reason": "regular"}, content_type="application/json"
    )
    assert changed.status_code == 200, changed.content
    assert (changed.json()["lines"][0]["unit_price"], changed.json()["total"]) == (25000, 25000)
    denied = setup["desk"].patch(
        f"{url}{line['id']}/", {"price": 1, "price_reason": "x"}, content_type="application/json"
    )
    assert (denied.status_code, denied.json()) == (403, {"price": ["You do not have permission to change prices."]})
    assert (
        setup["desk"].patch(f"{url}{line['id']}/", {"quantity": 0}, content_type="application/json").status_code == 400
    )
    removed = setup["desk"].delete(f"{url}{line['id']}/")
    assert removed.status_code == 200 and removed.json()["lines"] == []
    assert setup["desk"].delete(f"{url}{line['id']}/").status_code == 404
    notes = setup["desk"].patch(f"/api/v1/orders/{order['id']}/", {"notes": "VIP"}, content_type="application/json")
    assert notes.json()["notes"] == "VIP"


def test_the_list_filters_and_its_query_count(setup, django_assert_max_num_queries):
    t = setup["till"]
    first = _order(setup)
    second = post(setup["desk"], "/api/v1/orders/", {"client": t.plain.pk, "lines": [{"product": t.shampoo.pk}]})
    post(
        setup["desk"], f"/api/v1/orders/{second.json()['id']}/pay/", {"payments": [{"method": "cash", "amount": 9800}]}
    )
    with django_assert_max_num_queries(2 * 9):  # token, permissions ×2, count, bills, lines, shares, coupons, tenders
        listed = setup["desk"].get("/api/v1/orders/")
    assert listed.status_code == 200
    assert [b["id"] for b in listed.json()["results"]] == [second.json()["id"], first["id"]]
    assert [b["id"] for b in setup["desk"].get("/api/v1/orders/?status=open").json()["results"]] == [first["id"]]
    by_client = setup["desk"].get(f"/api/v1/orders/?client={t.member.pk}").json()
    assert [b["id"] for b in by_client["results"]] == [first["id"]]
    assert setup["desk"].get("/api/v1/orders/?date=2001-01-01").json()["count"] == 0
    assert setup["desk"].get("/api/v1/orders/?status=nope").status_code == 400
    assert setup["desk"].get("/api/v1/orders/?date=13-13").status_code == 400


def test_a_technician_and_another_salon_see_no_orders(setup, beta):
    order = _order(setup)
    tech = api_client(setup["alpha"], setup["till"].li)
    assert tech.get("/api/v1/orders/").status_code == 403
    assert post(tech, "/api/v1/orders/", {}).status_code == 403
    with schema_context(beta.schema):
        from apps.core.models import User

        owner = User.objects.get(role="owner")
    other = HttpClient(
        HTTP_HOST=beta.host, HTTP_AUTHORIZATION=f"Bearer {api_token(beta, owner.username)}", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert other.get(f"/api/v1/orders/{order['id']}/").status_code == 404
    assert post(other, f"/api/v1/orders/{order['id']}/pay/", {"payments": []}).status_code == 404


# --- paying ---------------------------------------------------------------------------------------------


def test_paying_split_cash_and_stored_value(setup):
    order = _order(setup)
    paid = post(
        setup["desk"],
        f"/api/v1/orders/{order['id']}/pay/",
        {
            "payments": [
                {"method": "cash", "amount": 20000, "tendered": 20500},
                {"method": "stored_value", "amount": 37220},
            ]
        },
        HTTP_IDEMPOTENCY_KEY="tablet-42",
    )
    assert paid.status_code == 200, paid.content
    body = paid.json()
    assert (body["status"], body["paid_total"], body["due"], body["change_given"]) == ("paid", 57220, 0, 500)
    assert [(t["method"], t["amount"], t["change"]) for t in body["tenders"]] == [
        ("cash", 20000, 500),
        ("stored_value", 37220, 0),
    ]
    assert body == setup["desk"].get(f"/api/v1/orders/{order['id']}/").json()
    # a replay answers the same and changes nothing
    again = post(
        setup["desk"],
        f"/api/v1/orders/{order['id']}/pay/",
        {
            "payments": [
                {"method": "cash", "amount": 20000, "tendered": 20500},
                {"method": "stored_value", "amount": 37220},
            ]
        },
        HTTP_IDEMPOTENCY_KEY="tablet-42",
    )
    assert again.status_code == 200 and again.json() == body
    with schema_context(setup["alpha"].schema):
        assert WalletEntry.objects.filter(reference=f"bill:{order['id']}").count() == 1
        assert PurchaseLine.objects.filter(visit_reference=f"bill:{order['id']}").count() == 3


@pytest.mark.parametrize(
    ("payments", "status", "expected"),
    [
        ([{"method": "cash", "amount": 100}], 400, {"code": "tenders_do_not_sum", "due": 57220, "entered": 100}),
        ([{"method": "bitcoin", "amount": 57220}], 400, "payments"),
        ([{"method": "cash", "amount": -5}], 400, "payments"),
        (
            [{"method": "cash", "amount": 57220, "tendered": 100}],
            400,
            {"payments": ["The cash handed over is less than the amount it pays."]},
        ),
        (
            [{"method": "wechat", "amount": 57220}],
            400,
            {"payments": ["This salon does not take WeChat Pay at the till."]},
        ),
        ([{"method": "stored_value", "amount": 200_000}, {"method": "cash", "amount": 1}], 400, {"due": 57220}),
        (  # stored value taken, then the points fail: all undone
            [{"method": "stored_value", "amount": 37220}, {"method": "points", "points": 20000}],
            400,
            {"points": ["The client does not have enough points."]},
        ),
        ([{"method": "points", "points": 57220}], 400, {"points": ["The client does not have enough points."]}),
        ([{"method": "course_card", "line": 999999}], 400, "payments"),
        ([], 400, {"code": "tenders_do_not_sum", "entered": 0}),
    ],
)
def test_bad_payments_change_nothing(setup, payments, status, expected):
    order = _order(setup)
    response = post(setup["desk"], f"/api/v1/orders/{order['id']}/pay/", {"payments": payments})
    assert response.status_code == status, response.content
    body = response.json()
    if isinstance(expected, str):
        assert expected in body, body
    else:
        assert {k: body.get(k) for k in expected} == expected, body
    _nothing_paid(setup, order["id"])


def test_a_paid_or_voided_order_answers_409(setup):
    order = _order(setup)
    url = f"/api/v1/orders/{order['id']}/pay/"
    assert post(setup["desk"], url, {"payments": [{"method": "cash", "amount": 57220}]}).status_code == 200
    again = post(setup["desk"], url, {"payments": [{"method": "cash", "amount": 57220}]})
    assert (again.status_code, again.json()["code"]) == (409, "bill_already_paid")
    voided = post(setup["desk"], "/api/v1/orders/", {"lines": [{"product": setup["till"].shampoo.pk}]}).json()
    assert post(setup["desk"], f"/api/v1/orders/{voided['id']}/void/", {"reason": "x"}).status_code == 403
    done = post(setup["boss"], f"/api/v1/orders/{voided['id']}/void/", {"reason": "opened twice"})
    assert (done.status_code, done.json()["status"]) == (200, "voided")
    late = post(
        setup["desk"], f"/api/v1/orders/{voided['id']}/pay/", {"payments": [{"method": "cash", "amount": 9800}]}
    )
    assert (late.status_code, late.json()["code"]) == (409, "bill_not_open")
    paid_void = post(setup["boss"], f"/api/v1/orders/{order['id']}/void/", {"reason": "x"})
    assert (paid_void.status_code, paid_void.json()["code"]) == (409, "bill_not_open")
    assert post(setup["desk"], "/api/v1/orders/999999/pay/", {"payments": []}).status_code == 404


def test_the_checkout_of_a_three_line_bill_takes_at_most_40_queries(setup, django_assert_max_num_queries):
    # given a three-line member bill (the settings rows exist, as in a running salon)
    order = _order(setup)
    with schema_context(setup["alpha"].schema):
        PosSettings.objects.get_or_create(id=1)
    body = {"payments": [{"method": "cash", "amount": 20000}, {"method": "stored_value", "amount": 37220}]}
    # when it is paid by cash and stored value; then at most 40 statements besides django-tenants' search path
    with django_assert_max_num_queries(80) as captured:
        response = post(setup["desk"], f"/api/v1/orders/{order['id']}/pay/", body, HTTP_IDEMPOTENCY_KEY="q-1")
    assert response.status_code == 200, response.content
    statements = [q["sql"] for q in captured.captured_queries if not q["sql"].startswith("SET search_path")]
    # The payment's own transaction is a savepoint here only because the test runs inside one; in a
    # request it is BEGIN … COMMIT, which are not statements Django sends.
    assert statements[1].startswith("SAVEPOINT") and statements[-1].startswith("RELEASE SAVEPOINT")
    statements = statements[:1] + statements[2:-1]
    # The target is 40; it takes 33 (docs/till.md, Performance, lists them). Points are earned in two
    # statements and the tier ladder is read once, so a change that adds one shows up here.
    assert len(statements) <= 33, "\n".join(s[:120] for s in statements)


# --- refunds --------------------------------------------------------------------------------------------


def test_refunds_through_the_api(setup):
    order = _order(setup)
    post(
        setup["desk"],
        f"/api/v1/orders/{order['id']}/pay/",
        {"payments": [{"method": "cash", "amount": 20000}, {"method": "stored_value", "amount": 37220}]},
    )
    url = f"/api/v1/orders/{order['id']}/refund/"
    shampoo = order["lines"][2]["id"]
    assert post(setup["desk"], url, {"amount": 100, "reason": "x"}).status_code == 403
    too_much = post(setup["boss"], url, {"amount": 57221, "reason": "x"})
    assert (too_much.status_code, too_much.json()) == (400, {"amount": ["This is more than is left to refund."]})
    both = post(setup["boss"], url, {"amount": 100, "lines": [{"line": shampoo, "quantity": 1}], "reason": "x"})
    assert (both.status_code, both.json()) == (400, {"lines": ["Choose lines to refund, or an amount."]})
    foreign = post(setup["boss"], url, {"lines": [{"line": 999999, "quantity": 1}], "reason": "x"})
    assert foreign.status_code == 400
    assert post(setup["boss"], url, {"amount": 100}).status_code == 400  # no reason
    with schema_context(setup["alpha"].schema):
        assert not Refund.objects.exists()
    done = post(
        setup["boss"],
        url,
        {"lines": [{"line": shampoo, "quantity": 1}], "reason": "damaged"},
        HTTP_IDEMPOTENCY_KEY="r1",
    )
    assert done.status_code == 201, done.content
    refund = done.json()
    assert (refund["amount"], refund["lines"], refund["tenders"][0]["method"]) == (
        9800,
        [{"line": shampoo, "quantity": 1, "amount": 9800}],
        "stored_value",
    )
    assert refund["order"]["refunded_total"] == 9800
    again = post(
        setup["boss"],
        url,
        {"lines": [{"line": shampoo, "quantity": 1}], "reason": "damaged"},
        HTTP_IDEMPOTENCY_KEY="r1",
    )
    assert again.json()["id"] == refund["id"]
    with schema_context(setup["alpha"].schema):
        assert AuditEntry.objects.filter(action="pos.bill_refunded").count() == 1


# --- coupons, settings, top-ups -------------------------------------------------------------------------


def test_coupons_are_suggested_applied_and_removed(setup):
    t = setup["till"]
    with schema_context(setup["alpha"].schema):
        coupon = coupon_for(t.member, value=3000)
    order = _order(setup)
    url = f"/api/v1/orders/{order['id']}/coupons/"
    advice = setup["desk"].get(url).json()
    assert advice["best"] == {"coupons": [coupon.pk], "discount": 3000}
    assert advice["options"][0]["applicable"] is True
    applied = post(setup["desk"], url, {"best": True}).json()
    assert (applied["discount_total"], applied["total"]) == (3000, 54220)
    assert applied["coupons"][0]["coupon"] == coupon.pk
    assert post(setup["desk"], url, {}).status_code == 400
    removed = setup["desk"].delete(f"{url}{coupon.pk}/").json()
    assert (removed["discount_total"], removed["coupons"]) == (0, [])


def test_till_settings(setup):
    got = setup["desk"].get("/api/v1/till-settings/")
    assert got.status_code == 200 and got.json()["accepts_cash"] is True
    assert (
        setup["desk"]
        .patch("/api/v1/till-settings/", {"accepts_points": False}, content_type="application/json")
        .status_code
        == 403
    )
    owner = api_client(setup["alpha"], setup["till"].owner)
    changed = owner.patch(
        "/api/v1/till-settings/", {"accepts_points": False, "receipt_width": 58}, content_type="application/json"
    )
    assert changed.status_code == 200 and (changed.json()["accepts_points"], changed.json()["receipt_width"]) == (
        False,
        58,
    )
    bad = owner.patch("/api/v1/till-settings/", {"receipt_width": 70}, content_type="application/json")
    assert bad.status_code == 400 and "receipt_width" in bad.json()


def test_a_top_up_is_sold_through_the_till(setup):
    t = setup["till"]
    with schema_context(setup["alpha"].schema):
        TopUpRule.objects.create(pay_amount=100_000, bonus_amount=20_000)
    url = f"/api/v1/clients/{t.member.pk}/top-ups/"
    response = post(setup["desk"], url, {"amount": 100_000, "method": "cash"}, HTTP_IDEMPOTENCY_KEY="top-1")
    assert response.status_code == 201, response.content
    body = response.json()
    wallet = setup["desk"].get(f"/api/v1/clients/{t.member.pk}/wallet/").json()
    assert {k: body[k] for k in wallet} == wallet
    assert (body["principal"], body["bonus"]) == (200_000, 40_000)
    again = post(setup["desk"], url, {"amount": 100_000, "method": "cash"}, HTTP_IDEMPOTENCY_KEY="top-1")
    assert again.status_code == 201 and again.json()["principal"] == 200_000
    with schema_context(setup["alpha"].schema):
        bill = Bill.objects.get(pk=body["order"])
        assert (bill.status, bill.total) == ("paid", 100_000)
        assert BillLine.objects.get(bill=bill).top_up_bonus == 20_000
    refused = post(setup["desk"], url, {"amount": 100_000, "method": "stored_value"})
    assert (refused.status_code, refused.json()) == (
        400,
        {"method": ["A top-up is paid in cash, by WeChat Pay or by Alipay."]},
    )
    gateway = post(setup["desk"], url, {"amount": 100_000, "method": "wechat"})
    assert (gateway.status_code, gateway.json()["payments"]) == (
        400,
        ["This salon does not take WeChat Pay at the till."],
    )
    assert post(setup["desk"], url, {"amount": 0, "method": "cash"}).status_code == 400
    assert post(setup["desk"], "/api/v1/clients/999999/top-ups/", {"amount": 100, "method": "cash"}).status_code == 404
    with schema_context(setup["alpha"].schema):
        assert Bill.objects.count() == 1
        assert wallet_of(t.member).principal == 200_000


def test_an_appointment_checked_out_through_the_api(setup):
    import datetime

    from apps.scheduling.models import AppointmentStatus
    from apps.scheduling.tests.support import appointment_insert

    t = setup["till"]
    with schema_context(setup["alpha"].schema):
        visit = appointment_insert(
            client=t.member,
            start=datetime.datetime(2030, 3, 4, 2, 0, tzinfo=datetime.UTC),
            lines=[(t.facial, t.wang)],
            status=AppointmentStatus.DONE,
        )
    first = post(setup["desk"], "/api/v1/orders/", {"appointment": visit.pk, "lines": [{"product": t.shampoo.pk}]})
    assert first.status_code == 201
    assert [x["name"] for x in first.json()["lines"]] == ["Facial", "Repair shampoo"]
    second = post(setup["desk"], "/api/v1/orders/", {"appointment": visit.pk, "lines": [{"product": t.shampoo.pk}]})
    assert second.status_code == 200 and second.json()["id"] == first.json()["id"]
    assert len(second.json()["lines"]) == 2


def test_the_openapi_document_describes_the_orders_without_warnings(alpha):
    from drf_spectacular.drainage import GENERATOR_STATS
    from drf_spectacular.generators import SchemaGenerator

    GENERATOR_STATS.reset()
    schema = SchemaGenerator(urlconf="salon_platform.urls_tenant").get_schema(request=None, public=True)
    ours = [m for m in [*GENERATOR_STATS._warn_cache, *GENERATOR_STATS._error_cache] if "apps/pos" in m]
    assert ours == []
    assert {
        "/api/v1/orders/",
        "/api/v1/orders/{id}/",
        "/api/v1/orders/{id}/lines/",
        "/api/v1/orders/{id}/pay/",
        "/api/v1/orders/{id}/refund/",
        "/api/v1/orders/{id}/void/",
        "/api/v1/orders/{id}/coupons/",
        "/api/v1/till-settings/",
        "/api/v1/clients/{id}/top-ups/",
    } <= set(schema["paths"])


def test_a_package_paid_through_the_orders_api_issues_its_card(setup):
    # given the member's order of 2 "Cut & care" packages (one cut each, no expiry)
    t = setup["till"]
    created = post(
        setup["desk"], "/api/v1/orders/", {"client": t.member.pk, "lines": [{"package": t.package.pk, "quantity": 2}]}
    )
    assert created.status_code == 201, created.content
    order = created.json()
    assert [(x["kind"], x["package"], x["quantity"], x["amount"]) for x in order["lines"]] == [
        ("package", t.package.pk, 2, 77600)
    ]
    # when it is paid in cash
    paid = post(
        setup["desk"], f"/api/v1/orders/{order['id']}/pay/", {"payments": [{"method": "cash", "amount": 77600}]}
    )
    assert paid.status_code == 200, paid.content
    # then the line names the card issued, which the client's cards list with the package's name and sessions
    issued = paid.json()["lines"][0]["issued_course_card"]
    cards = setup["desk"].get(f"/api/v1/clients/{t.member.pk}/course-cards/").json()["results"]
    assert cards == [
        {
            "id": issued,
            "client": t.member.pk,
            "template": None,
            "package": t.package.pk,
            "name": "Cut & care",
            "price": 77600,
            "sold_at": cards[0]["sold_at"],
            "expires_on": None,
            "status": "active",
            "reference": f"bill:{order['id']}",
            "balances": [{"service": t.cut.pk, "service_name": "Women's cut", "sessions_total": 2, "sessions_left": 2}],
        }
    ]
    wallet = setup["desk"].get(f"/api/v1/clients/{t.member.pk}/wallet/").json()
    assert [(c["id"], c["expires_on"]) for c in wallet["course_cards"]] == [(issued, None)]


def test_a_package_with_services_is_refused_on_a_walk_in_order(setup):
    t = setup["till"]
    refused = post(setup["desk"], "/api/v1/orders/", {"lines": [{"package": t.package.pk}]})
    assert (refused.status_code, refused.json()) == (
        400,
        {"lines": {"0": {"client": ["A package with services needs a client to hold its sessions."]}}},
    )
    with schema_context(setup["alpha"].schema):
        assert not Bill.objects.exists()
