"""Package cards (CAT-3 with LOY-5): the services of a package paid at the till become a course card
made from the package (``package_card_sell``): its name, sessions × the packages bought, the package's
validity or none at all; every reader of a card's expiry reads "never" for a card without one."""

from __future__ import annotations

import datetime

import pytest
from django.db import IntegrityError, transaction
from django_tenants.utils import schema_context

from apps.catalog import services as catalog
from apps.core.db import salon_today
from apps.core.errors import ServiceError
from apps.loyalty import selectors_courses, selectors_member
from apps.loyalty.errors import LoyaltyError
from apps.loyalty.models import CourseCard, CourseCardBalance, CourseCardStatus
from apps.loyalty.services import courses
from apps.loyalty.tests.helpers import a_client
from tests.fixtures import logged_in_client


def a_package(*items, name: str = "Glow package", price: int = 60000, validity_days: int | None = 30):
    specs = [
        catalog.PackageItemSpec(
            service=item if hasattr(item, "duration_minutes") else None,
            product=None if hasattr(item, "duration_minutes") else item,
            quantity=quantity,
        )
        for item, quantity in items
    ]
    return catalog.package_create(name=name, price=price, validity_days=validity_days, items=specs)


@pytest.fixture
def facial(in_alpha):
    return catalog.service_create(name="Facial", duration_minutes=60, price=29800)


@pytest.fixture
def shampoo(in_alpha):
    return catalog.product_create(name="Repair shampoo", price=9800, stock=10)


def balances(card) -> dict[str, tuple[int, int]]:
    rows = CourseCardBalance.objects.filter(card=card).select_related("service")
    return {b.service.name: (b.sessions_total, b.sessions_left) for b in rows}


# --- sale ----------------------------------------------------------------------------------------


def test_a_package_card_holds_the_packages_services_times_the_packages_bought(facial, shampoo):
    # given a package of 2 facials and 1 shampoo, valid 30 days
    package = a_package((facial, 2), (shampoo, 1))
    client = a_client()
    # when two of them are sold for ¥1,000
    card = courses.package_card_sell(
        client=client, package=package, quantity=2, idempotency_key="bill:9:line:1", reference="bill:9", price=100000
    )
    # then the card is named after the package, holds 4 facials (the shampoo is no session) and expires in 30 days
    assert card is not None
    card.refresh_from_db()
    assert (card.client_id, card.package_id, card.template_id, card.name, card.price, card.reference) == (
        client.pk,
        package.pk,
        None,
        "Glow package",
        100000,
        "bill:9",
    )
    assert card.expires_on == salon_today() + datetime.timedelta(days=30)
    assert card.status == CourseCardStatus.ACTIVE
    assert balances(card) == {"Facial": (4, 4)}


def test_a_replayed_sale_returns_the_first_card_and_another_package_under_its_key_is_refused(facial):
    package = a_package((facial, 2))
    other = a_package((facial, 1), name="Other")
    client = a_client()
    first = courses.package_card_sell(client=client, package=package, idempotency_key="bill:9:line:1")
    again = courses.package_card_sell(client=client, package=package, idempotency_key="bill:9:line:1")
    assert first is not None and again is not None
    assert again.pk == first.pk
    assert CourseCard.objects.count() == 1
    assert CourseCardBalance.objects.count() == 1
    with pytest.raises(ServiceError) as reused:
        courses.package_card_sell(client=client, package=other, idempotency_key="bill:9:line:1")
    assert reused.value.code == LoyaltyError.KEY_REUSED
    assert CourseCard.objects.count() == 1


def test_a_package_of_products_only_issues_no_card(shampoo):
    package = a_package((shampoo, 3))
    card = courses.package_card_sell(client=a_client(), package=package, idempotency_key="bill:9:line:1")
    assert card is None
    assert not CourseCard.objects.exists()


def test_a_quantity_below_one_is_refused(facial):
    package = a_package((facial, 1))
    with pytest.raises(ServiceError) as raised:
        courses.package_card_sell(client=a_client(), package=package, quantity=0, idempotency_key="k")
    assert (raised.value.code, raised.value.field) == (LoyaltyError.INVALID_AMOUNT, "quantity")
    assert not CourseCard.objects.exists()


def test_a_card_is_made_from_a_template_or_a_package_never_both_nor_neither(facial):
    package = a_package((facial, 1))
    card = courses.package_card_sell(client=a_client(), package=package, idempotency_key="k")
    assert card is not None
    with pytest.raises(IntegrityError), transaction.atomic():
        CourseCard.objects.filter(pk=card.pk).update(package=None)


# --- a package that never expires ----------------------------------------------------------------


def test_a_package_without_validity_gives_a_card_that_never_expires_and_stays_usable(facial):
    # given a package without a validity, sold today
    package = a_package((facial, 2), validity_days=None)
    card = courses.package_card_sell(client=a_client(), package=package, idempotency_key="k")
    assert card is not None and card.expires_on is None
    assert not card.is_expired and not card.is_expired_on(datetime.date(2999, 1, 1))
    # when a session is used
    used = courses.course_session_redeem(card=card, service=facial, idempotency_key="use-1")
    # then it is used like any card
    assert used.sessions_left_after == 1
    assert balances(card) == {"Facial": (2, 1)}
    # and extending a card that never expires is refused with a clear message, nothing changed
    with pytest.raises(ServiceError) as raised:
        courses.course_card_extend(
            card=card, expires_on=salon_today() + datetime.timedelta(days=5), reason="goodwill", acting_user=None
        )
    assert (raised.value.code, str(raised.value.message)) == (LoyaltyError.EXPIRY_NOT_LATER, "This card never expires.")
    card.refresh_from_db()
    assert card.expires_on is None


def test_listings_count_a_card_that_never_expires_as_active_and_never_expired(facial):
    # given a dated card and a card that never expires, both active
    client = a_client()
    dated = courses.package_card_sell(client=client, package=a_package((facial, 1)), idempotency_key="a")
    forever = courses.package_card_sell(
        client=client, package=a_package((facial, 1), name="Forever", validity_days=None), idempotency_key="b"
    )
    assert dated is not None and forever is not None
    # then the staff list shows both as active, neither as expiring beyond its date nor as expired
    ids = lambda show: sorted(c.pk for c in selectors_courses.course_card_list(show=show))  # noqa: E731
    assert ids("active") == sorted([dated.pk, forever.pk])
    assert ids("expiring") == [dated.pk]
    assert ids("expired") == []
    # and the member centre lists both as usable, the dated card first
    views = selectors_member.member_course_cards(client)
    assert [(v.card.pk, v.is_usable) for v in views] == [(dated.pk, True), (forever.pk, True)]
    assert selectors_member.member_home(client).course_cards_usable == 2
    single = selectors_member.member_course_card(client, forever.pk)
    assert single is not None and single.is_usable


def test_the_staff_pages_show_a_card_that_never_expires(alpha, facial):
    # given a member holding a package card without expiry
    with schema_context(alpha.schema):
        client = a_client()
        package = a_package((facial, 2), name="Forever glow", validity_days=None)
        courses.package_card_sell(client=client, package=package, idempotency_key="k")
    owner = logged_in_client(alpha, alpha.owner_username)
    owner.post("/account/language/", {"language": "en"})
    # when the client's cards and the list of cards sold are opened
    account = owner.get(f"/members/clients/{client.pk}/course-cards/")
    listed = owner.get("/members/course-cards/")
    # then the card shows with its package's name, its sessions and "Never expires" where a date would be
    assert account.status_code == 200 and listed.status_code == 200
    account_page, list_page = account.content.decode(), listed.content.decode()
    assert "Forever glow" in account_page and "Never expires · sold" in account_page
    assert "2 / 2" in account_page
    assert "Extend the card" not in account_page  # nothing to extend
    assert "Forever glow" in list_page and "Never expires" in list_page and "Facial 2/2" in list_page
