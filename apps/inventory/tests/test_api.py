"""Inventory through /api/v1/: stock levels, movements, adjustments, transfers, purchase orders,
stocktakes and settings. Bad input is a translated 400 or 409 with nothing written, never a 500."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client
from django_tenants.utils import schema_context

from apps.catalog import services as catalog
from apps.inventory.models import MovementKind, PurchaseOrder, StockLevel, StockMovement, Stocktake, StockTransfer
from apps.inventory.tests.helpers import main_location, on_hand, product, second_location, stock_in
from tests.fixtures import api_token, make_staff

D = Decimal


def api(info, username: str) -> Client:
    return Client(
        HTTP_HOST=info.host, HTTP_AUTHORIZATION=f"Bearer {api_token(info, username)}", HTTP_ACCEPT_LANGUAGE="en"
    )


@pytest.fixture
def stocked(alpha):
    make_staff(alpha, role="technician", username="wang")
    make_staff(alpha, role="front_desk", username="desk")
    with schema_context(alpha.schema):
        main, branch = main_location(), second_location()
        shampoo, mask = product("Shampoo"), product("Mask", cost=2500)
        stock_in(main, shampoo, 5)
        stock_in(branch, mask, 2)
        supplier = catalog.supplier_create(name="Supply Co")
    return {
        "main": main,
        "branch": branch,
        "shampoo": shampoo,
        "mask": mask,
        "supplier": supplier,
        "owner": api(alpha, alpha.owner_username),
        "tech": api(alpha, "wang"),
        "desk": api(alpha, "desk"),
        "schema": alpha.schema,
    }


def post(client: Client, url: str, body: dict) -> object:
    return client.post(url, body, content_type="application/json")


def test_stock_levels_are_listed_filtered_and_readable_by_all_staff(stocked, beta):
    main, shampoo = stocked["main"], stocked["shampoo"]
    # alert level set by the owner (the front desk may not)
    body = {"location": main.pk, "product": shampoo.pk, "reorder_level": "6"}
    assert post(stocked["desk"], "/api/v1/stock-levels/", body).status_code == 403
    response = post(stocked["owner"], "/api/v1/stock-levels/", body)
    assert response.status_code == 200, response.content
    assert (response.json()["reorder_level"], response.json()["is_low"]) == ("6.000", True)
    # any signed-in staff reads; ?low=true lists what is low
    listing = stocked["tech"].get("/api/v1/stock-levels/?low=true")
    assert listing.status_code == 200
    assert listing.json()["count"] == 1
    row = listing.json()["results"][0]
    assert {k: row[k] for k in ("location", "product", "quantity", "reorder_level", "is_low", "is_negative")} == {
        "location": main.pk,
        "product": shampoo.pk,
        "quantity": "5.000",
        "reorder_level": "6.000",
        "is_low": True,
        "is_negative": False,
    }
    assert stocked["owner"].get(f"/api/v1/stock-levels/?location={stocked['branch'].pk}").json()["count"] == 1
    for bad in ("?location=x", "?low=maybe", "?product=-1"):
        answer = stocked["owner"].get(f"/api/v1/stock-levels/{bad}")
        assert answer.status_code == 400, bad
    # another salon sees none of it
    beta_api = api(beta, beta.owner_username)
    assert beta_api.get("/api/v1/stock-levels/").json()["count"] == 0


def test_movements_are_filtered_and_need_the_permission(stocked):
    owner, shampoo = stocked["owner"], stocked["shampoo"]
    assert stocked["tech"].get("/api/v1/stock-movements/").status_code == 403
    rows = owner.get(f"/api/v1/stock-movements/?product={shampoo.pk}&kind=adjustment").json()
    assert rows["count"] == 1
    assert {k: rows["results"][0][k] for k in ("kind", "quantity", "quantity_after", "reason", "went_negative")} == {
        "kind": "adjustment",
        "quantity": "5.000",
        "quantity_after": "5.000",
        "reason": "found",
        "went_negative": False,
    }
    assert owner.get("/api/v1/stock-movements/?from=2000-01-01&to=2000-01-02").json()["count"] == 0
    for bad in ("?kind=theft", "?from=yesterday", "?to=99999-01-01"):
        answer = owner.get(f"/api/v1/stock-movements/{bad}")
        assert answer.status_code == 400, bad
        assert answer.json()


def test_an_adjustment_is_created_once_and_refused_clearly(stocked):
    owner, main, shampoo = stocked["owner"], stocked["main"], stocked["shampoo"]
    body = {
        "location": main.pk,
        "product": shampoo.pk,
        "quantity": "-2",
        "reason": "damaged",
        "idempotency_key": "adj-1",
    }
    created = post(owner, "/api/v1/stock-adjustments/", body)
    assert created.status_code == 201, created.content
    assert (created.json()["quantity"], created.json()["quantity_after"]) == ("-2.000", "3.000")
    replay = post(owner, "/api/v1/stock-adjustments/", body)
    assert (replay.status_code, replay.json()["id"]) == (200, created.json()["id"])
    # too much out: 409 naming the product and what is on hand
    refused = post(owner, "/api/v1/stock-adjustments/", body | {"quantity": "-9", "idempotency_key": "adj-2"})
    assert refused.status_code == 409
    assert refused.json() == {
        "detail": f"Not enough {shampoo} at {main.name}: 3 on hand, 9 needed.",
        "code": "insufficient_stock",
        "product": shampoo.pk,
        "location": main.pk,
        "on_hand": "3.000",
        "needed": "9.000",
    }
    # field errors
    for change, field in (
        ({"reason": "bored"}, "reason"),
        ({"quantity": "0"}, "quantity"),
        ({"quantity": "1.2345"}, "quantity"),
        ({"product": 999999}, "product"),
        ({"idempotency_key": ""}, "idempotency_key"),
    ):
        answer = post(
            owner, "/api/v1/stock-adjustments/", body | change | {"idempotency_key": change.get("idempotency_key", "x")}
        )
        assert answer.status_code == 400, (change, answer.content)
        assert field in answer.json(), (change, answer.json())
    assert post(stocked["desk"], "/api/v1/stock-adjustments/", body | {"idempotency_key": "d"}).status_code == 403
    with schema_context(stocked["schema"]):
        assert on_hand(main, shampoo) == D("3")
        assert StockMovement.objects.filter(kind=MovementKind.ADJUSTMENT, product=shampoo).count() == 2
    listing = owner.get("/api/v1/stock-adjustments/").json()
    assert listing["count"] == 3


def test_negative_stock_when_the_salon_allows_it(stocked):
    owner, main, shampoo = stocked["owner"], stocked["main"], stocked["shampoo"]
    assert owner.get("/api/v1/inventory-settings/").json() == {"allow_negative_stock": False, "low_stock_alerts": True}
    assert (
        stocked["desk"]
        .patch("/api/v1/inventory-settings/", {"allow_negative_stock": True}, content_type="application/json")
        .status_code
        == 403
    )
    patched = owner.patch(
        "/api/v1/inventory-settings/", {"allow_negative_stock": True}, content_type="application/json"
    )
    assert patched.json() == {"allow_negative_stock": True, "low_stock_alerts": True}
    body = {"location": main.pk, "product": shampoo.pk, "quantity": "-7", "reason": "salon_use", "idempotency_key": "n"}
    created = post(owner, "/api/v1/stock-adjustments/", body)
    assert created.status_code == 201
    assert (created.json()["quantity_after"], created.json()["went_negative"]) == ("-2.000", True)
    negative = owner.get("/api/v1/stock-levels/?negative=true").json()["results"]
    assert [(r["product"], r["is_negative"]) for r in negative] == [(shampoo.pk, True)]
    assert negative[0]["negative_since"] is not None


def test_a_transfer_through_the_api(stocked):
    owner, main, branch, shampoo = stocked["owner"], stocked["main"], stocked["branch"], stocked["shampoo"]
    body = {
        "from_location": main.pk,
        "to_location": branch.pk,
        "lines": [{"product": shampoo.pk, "quantity": "2"}],
        "note": "top-up",
        "idempotency_key": "tr-1",
    }
    created = post(owner, "/api/v1/stock-transfers/", body)
    assert created.status_code == 201, created.content
    assert created.json()["lines"] == [{"product": shampoo.pk, "product_name": str(shampoo), "quantity": "2.000"}]
    assert post(owner, "/api/v1/stock-transfers/", body).status_code == 200
    short = post(
        owner,
        "/api/v1/stock-transfers/",
        body | {"lines": [{"product": shampoo.pk, "quantity": "9"}], "idempotency_key": "tr-2"},
    )
    assert (short.status_code, short.json()["code"]) == (409, "insufficient_stock")
    same = post(owner, "/api/v1/stock-transfers/", body | {"to_location": main.pk, "idempotency_key": "tr-3"})
    assert (same.status_code, list(same.json())) == (400, ["to_location"])
    assert owner.get(f"/api/v1/stock-transfers/?location={branch.pk}").json()["count"] == 1
    assert owner.get(f"/api/v1/stock-transfers/{created.json()['id']}/").status_code == 200
    with schema_context(stocked["schema"]):
        assert (on_hand(main, shampoo), on_hand(branch, shampoo), StockTransfer.objects.count()) == (D("3"), D("2"), 1)


def test_a_purchase_order_from_draft_to_received(stocked):
    owner, main, shampoo, mask = stocked["owner"], stocked["main"], stocked["shampoo"], stocked["mask"]
    created = post(
        owner,
        "/api/v1/purchase-orders/",
        {
            "supplier": stocked["supplier"].pk,
            "location": main.pk,
            "lines": [
                {"product": shampoo.pk, "quantity": "10", "unit_cost": 3800},
                {"product": mask.pk, "quantity": 4},
            ],
        },
    )
    assert created.status_code == 201, created.content
    order = created.json()
    assert (order["status"], order["total"], order["number"]) == (
        "draft",
        10 * 3800 + 4 * 2500,
        f"PO-{order['id']:05d}",
    )
    lines = {line["product"]: line["id"] for line in order["lines"]}
    url = f"/api/v1/purchase-orders/{order['id']}/"
    early = post(
        owner, url + "receive/", {"lines": [{"line": lines[shampoo.pk], "quantity": "1"}], "idempotency_key": "e"}
    )
    assert (early.status_code, early.json()["code"]) == (409, "order_not_receivable")
    assert owner.patch(url, {"note": "rush"}, content_type="application/json").json()["note"] == "rush"
    assert post(owner, url + "order/", {}).json()["status"] == "ordered"
    assert post(owner, url + "order/", {}).status_code == 409
    partial = post(
        owner, url + "receive/", {"lines": [{"line": lines[shampoo.pk], "quantity": "6"}], "idempotency_key": "d1"}
    )
    assert partial.status_code == 201, partial.content
    assert partial.json()["status"] == "partially_received"
    assert [(m["kind"], m["quantity"], m["unit_cost"]) for m in partial.json()["movements"]] == [
        ("purchase_receipt", "6.000", 3800)
    ]
    too_much = post(
        owner, url + "receive/", {"lines": [{"line": lines[shampoo.pk], "quantity": "5"}], "idempotency_key": "d2"}
    )
    assert (too_much.status_code, too_much.json()["code"]) == (409, "receive_too_much")
    not_ours = post(owner, url + "receive/", {"lines": [{"line": 999999, "quantity": "1"}], "idempotency_key": "d3"})
    assert (not_ours.status_code, list(not_ours.json())) == (400, ["lines"])
    rest = post(
        owner,
        url + "receive/",
        {
            "lines": [{"line": lines[shampoo.pk], "quantity": "4"}, {"line": lines[mask.pk], "quantity": "4"}],
            "idempotency_key": "d4",
        },
    )
    assert rest.json()["status"] == "received"
    assert post(owner, url + "cancel/", {"reason": "x"}).status_code == 409
    assert owner.get("/api/v1/purchase-orders/?status=received").json()["count"] == 1
    assert owner.get("/api/v1/purchase-orders/?status=nonsense").status_code == 400
    assert stocked["tech"].get("/api/v1/purchase-orders/").status_code == 403
    with schema_context(stocked["schema"]):
        assert (on_hand(main, shampoo), on_hand(main, mask)) == (D("15"), D("4"))
        assert PurchaseOrder.objects.get().status == "received"


def test_a_stocktake_through_the_api(stocked):
    owner, main, shampoo = stocked["owner"], stocked["main"], stocked["shampoo"]
    opened = post(owner, "/api/v1/stocktakes/", {"location": main.pk})
    assert opened.status_code == 201, opened.content
    sheet = opened.json()
    assert {line["product"]: line["expected"] for line in sheet["lines"]}[shampoo.pk] == "5.000"
    assert post(owner, "/api/v1/stocktakes/", {"location": main.pk}).status_code == 409
    url = f"/api/v1/stocktakes/{sheet['id']}/"
    counted = post(owner, url + "counts/", {"counts": [{"product": shampoo.pk, "counted": "4"}]})
    assert counted.status_code == 200, counted.content
    assert [(line["counted"], line["variance"]) for line in counted.json()] == [("4.000", "-1.000")]
    bad = post(owner, url + "counts/", {"counts": [{"product": 999999, "counted": "1"}]})
    assert (bad.status_code, list(bad.json())) == (400, ["counts"])
    detail = owner.get(url).json()
    assert detail["variance"] == {
        "lines": 2,
        "counted": 1,
        "differences": 1,
        "shortage_value": -4000,
        "surplus_value": 0,
        "net_value": -4000,
    }
    posted = post(owner, url + "post/", {})
    assert posted.status_code == 200
    assert [(m["kind"], m["quantity"], m["stocktake"]) for m in posted.json()["movements"]] == [
        ("stocktake", "-1.000", sheet["id"])
    ]
    assert posted.json()["status"] == "posted"
    assert post(owner, url + "post/", {}).status_code == 409
    with schema_context(stocked["schema"]):
        assert on_hand(main, shampoo) == D("4")
        assert Stocktake.objects.get().status == "posted"
        assert StockLevel.objects.get(location=main, product=shampoo).quantity == D("4")


def test_lists_are_paginated(stocked):
    with schema_context(stocked["schema"]):
        for n in range(3):
            stock_in(stocked["main"], product(f"Extra {n}"), 1)
    page = stocked["owner"].get("/api/v1/stock-levels/").json()
    assert set(page) == {"count", "next", "previous", "results"}
    assert page["count"] == 5
