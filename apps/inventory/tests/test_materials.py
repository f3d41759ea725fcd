"""Materials used up by services (CAT-1): converted into units of the product, taken off at the till,
put back on a refund never beyond what was used."""

from __future__ import annotations

from decimal import Decimal

import pytest

from apps.catalog import services as catalog
from apps.core.errors import ServiceError
from apps.inventory.errors import InventoryError
from apps.inventory.models import MovementKind, StockMovement
from apps.inventory.services import (
    material_unit_set,
    stock_consume_for_services,
    stock_consume_for_services_reverse,
)
from apps.inventory.tests.helpers import (
    allow_negative,
    catalogue_stock,
    main_location,
    on_hand,
    product,
    service,
    stock_in,
)

D = Decimal


@pytest.fixture
def colour(in_alpha):
    """A colour uses 60 g of dye (a 60 g tube) and 90 ml of developer (a 1,000 ml bottle); a facial uses
    one sheet of a box of five masks."""
    main = main_location()
    dye = product("Dye", spec="60 g", cost=1800)
    developer = product("Developer", spec="1000 ml", cost=3500)
    masks = product("Masks", spec="5 × 25 ml", cost=7000)
    for item, quantity in ((dye, 10), (developer, 2), (masks, 3)):
        stock_in(main, item, quantity)
    colour_service = service("Colour", materials=[(dye, "60", "g"), (developer, "90", "ml")])
    facial = service("Facial", materials=[(masks, "1", "片")])
    return {
        "main": main,
        "dye": dye,
        "developer": developer,
        "masks": masks,
        "colour": colour_service,
        "facial": facial,
    }


def test_a_colour_takes_its_materials_in_units_of_each_product(colour):
    # given
    main, dye, developer = colour["main"], colour["dye"], colour["developer"]
    # when two colours are done on one bill
    result = stock_consume_for_services(
        location=main, services=[(colour["colour"], 2)], reference="bill:1", idempotency_key="bill:1", acting_user=None
    )
    # then 2 tubes and 0.18 of a bottle are gone; the catalogue still counts 1 whole bottle on the shelf
    assert [(m.product_id, m.kind, m.quantity, m.quantity_after) for m in result.movements] == [
        (dye.pk, MovementKind.CONSUMPTION, D("-2"), D("8")),
        (developer.pk, MovementKind.CONSUMPTION, D("-0.18"), D("1.82")),
    ]
    assert (catalogue_stock(dye), catalogue_stock(developer)) == (8, 1)


def test_a_material_without_a_known_unit_is_refused_until_one_is_set(colour):
    # given the masks are counted in boxes and the facial uses 片
    main, masks = colour["main"], colour["masks"]
    with pytest.raises(ServiceError) as refused:
        stock_consume_for_services(
            location=main, services=[(colour["facial"], 1)], reference="b", idempotency_key="k1", acting_user=None
        )
    assert (refused.value.code, refused.value.status) == (InventoryError.MATERIAL_UNIT_UNKNOWN, 409)
    assert "片" in refused.value.message and str(masks) in refused.value.message
    assert on_hand(main, masks) == D("3")
    # when the salon says a box holds 5 片, one facial takes 0.2 of a box
    material_unit_set(product=masks, unit="片", per_stock_unit=5, acting_user=None)
    result = stock_consume_for_services(
        location=main, services=[(colour["facial"], 1)], reference="b", idempotency_key="k2", acting_user=None
    )
    assert [(m.quantity, m.quantity_after) for m in result.movements] == [(D("-0.2"), D("2.8"))]


def test_a_refund_puts_back_at_most_what_the_bill_used(colour):
    # given one colour was done (60 g dye, 90 ml developer) and the recipe then changed to 120 ml
    main, developer = colour["main"], colour["developer"]
    stock_consume_for_services(
        location=main, services=[(colour["colour"], 1)], reference="bill:2", idempotency_key="c", acting_user=None
    )
    catalog.service_materials_set(
        service=colour["colour"],
        materials=[
            catalog.MaterialSpec(product=colour["dye"], quantity="60", unit="g"),
            catalog.MaterialSpec(product=developer, quantity="120", unit="ml"),
        ],
        acting_user=None,
    )
    # when the colour is refunded
    result = stock_consume_for_services_reverse(
        location=main, services=[(colour["colour"], 1)], reference="bill:2", idempotency_key="r", acting_user=None
    )
    # then exactly what was used comes back, not the new recipe's 0.12
    assert [(m.kind, m.quantity) for m in result.movements] == [
        (MovementKind.CONSUMPTION_REVERSAL, D("1")),
        (MovementKind.CONSUMPTION_REVERSAL, D("0.09")),
    ]
    assert (on_hand(main, colour["dye"]), on_hand(main, developer)) == (D("10"), D("2"))
    # and a second refund of the same bill has nothing left to put back
    with pytest.raises(ServiceError) as refused:
        stock_consume_for_services_reverse(
            location=main, services=[(colour["colour"], 1)], reference="bill:2", idempotency_key="r2", acting_user=None
        )
    assert refused.value.code == InventoryError.NOTHING_TO_REVERSE
    # and replaying the first refund's key changes nothing
    again = stock_consume_for_services_reverse(
        location=main, services=[(colour["colour"], 1)], reference="bill:2", idempotency_key="r", acting_user=None
    )
    assert again.replayed and on_hand(main, developer) == D("2")


def test_consumption_follows_the_negative_stock_rule(colour):
    # given one tube of dye is left
    main, dye = colour["main"], colour["dye"]
    stock_consume_for_services(
        location=main, services=[(colour["colour"], 9)], reference="a", idempotency_key="a", acting_user=None
    )
    before = StockMovement.objects.count()
    # when two colours need two tubes
    with pytest.raises(ServiceError) as refused:
        stock_consume_for_services(
            location=main, services=[(colour["colour"], 2)], reference="b", idempotency_key="b", acting_user=None
        )
    # then it is refused naming the dye and what is on hand, and nothing is written
    assert refused.value.message == f"Not enough {dye} at {main.name}: 1 on hand, 2 needed."
    assert StockMovement.objects.count() == before
    # when the salon allows negative stock, it goes through flagged
    allow_negative()
    result = stock_consume_for_services(
        location=main, services=[(colour["colour"], 2)], reference="b", idempotency_key="b", acting_user=None
    )
    assert [m.went_negative for m in result.movements] == [True, False]
    assert on_hand(main, dye) == D("-1")


def test_services_without_materials_touch_nothing(colour):
    plain = service("Cut")
    result = stock_consume_for_services(
        location=colour["main"], services=[(plain, 3)], reference="b", idempotency_key="k", acting_user=None
    )
    assert result.movements == []
    assert not StockMovement.objects.filter(kind=MovementKind.CONSUMPTION).exists()


def test_the_same_bill_key_serves_the_sale_and_the_materials(colour):
    from apps.inventory.services import stock_sale_record

    main = colour["main"]
    stock_sale_record(
        location=main, items=[(colour["dye"], 1)], reference="bill:7", idempotency_key="bill:7", acting_user=None
    )
    used = stock_consume_for_services(
        location=main, services=[(colour["colour"], 1)], reference="bill:7", idempotency_key="bill:7", acting_user=None
    )
    assert not used.replayed and on_hand(main, colour["dye"]) == D("8")
