"""Group bills (团队单: one payer, a guest per line) and room bills (房间单: everything consumed in one room)
through the orders API: what ``POST /api/v1/orders/`` answers, and each refusal answered 400 on its field
with no bill written (a room bill without its room or with a room put out of use, a room on another kind
of bill or a room of another location, a guest or a guest label on a bill that is not a group's, a guest
who is not an active client), and the same rules when the bill is changed afterwards."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client as HttpClient
from django_tenants.utils import schema_context

from apps.core.services import location_create
from apps.crm.models import Client
from apps.pos.models import Bill, BillLine
from apps.pos.tests.bills_support import till_make
from apps.scheduling.models import Resource, ResourceType
from tests.fixtures import api_token

ONLY_GROUP = "Only a group bill names a guest per line."
ONLY_ROOM = "Only a room bill names a room."
ROOM_NEEDED = "Choose the room of this room bill."
OTHER_LOCATION = "Choose a room at the bill's location."


@pytest.fixture
def setup(alpha):
    with schema_context(alpha.schema):
        till = till_make()
        vip = ResourceType.objects.create(name="VIP room")
        room = Resource.objects.create(location=till.location, resource_type=vip, name="VIP 1")
        closed = Resource.objects.create(location=till.location, resource_type=vip, name="VIP 2", is_active=False)
    desk = HttpClient(
        HTTP_HOST=alpha.host,
        HTTP_AUTHORIZATION=f"Bearer {api_token(alpha, till.desk.username)}",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    return {"till": till, "desk": desk, "alpha": alpha, "room": room, "closed": closed}


def _post(s: dict[str, Any], body: dict[str, Any]) -> Any:
    return s["desk"].post("/api/v1/orders/", body, content_type="application/json")


def _no_bill(s: dict[str, Any]) -> None:
    with schema_context(s["alpha"].schema):
        assert not Bill.objects.exists()
        assert not BillLine.objects.exists()


# --- group bills ----------------------------------------------------------------------------------------


def test_a_group_bill_is_opened_with_a_client_guest_and_a_labelled_guest(setup):
    t = setup["till"]

    # when the front desk opens a group bill for 王芳, paying for her friend 李娜 and a friend without a record
    response = _post(
        setup,
        {
            "client": t.member.pk,
            "kind": "group",
            "guest_count": 3,
            "notes": "Birthday party",
            "lines": [
                {"service": t.facial.pk, "staff": t.li.pk, "guest": t.plain.pk},
                {"service": t.cut.pk, "staff": t.wang.pk, "guest_label": "Friend in red"},
                {"product": t.shampoo.pk},
            ],
        },
    )

    # then the bill is the group's, one payer, each line naming whom it was for
    assert response.status_code == 201, response.content
    order = response.json()
    assert (order["kind"], order["client"], order["client_name"], order["guest_count"], order["room"]) == (
        "group",
        t.member.pk,
        "王芳",
        3,
        None,
    )
    assert (order["status"], order["notes"], order["subtotal"], order["total"], order["due"]) == (
        "open",
        "Birthday party",
        47420,
        47420,
        47420,
    )
    # the payer's gold prices apply to every guest's service
    assert [
        (x["name"], x["amount"], x["guest"], x["guest_label"], [s["staff"] for s in x["staff"]]) for x in order["lines"]
    ] == [
        ("Facial", 26820, t.plain.pk, "", [t.li.pk]),
        ("Women's cut", 10800, None, "Friend in red", [t.wang.pk]),
        ("Repair shampoo", 9800, None, "", []),
    ]
    assert setup["desk"].get(f"/api/v1/orders/{order['id']}/").json() == order


def test_a_walk_in_group_bill_takes_guests_too(setup):
    t = setup["till"]

    response = _post(
        setup,
        {"kind": "group", "guest_count": 2, "lines": [{"service": t.facial.pk, "guest": t.member.pk}]},
    )

    assert response.status_code == 201, response.content
    order = response.json()
    assert (order["kind"], order["client"], order["client_name"], order["guest_count"]) == ("group", None, "", 2)
    assert [(x["guest"], x["amount"]) for x in order["lines"]] == [(t.member.pk, 29800)]  # no payer: no tier price


@pytest.mark.parametrize(
    "line",
    [{"guest": "plain"}, {"guest_label": "Friend in red"}],
    ids=["guest", "label"],
)
@pytest.mark.parametrize("kind", ["standard", "room"])
def test_a_guest_on_a_bill_that_is_not_a_groups_is_refused_and_no_bill_is_written(setup, line, kind):
    t = setup["till"]
    wanted = {k: (t.plain.pk if v == "plain" else v) for k, v in line.items()}
    body: dict[str, Any] = {
        "client": t.member.pk,
        "kind": kind,
        "lines": [{"service": t.cut.pk}, {"service": t.facial.pk, **wanted}],
    }
    if kind == "room":
        body["room"] = setup["room"].pk

    response = _post(setup, body)

    assert response.status_code == 400, response.content
    assert response.json() == {"lines": {"1": {"guest": [ONLY_GROUP]}}}
    _no_bill(setup)


def test_a_guest_who_is_not_an_active_client_is_refused(setup):
    t = setup["till"]
    with schema_context(setup["alpha"].schema):
        Client.objects.filter(pk=t.plain.pk).update(is_active=False)

    response = _post(setup, {"kind": "group", "lines": [{"service": t.facial.pk, "guest": t.plain.pk}]})

    assert response.status_code == 400, response.content
    assert response.json() == {"lines": {"0": {"guest": [f'Invalid pk "{t.plain.pk}" - object does not exist.']}}}
    _no_bill(setup)


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"kind": "team"}, {"kind": ['"team" is not a valid choice.']}),
        ({"guest_count": 0}, {"guest_count": ["Ensure this value is greater than or equal to 1."]}),
        ({"guest_count": 51}, {"guest_count": ["Ensure this value is less than or equal to 50."]}),
    ],
)
def test_a_bad_kind_or_number_of_guests_is_refused(setup, extra, expected):
    response = _post(setup, {"kind": "group", "lines": [{"service": setup["till"].cut.pk}], **extra})

    assert response.status_code == 400, response.content
    assert response.json() == expected
    _no_bill(setup)


def test_a_guest_is_named_on_a_group_bills_line_later_but_not_on_a_standard_bills(setup):
    t = setup["till"]
    group = _post(setup, {"kind": "group", "client": t.member.pk, "lines": [{"service": t.cut.pk}]}).json()
    standard = _post(setup, {"client": t.member.pk, "lines": [{"service": t.cut.pk}]}).json()

    named = setup["desk"].patch(
        f"/api/v1/orders/{group['id']}/lines/{group['lines'][0]['id']}/",
        {"guest": t.plain.pk},
        content_type="application/json",
    )
    refused = setup["desk"].patch(
        f"/api/v1/orders/{standard['id']}/lines/{standard['lines'][0]['id']}/",
        {"guest_label": "Friend in red"},
        content_type="application/json",
    )

    assert named.status_code == 200, named.content
    assert [(x["guest"], x["guest_label"]) for x in named.json()["lines"]] == [(t.plain.pk, "")]
    assert (refused.status_code, refused.json()) == (400, {"guest": [ONLY_GROUP]})
    with schema_context(setup["alpha"].schema):
        assert BillLine.objects.get(pk=standard["lines"][0]["id"]).guest_label == ""


# --- room bills -----------------------------------------------------------------------------------------


def test_a_room_bill_is_opened_with_its_room(setup):
    t, room = setup["till"], setup["room"]

    response = _post(
        setup,
        {
            "client": t.plain.pk,
            "kind": "room",
            "room": room.pk,
            "guest_count": 2,
            "lines": [{"service": t.facial.pk, "staff": t.wang.pk}, {"product": t.shampoo.pk, "quantity": 2}],
        },
    )

    assert response.status_code == 201, response.content
    order = response.json()
    assert (order["kind"], order["room"], order["client"], order["guest_count"], order["total"], order["due"]) == (
        "room",
        room.pk,
        t.plain.pk,
        2,
        49400,
        49400,
    )
    assert [(x["name"], x["quantity"], x["amount"], x["guest"], x["guest_label"]) for x in order["lines"]] == [
        ("Facial", 1, 29800, None, ""),
        ("Repair shampoo", 2, 19600, None, ""),
    ]
    with schema_context(setup["alpha"].schema):
        bill = Bill.objects.get(pk=order["id"])
        assert (bill.kind, bill.room_id, bill.location_id) == ("room", room.pk, t.location.pk)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"kind": "room"}, {"room": [ROOM_NEEDED]}),
        ({"kind": "room", "room": None}, {"room": [ROOM_NEEDED]}),
        ({"kind": "room", "room": "closed"}, {"room": [ROOM_NEEDED]}),
        ({"room": "open"}, {"room": [ONLY_ROOM]}),
        ({"kind": "group", "room": "open"}, {"room": [ONLY_ROOM]}),
        ({"kind": "room", "room": 10**9}, {"room": ['Invalid pk "1000000000" - object does not exist.']}),
    ],
    ids=["no-room", "room-null", "room-out-of-use", "room-on-standard", "room-on-group", "unknown-room"],
)
def test_a_room_bill_without_its_room_or_a_room_on_another_bill_is_refused(setup, body, expected):
    rooms = {"open": setup["room"].pk, "closed": setup["closed"].pk}
    wanted = {k: rooms.get(v, v) if isinstance(v, str) and k == "room" else v for k, v in body.items()}

    response = _post(setup, {"client": setup["till"].member.pk, "lines": [{"service": setup["till"].cut.pk}], **wanted})

    assert response.status_code == 400, response.content
    assert response.json() == expected
    _no_bill(setup)


def test_a_room_bills_room_is_changed_but_never_taken_away(setup):
    t, room = setup["till"], setup["room"]
    with schema_context(setup["alpha"].schema):
        other = Resource.objects.create(location=t.location, resource_type=room.resource_type, name="VIP 3")
    order = _post(setup, {"kind": "room", "room": room.pk, "lines": [{"service": t.cut.pk}]}).json()
    standard = _post(setup, {"lines": [{"service": t.cut.pk}]}).json()

    def patch(pk: int, body: dict[str, Any]) -> Any:
        return setup["desk"].patch(f"/api/v1/orders/{pk}/", body, content_type="application/json")

    moved = patch(order["id"], {"room": other.pk})
    emptied = patch(order["id"], {"room": None})
    closed = patch(order["id"], {"room": setup["closed"].pk})
    on_standard = patch(standard["id"], {"room": room.pk})

    assert (moved.status_code, moved.json()["room"]) == (200, other.pk)
    assert (emptied.status_code, emptied.json()) == (400, {"room": [ROOM_NEEDED]})
    assert (closed.status_code, closed.json()) == (400, {"room": [ROOM_NEEDED]})
    assert (on_standard.status_code, on_standard.json()) == (400, {"room": [ONLY_ROOM]})
    with schema_context(setup["alpha"].schema):
        assert Bill.objects.get(pk=order["id"]).room_id == other.pk
        assert Bill.objects.get(pk=standard["id"]).room_id is None


def test_a_room_of_another_location_is_refused(setup):
    # given a second salon location with its own room
    t, room = setup["till"], setup["room"]
    with schema_context(setup["alpha"].schema):
        branch = location_create(name="Branch 2")
        elsewhere = Resource.objects.create(location=branch, resource_type=room.resource_type, name="B-1")
    order = _post(setup, {"kind": "room", "room": room.pk, "lines": [{"service": t.cut.pk}]}).json()

    # when a room bill at the first location names the branch's room, opened or changed
    opened = _post(setup, {"kind": "room", "room": elsewhere.pk, "lines": [{"service": t.cut.pk}]})
    moved = setup["desk"].patch(
        f"/api/v1/orders/{order['id']}/", {"room": elsewhere.pk}, content_type="application/json"
    )
    # but the branch's room bill takes it
    there = _post(setup, {"kind": "room", "room": elsewhere.pk, "location": branch.pk})

    # then both are refused on the room, and only the two right bills exist
    assert (opened.status_code, opened.json()) == (400, {"room": [OTHER_LOCATION]})
    assert (moved.status_code, moved.json()) == (400, {"room": [OTHER_LOCATION]})
    assert there.status_code == 201, there.content
    assert (there.json()["location"], there.json()["room"]) == (branch.pk, elsewhere.pk)
    with schema_context(setup["alpha"].schema):
        assert sorted(Bill.objects.values_list("location_id", "room_id")) == sorted(
            [(t.location.pk, room.pk), (branch.pk, elsewhere.pk)]
        )
