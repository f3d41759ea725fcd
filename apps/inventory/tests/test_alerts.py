"""The daily low-stock digest: one message per day to each member of staff who manages inventory (e-mail
when they have one, else a text), per salon through beat's fan-out, once even if beat fires twice."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any

import pytest
from django.core import mail
from django_tenants.utils import schema_context

from apps.core.models import User
from apps.inventory.models import InventorySettings, LowStockDigestSent
from apps.inventory.services import low_stock_digest_send, stock_reorder_level_set
from apps.inventory.tasks import LOW_STOCK_DIGEST_TASK
from apps.inventory.tests.helpers import main_location, product, second_location, stock_in
from apps.messaging import sms
from apps.messaging.models import Delivery
from tenants.tasks import for_each_salon
from tests.fixtures import make_staff

DAY = datetime.date(2030, 3, 4)


@pytest.fixture(autouse=True)
def _outboxes(settings: Any) -> Iterator[None]:
    settings.LANGUAGE_CODE = "en"  # the staff's language when they have none; they are given "en" below
    sms.outbox.clear()
    yield
    sms.outbox.clear()


def _low_stock(info: Any) -> dict[str, Any]:
    """Mask 1 (alert at 2) at the main store, shampoo 0 (alert at 3) at the branch; conditioner fine."""
    with schema_context(info.schema):
        main, branch = main_location(), second_location()
        mask, shampoo, conditioner = product("Mask"), product("Shampoo"), product("Conditioner")
        stock_in(main, mask, 1)
        stock_in(main, conditioner, 9)
        for location, item, alert in ((main, mask, 2), (branch, shampoo, 3), (main, conditioner, 2)):
            stock_reorder_level_set(location=location, product=item, reorder_level=alert, acting_user=None)
        User.objects.update(language="en")
        return {"main": main, "branch": branch, "mask": mask, "shampoo": shampoo}


def test_the_digest_goes_once_a_day_to_who_manages_inventory(alpha, django_capture_on_commit_callbacks):
    # given low stock, the owner (e-mail), a manager with only a phone, and a front desk and a technician
    make_staff(alpha, role="manager", username="li", phone="+8613911110000")
    make_staff(alpha, role="front_desk", username="desk", phone="+8613911110001", email="desk@alpha.test")
    make_staff(alpha, role="technician", username="wang", phone="+8613911110002")
    stock = _low_stock(alpha)
    with schema_context(alpha.schema):
        # when beat fires twice on the same day
        with django_capture_on_commit_callbacks(execute=True):
            first = low_stock_digest_send(today=DAY)
        with django_capture_on_commit_callbacks(execute=True):
            second = low_stock_digest_send(today=DAY)
        # then the owner gets an e-mail and the manager a text, once each
        assert second == []
        assert sorted(row.staff.username for row in first) == ["li", alpha.owner_username]
        assert LowStockDigestSent.objects.filter(day=DAY).count() == 2
        assert Delivery.objects.filter(purpose="inventory_low_stock", status="sent").count() == 2
    (email,) = mail.outbox
    assert email.to == ["owner@alpha.test"]
    assert email.subject == "Low stock: 2 products"
    assert email.body.splitlines() == [
        f"Alpha Salon — products at or below their alert level on {DAY}:",
        "",
        stock["main"].name,
        f"- {stock['mask']}: 1 on hand (alert at 2)",
        "",
        stock["branch"].name,
        f"- {stock['shampoo']}: 0 on hand (alert at 3)",
        "",
        "Order more under Inventory → Purchase orders.",
    ]
    assert [(m.to, m.body) for m in sms.outbox] == [
        ("+8613911110000", f"Alpha Salon: low stock: {stock['mask']} (1), {stock['shampoo']} (0)")
    ]
    # the next day it goes again
    with schema_context(alpha.schema), django_capture_on_commit_callbacks(execute=True):
        assert len(low_stock_digest_send(today=DAY + datetime.timedelta(days=1))) == 2


def test_no_digest_when_nothing_is_low_or_the_salon_turned_it_off(in_alpha, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert low_stock_digest_send(today=DAY) == []
    _low_stock(in_alpha)
    InventorySettings.objects.filter(id=1).update(low_stock_alerts=False)
    with django_capture_on_commit_callbacks(execute=True):
        assert low_stock_digest_send(today=DAY) == []
    assert mail.outbox == [] and not LowStockDigestSent.objects.exists()


def test_beat_fans_the_digest_out_to_every_salon(alpha, beta, django_capture_on_commit_callbacks):
    # given low stock in alpha only
    _low_stock(alpha)
    # when beat's fan-out runs (twice) on the public schema
    with django_capture_on_commit_callbacks(execute=True):
        queued = for_each_salon.apply_async(args=[LOW_STOCK_DIGEST_TASK]).get()
    with django_capture_on_commit_callbacks(execute=True):
        for_each_salon.apply_async(args=[LOW_STOCK_DIGEST_TASK]).get()
    # then alpha's owner got one digest and beta's nothing
    assert queued == 2
    assert [m.to for m in mail.outbox] == [["owner@alpha.test"]]
    with schema_context(beta.schema):
        assert not LowStockDigestSent.objects.exists()
