"""Online booking by clients (SCH-5, UX-2): /book/ on the salon's domain — services with prices (the
member's tier price), technician or anyone, a day and a slot, sign-in by phone and a texted code (new
phones too: the first booking creates the client), confirmation, and the client's own bookings with move
and cancel inside the salon's window. Two salons; every refusal changes nothing."""

from __future__ import annotations

import datetime
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client as PageClient
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.catalog.services import price_rule_create, service_category_create, service_create
from apps.core.db import salon_timezone
from apps.core.models import Location
from apps.crm.models import Client, Source
from apps.crm.services.clients import client_update
from apps.crm.services.tags import tier_create
from apps.messaging import sms
from apps.scheduling.models import (
    Appointment,
    AppointmentChannel,
    AppointmentStatus,
    SchedulingSettings,
    ServiceBookingRule,
)
from apps.scheduling.tests.support import appointment_insert, client_make, technician_make

PHONE = "13800138000"
E164 = "+8613800138000"
NEW_PHONE = "13900139000"
NEW_E164 = "+8613900139000"
WECHAT_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Mobile/15E148 MicroMessenger/8.0.49(0x18003130) NetType/WIFI Language/zh_CN"
)


@pytest.fixture(autouse=True)
def _empty_outbox() -> None:
    sms.outbox.clear()


def _page(info: Any, **headers: str) -> PageClient:
    page = PageClient(HTTP_HOST=info.host, **headers)
    page.cookies["salon_language"] = "en"
    return page


def _text(response: Any) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def _texted_code() -> str:
    match = re.search(r"\b(\d{6})\b", sms.outbox[-1].body)
    assert match is not None, sms.outbox[-1].body
    return match.group(1)


def _sign_in(page: PageClient, phone: str, capture: Any, *, next_url: str = "") -> Any:
    with capture(execute=True):
        asked = page.post("/book/login/", {"phone": phone, "next": next_url})
    assert asked.status_code == 302, asked.content[:500]
    return page.post("/book/login/code/", {"code": _texted_code(), "next": next_url})


def _salon(info: Any, *, name_prefix: str = "") -> dict[str, Any]:
    """A salon with two categories of services, a technician who does both hair services and one who only
    cuts, and a client with the test phone."""
    with schema_context(info.schema):
        hair = service_category_create(name=f"{name_prefix}Hair", sort_order=1)
        face = service_category_create(name=f"{name_prefix}Face", sort_order=2)
        cut = service_create(name=f"{name_prefix}Cut", duration_minutes=45, price=12800, category=hair)
        colour = service_create(name=f"{name_prefix}Colour", duration_minutes=90, price=38800, category=hair)
        facial = service_create(name=f"{name_prefix}Facial", duration_minutes=60, price=28800, category=face)
        desk_only = service_create(name=f"{name_prefix}Bridal", duration_minutes=120, price=99900, category=face)
        ServiceBookingRule.objects.create(service=desk_only, is_online_bookable=False)
        lin = technician_make("Lin", services=[cut, colour, facial])
        wu = technician_make("Wu", services=[cut])
        client = client_make("王芳", phone=E164)
        location = Location.objects.order_by("id").first()
        Location.objects.filter(pk=location.pk).update(phone="021-5555 0101")
        return {
            "cut": cut,
            "colour": colour,
            "facial": facial,
            "desk_only": desk_only,
            "lin": lin,
            "wu": wu,
            "client": client,
            "location": location,
        }


def _local(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=salon_timezone())


# --- pages render, in both salons -------------------------------------------------------------------


def test_the_services_page_lists_online_services_by_category_in_each_salon(alpha, beta):
    # given two salons with their own services
    _salon(alpha)
    _salon(beta, name_prefix="B-")
    # when an anonymous visitor opens /book/ on each domain
    alpha_page = _text(_page(alpha).get("/book/"))
    beta_page = _text(_page(beta).get("/book/"))
    # then each lists its own online services by category with duration and price, never the other's,
    # and never a service the salon takes only at the desk
    assert re.search(r"Hair</h2>.*Colour.*90 min.*¥388\.00.*Cut.*45 min.*¥128\.00.*Face</h2>.*Facial", alpha_page)
    assert "Bridal" not in alpha_page and "B-Cut" not in alpha_page
    assert "B-Cut" in beta_page and 'data-service="Cut"' not in beta_page


def test_the_services_page_shows_the_members_tier_price(alpha, django_capture_on_commit_callbacks):
    # given a gold member and a gold price for the cut
    data = _salon(alpha)
    with schema_context(alpha.schema):
        gold = tier_create(name="Gold", rank=1, acting_user=None)
        price_rule_create(service=data["cut"], tier=gold, price=9900)
        client_update(client=data["client"], acting_user=None, tier=gold)
    page = _page(alpha)
    # when the member is signed in
    assert _sign_in(page, PHONE, django_capture_on_commit_callbacks).status_code == 302
    html = _text(page.get("/book/"))
    # then the cut shows the list price struck through and the member's price; the others their list price
    assert re.search(
        r'data-service="Cut".*<s class="m-muted">¥128\.00</s> <span data-figure="member-price">¥99\.00', html
    )
    assert re.search(r'data-service="Colour".*data-figure="price">¥388\.00', html)
    # and anonymous visitors see the list price
    assert 'data-figure="member-price"' not in _text(_page(alpha).get("/book/"))


def test_the_services_page_costs_a_fixed_number_of_queries(alpha, django_assert_max_num_queries):
    _salon(alpha)
    with schema_context(alpha.schema):
        for n in range(10):
            service_create(name=f"Extra {n}", duration_minutes=30, price=5000)
    page = _page(alpha)
    page.get("/book/")
    with django_assert_max_num_queries(12):
        assert page.get("/book/").status_code == 200


def test_choosing_services_keeps_their_order_and_offers_only_technicians_who_do_them_all(alpha):
    data = _salon(alpha)
    page = _page(alpha)
    # when the client picks the cut, then adds the colour
    services_page = page.get("/book/").content.decode()
    cut_link = re.search(r'data-service="Cut">\s*<a href="([^"]+)"', services_page).group(1).replace("&amp;", "&")
    staff_page = _text(page.get(cut_link))
    # then both technicians do the cut, and "anyone" comes first
    lin, wu = data["lin"].pk, data["wu"].pk
    assert re.search(rf'data-staff="any".*data-staff="{lin}".*data-staff="{wu}"', staff_page)
    add = re.search(r'href="(/book/\?[^"]+)">Add another service', staff_page).group(1).replace("&amp;", "&")
    add_page = page.get(add).content.decode()
    assert 'data-service="Cut"' not in add_page  # already chosen
    colour_link = re.search(r'data-service="Colour">\s*<a href="([^"]+)"', add_page).group(1).replace("&amp;", "&")
    assert parse_qs(urlsplit(colour_link).query)["services"] == [f"{data['cut'].pk},{data['colour'].pk}"]
    both = _text(page.get(colour_link))
    # then the visit lists cut then colour, 135 minutes, ¥516; only Lin does both
    assert re.search(r'data-service="Cut".*data-service="Colour"', both)
    assert 'data-figure="minutes">135 min' in both and 'data-figure="total">¥516.00' in both
    assert f'data-staff="{data["lin"].pk}"' in both and f'data-staff="{data["wu"].pk}"' not in both


def test_a_chain_chooses_the_location_and_sees_only_its_technicians(alpha):
    # given a second shop where only Wu works
    data = _salon(alpha)
    with schema_context(alpha.schema):
        second = Location.objects.create(name="East shop")
        data["wu"].locations.set([second])
    page = _page(alpha)
    # then /book/ asks for the location, and each shop's links carry it
    first_page = page.get("/book/").content.decode()
    assert '<label for="id_location">Location</label>' in first_page and ">East shop</option>" in first_page
    east = page.get(f"/book/?location={second.pk}").content.decode()
    assert f"/book/staff/?location={second.pk}&amp;services={data['cut'].pk}" in east
    # and each shop offers the technicians who work there (staff without locations work everywhere)
    main_staff = page.get(f"/book/staff/?location={data['location'].pk}&services={data['cut'].pk}").content.decode()
    east_staff = page.get(f"/book/staff/?location={second.pk}&services={data['cut'].pk}").content.decode()
    assert f'data-staff="{data["wu"].pk}"' not in main_staff and f'data-staff="{data["lin"].pk}"' in main_staff
    assert f'data-staff="{data["wu"].pk}"' in east_staff and f'data-staff="{data["lin"].pk}"' in east_staff


def test_a_service_not_bookable_online_cannot_be_chosen_by_address(alpha):
    data = _salon(alpha)
    response = _page(alpha).get(f"/book/staff/?services={data['desk_only'].pk}")
    assert response.status_code == 302 and response["Location"] == "/book/"


def test_the_pages_render_in_wechats_browser(alpha):
    data = _salon(alpha)
    page = _page(alpha, HTTP_USER_AGENT=WECHAT_UA)
    for url in ("/book/", f"/book/staff/?services={data['cut'].pk}", "/book/login/"):
        response = page.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert '<meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover">' in html
        assert "/static/css/client-booking.css" in html and "<script" not in html


def test_the_member_centre_and_booking_link_to_each_other(alpha, django_capture_on_commit_callbacks):
    _salon(alpha)
    page = _page(alpha)
    _sign_in(page, PHONE, django_capture_on_commit_callbacks)
    home = page.get("/member/").content.decode()
    assert 'href="/book/"' in home and 'href="/book/my/"' in home
    assert 'href="/member/"' in page.get("/book/").content.decode()


# --- sign-in ------------------------------------------------------------------------------------------


def test_a_client_signs_in_and_is_a_member_too(alpha, django_capture_on_commit_callbacks):
    # given a client of alpha
    _salon(alpha)
    page = _page(alpha)
    # when they ask for a code with the phone as typed
    with django_capture_on_commit_callbacks(execute=True):
        asked = page.post("/book/login/", {"phone": "138 0013 8000", "next": "/book/my/"})
    # then a text goes to the phone and the code page says so
    assert asked.status_code == 302 and asked["Location"] == "/book/login/code/?next=%2Fbook%2Fmy%2F"
    assert [m.to for m in sms.outbox] == [E164]
    assert "A code was sent to 138****8000." in _text(page.get(asked["Location"]))
    # when they type it, then they land where they were going, signed in to the member centre too
    signed_in = page.post("/book/login/code/", {"code": _texted_code(), "next": "/book/my/"})
    assert signed_in.status_code == 302 and signed_in["Location"] == "/book/my/"
    assert page.get("/member/").status_code == 200


def test_every_phone_gets_the_same_answer_and_a_text(alpha, django_capture_on_commit_callbacks):
    # given a client's phone and a phone that is nobody's
    _salon(alpha)
    known, stranger = _page(alpha), _page(alpha)
    with django_capture_on_commit_callbacks(execute=True):
        a = known.post("/book/login/", {"phone": PHONE})
        b = stranger.post("/book/login/", {"phone": NEW_PHONE})
    # then both get the same answer and both phones a code (a new client may book)
    assert (a.status_code, a["Location"]) == (b.status_code, b["Location"]) == (302, "/book/login/code/")
    known_page = _text(known.get("/book/login/code/")).replace("138****8000", "PHONE")
    stranger_page = _text(stranger.get("/book/login/code/")).replace("139****9000", "PHONE")
    csrf = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')
    assert csrf.sub("", known_page) == csrf.sub("", stranger_page)
    assert sorted(m.to for m in sms.outbox) == [E164, NEW_E164]


def test_a_new_phone_proven_by_its_code_is_no_client_yet(alpha, django_capture_on_commit_callbacks):
    _salon(alpha)
    page = _page(alpha)
    # when a new phone signs in
    signed_in = _sign_in(page, NEW_PHONE, django_capture_on_commit_callbacks)
    # then it goes to "my bookings", which is empty; no client was created; the member centre still asks
    assert signed_in.status_code == 302 and signed_in["Location"] == "/book/my/"
    assert "You have no upcoming bookings." in _text(page.get("/book/my/"))
    with schema_context(alpha.schema):
        assert Client.objects.count() == 1
    assert page.get("/member/").status_code == 302


def test_a_wrong_code_signs_nobody_in(alpha, django_capture_on_commit_callbacks):
    _salon(alpha)
    page = _page(alpha)
    with django_capture_on_commit_callbacks(execute=True):
        page.post("/book/login/", {"phone": PHONE})
    wrong = "000000" if _texted_code() != "000000" else "111111"
    refused = page.post("/book/login/code/", {"code": wrong})
    assert refused.status_code == 400 and "This code is wrong or has expired." in refused.content.decode()
    assert page.get("/book/my/")["Location"] == "/book/login/?next=%2Fbook%2Fmy%2F"


def test_a_session_of_one_salon_is_nobody_in_the_other(alpha, beta, django_capture_on_commit_callbacks):
    _salon(alpha)
    page = _page(alpha)
    _sign_in(page, PHONE, django_capture_on_commit_callbacks)
    # the same cookie sent to beta's domain
    other = _page(beta)
    other.cookies["sessionid"] = page.cookies["sessionid"].value
    assert other.get("/book/my/").status_code == 302


def test_next_only_goes_to_booking_pages(alpha, django_capture_on_commit_callbacks):
    _salon(alpha)
    page = _page(alpha)
    response = _sign_in(page, PHONE, django_capture_on_commit_callbacks, next_url="https://evil.example/")
    assert response["Location"] == "/book/my/"


# --- my bookings ----------------------------------------------------------------------------------------


def test_my_bookings_shows_only_my_own_with_changes_inside_the_window(alpha, django_capture_on_commit_callbacks):
    # given the client's visit in three days, one tomorrow morning inside the 12-hour window… of another
    # client, a past one, and a visit soon (inside the window)
    data = _salon(alpha)
    with schema_context(alpha.schema):
        other = client_make("李雷")
        now = timezone.now()
        later = appointment_insert(
            client=data["client"], start=now + datetime.timedelta(days=3), lines=[(data["cut"], data["lin"])]
        )
        soon = appointment_insert(
            client=data["client"], start=now + datetime.timedelta(hours=5), lines=[(data["cut"], data["wu"])]
        )
        past = appointment_insert(
            client=data["client"],
            start=now - datetime.timedelta(days=3),
            lines=[(data["facial"], data["lin"])],
            status=AppointmentStatus.DONE,
        )
        theirs = appointment_insert(
            client=other, start=now + datetime.timedelta(days=4), lines=[(data["colour"], data["lin"])]
        )
    page = _page(alpha)
    _sign_in(page, PHONE, django_capture_on_commit_callbacks)
    # when the client opens my bookings
    html = _text(page.get("/book/my/"))
    # then their own visits show, soonest first; the other client's never
    assert re.search(rf'data-booking="{soon.pk}".*data-booking="{later.pk}".*data-booking="{past.pk}"', html)
    assert f'data-booking="{theirs.pk}"' not in html
    # the later visit can be moved and cancelled; the soon one says to call the salon, with its phone
    assert f'href="/book/my/{later.pk}/cancel/"' in html and f'href="/book/my/{later.pk}/move/"' in html
    assert f'href="/book/my/{soon.pk}/cancel/"' not in html
    assert "To change it now, please call the salon on 021-5555 0101." in html
    # and another client's booking is not found at its address
    assert page.get(f"/book/my/{theirs.pk}/cancel/").status_code == 404
    assert page.get(f"/book/my/{theirs.pk}/move/").status_code == 404
    assert page.get(f"/book/done/{theirs.pk}/").status_code == 404


def test_my_bookings_costs_a_fixed_number_of_queries(
    alpha, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    data = _salon(alpha)
    with schema_context(alpha.schema):
        now = timezone.now()
        for n in range(6):
            appointment_insert(
                client=data["client"],
                start=now + datetime.timedelta(days=2 + n),
                lines=[(data["cut"], data["lin"]), (data["facial"], data["lin"])],
            )
    page = _page(alpha)
    _sign_in(page, PHONE, django_capture_on_commit_callbacks)
    page.get("/book/my/")
    with django_assert_max_num_queries(14):
        assert page.get("/book/my/").status_code == 200


def test_outside_the_window_the_cancel_page_says_to_call_and_changes_nothing(alpha, django_capture_on_commit_callbacks):
    data = _salon(alpha)
    with schema_context(alpha.schema):
        soon = appointment_insert(
            client=data["client"], start=timezone.now() + datetime.timedelta(hours=5), lines=[(data["cut"], data["wu"])]
        )
    page = _page(alpha)
    _sign_in(page, PHONE, django_capture_on_commit_callbacks)
    shown = _text(page.get(f"/book/my/{soon.pk}/cancel/"))
    assert "It is too late to change this booking online. Please call the salon on 021-5555 0101." in shown
    assert "Yes, cancel it" not in shown
    moved = _text(page.get(f"/book/my/{soon.pk}/move/"))
    assert "Please call the salon on 021-5555 0101." in moved and 'name="start"' not in moved
    with schema_context(alpha.schema):
        assert Appointment.objects.get(pk=soon.pk).status == AppointmentStatus.BOOKED


def test_booking_pages_need_a_signed_in_client(alpha):
    _salon(alpha)
    page = _page(alpha)
    assert page.get("/book/my/")["Location"] == "/book/login/?next=%2Fbook%2Fmy%2F"
    assert page.get("/book/my/1/cancel/")["Location"] == "/book/login/?next=%2Fbook%2Fmy%2F"


def test_a_suspended_salon_shows_clients_the_friendly_page(alpha):
    from tenants.middleware import tenant_cache_clear
    from tenants.models import Salon

    _salon(alpha)
    Salon.objects.filter(pk=alpha.salon.pk).update(status="suspended", status_reason="Unpaid invoice 42")
    tenant_cache_clear()
    for path in ("/book/", "/book/login/", "/book/my/"):
        answer = _page(alpha).get(path)
        assert answer.status_code == 503 and "Unpaid invoice 42" not in answer.content.decode()


# --- booking (through availability_search and the booking services) -------------------------------------
# Booking, moving and cancelling queue messages to the client on commit. The tests capture and drop them: by
# the time captured callbacks could run, the test client's request (and its salon schema) is over; the
# messages have their own tests.


def _tomorrow_at(info: Any, hour: int, minute: int = 0) -> datetime.datetime:
    with schema_context(info.schema):
        from apps.core.db import salon_today

        return _local(salon_today() + datetime.timedelta(days=1), hour, minute)


def _confirm_url(data: dict[str, Any], start: datetime.datetime, *, staff: Any = "any", services: Any = None) -> str:
    ids = ",".join(str(s.pk) for s in (services or [data["cut"]]))
    staff_param = staff if staff == "any" else staff.pk
    when = start.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"/book/confirm/?location={data['location'].pk}&services={ids}&staff={staff_param}&start={when}"


def _post_confirm(page: PageClient, url: str, **fields: str) -> Any:
    form = page.get(url)
    assert form.status_code == 200, form.content[:300]
    key = re.search(r'name="key" value="([^"]+)"', form.content.decode()).group(1)
    query = parse_qs(urlsplit(url).query)
    data = {k: v[0] for k, v in query.items()}
    return page.post("/book/confirm/", {**data, "key": key, "notes": "", **fields})


def test_the_slots_page_lists_the_engines_online_times_for_the_day(alpha):
    data = _salon(alpha)
    start = _tomorrow_at(alpha, 10)
    url = f"/book/slots/?location={data['location'].pk}&services={data['cut'].pk}&staff={data['wu'].pk}"
    html = _page(alpha).get(f"{url}&date={start.date().isoformat()}").content.decode()
    # Wu works 10:00–19:00: the first time is 10:00, the last one that ends by 19:00 is 18:15 (45 minutes)
    times = re.findall(r'data-start="[^"]+">(\d\d:\d\d)<', html)
    assert times[0] == "10:00" and times[-1] == "18:15"
    assert 'aria-current="date"' in html and f'data-date="{start.date().isoformat()}"' in html


def test_a_member_books_with_anyone(alpha, django_capture_on_commit_callbacks):
    # given a signed-in client
    data = _salon(alpha)
    page = _page(alpha)
    _sign_in(page, PHONE, django_capture_on_commit_callbacks)
    start = _tomorrow_at(alpha, 11)
    # when they confirm the cut with anyone at 11:00 tomorrow
    with django_capture_on_commit_callbacks():
        booked = _post_confirm(page, _confirm_url(data, start), notes="First visit")
    # then it is booked online for them, and the confirmation page shows it
    assert booked.status_code == 302, booked.content[:1000]
    with schema_context(alpha.schema):
        appointment = Appointment.objects.get()
        line = appointment.lines.get()
        assert (appointment.client_id, appointment.channel, appointment.start, appointment.notes) == (
            data["client"].pk,
            AppointmentChannel.ONLINE,
            start,
            "First visit",
        )
        assert (line.service_id, line.is_requested, appointment.created_by_id) == (data["cut"].pk, False, None)
    assert booked["Location"] == f"/book/done/{appointment.pk}/"
    done = _text(page.get(booked["Location"]))
    assert "You are booked" in done and f'data-booking="{appointment.pk}"' in done


def test_a_member_books_a_technician_for_two_services_in_order(alpha, django_capture_on_commit_callbacks):
    data = _salon(alpha)
    page = _page(alpha)
    _sign_in(page, PHONE, django_capture_on_commit_callbacks)
    start = _tomorrow_at(alpha, 11)
    url = _confirm_url(data, start, staff=data["lin"], services=[data["colour"], data["cut"]])
    with django_capture_on_commit_callbacks():
        assert _post_confirm(page, url).status_code == 302
    with schema_context(alpha.schema):
        lines = list(Appointment.objects.get().lines.order_by("position"))
        assert [(line.service_id, line.staff_id, line.is_requested) for line in lines] == [
            (data["colour"].pk, data["lin"].pk, True),
            (data["cut"].pk, data["lin"].pk, True),
        ]


def test_a_new_phone_books_and_becomes_a_client(alpha, django_capture_on_commit_callbacks):
    # given a phone that is nobody's, proven by its code
    data = _salon(alpha)
    page = _page(alpha)
    start = _tomorrow_at(alpha, 11)
    url = _confirm_url(data, start)
    # the confirmation sends an anonymous visitor to sign in, and back
    assert page.get(url)["Location"].startswith("/book/login/?next=%2Fbook%2Fconfirm%2F")
    assert _sign_in(page, NEW_PHONE, django_capture_on_commit_callbacks, next_url=url)["Location"] == url
    # when they confirm without a name, then they are asked for it and nothing is created
    refused = _post_confirm(page, url)
    assert refused.status_code == 200 and "This field is required." in refused.content.decode()
    with schema_context(alpha.schema):
        assert (Client.objects.count(), Appointment.objects.count()) == (1, 0)
    # when they give their name
    with django_capture_on_commit_callbacks():
        booked = _post_confirm(page, url, name="  赵敏 ")
    # then the client is created with the proven phone and the online source, and the visit is theirs
    assert booked.status_code == 302, booked.content[:1000]
    with schema_context(alpha.schema):
        client = Client.objects.get(name="赵敏")
        assert (client.phone, client.source) == (NEW_E164, Source.ONLINE_BOOKING)
        assert Appointment.objects.get().client_id == client.pk
    # and they are now signed in as that client, in the member centre too
    assert page.get("/member/").status_code == 200
    assert "data-booking=" in page.get("/book/my/").content.decode()


def test_a_proven_phone_that_became_a_client_meanwhile_books_as_that_client(alpha, django_capture_on_commit_callbacks):
    data = _salon(alpha)
    page = _page(alpha)
    _sign_in(page, NEW_PHONE, django_capture_on_commit_callbacks)
    with schema_context(alpha.schema):
        existing = client_make("赵敏", phone=NEW_E164)  # the front desk added them in between
    with django_capture_on_commit_callbacks():
        booked = _post_confirm(page, _confirm_url(data, _tomorrow_at(alpha, 11)), name="Zhao")
    assert booked.status_code == 302
    with schema_context(alpha.schema):
        assert Appointment.objects.get().client_id == existing.pk
        assert Client.objects.filter(phone_hash=existing.phone_hash).count() == 1


def test_a_slot_taken_meanwhile_leads_back_to_the_slots_and_creates_nothing(alpha, django_capture_on_commit_callbacks):
    # given a new phone about to book Wu at 11:00, and somebody else takes Wu at 11:00 first
    data = _salon(alpha)
    page = _page(alpha)
    _sign_in(page, NEW_PHONE, django_capture_on_commit_callbacks)
    start = _tomorrow_at(alpha, 11)
    url = _confirm_url(data, start, staff=data["wu"])
    form = page.get(url)
    key = re.search(r'name="key" value="([^"]+)"', form.content.decode()).group(1)
    with schema_context(alpha.schema):
        appointment_insert(client=client_make("李雷"), start=start, lines=[(data["cut"], data["wu"])])
    # when they confirm
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    answer = page.post("/book/confirm/", {**query, "key": key, "name": "赵敏", "notes": ""})
    # then they are back on the slot list of that day, told why, and no client or visit was created
    assert answer.status_code == 302 and answer["Location"].startswith("/book/slots/?")
    assert f"date={start.date().isoformat()}" in answer["Location"]
    shown = _text(page.get(answer["Location"]))
    assert "Please choose another time." in shown
    with schema_context(alpha.schema):
        assert Appointment.objects.count() == 1 and not Client.objects.filter(name="赵敏").exists()


@pytest.mark.parametrize(("when", "message"), [("soon", "too soon"), ("far", "too far ahead")])
def test_too_soon_or_too_far_ahead_leads_back_to_the_slots(alpha, django_capture_on_commit_callbacks, when, message):
    data = _salon(alpha)
    page = _page(alpha)
    _sign_in(page, PHONE, django_capture_on_commit_callbacks)
    with schema_context(alpha.schema):
        max_days = SchedulingSettings.objects.get().online_max_days_ahead
    if when == "soon":  # on the 15-minute grid, 10 to 25 minutes from now: inside the 60-minute notice
        now = timezone.now().replace(second=0, microsecond=0) + datetime.timedelta(minutes=10)
        start = now + datetime.timedelta(minutes=-now.minute % 15)
    else:
        start = _tomorrow_at(alpha, 11) + datetime.timedelta(days=max_days + 5)
    answer = _post_confirm(page, _confirm_url(data, start))
    assert answer.status_code == 302 and answer["Location"].startswith("/book/slots/?")
    assert message in _text(page.get(answer["Location"]))
    with schema_context(alpha.schema):
        assert Appointment.objects.count() == 0


def test_a_blocked_client_is_told_and_nothing_is_booked(alpha, django_capture_on_commit_callbacks):
    from apps.scheduling.models import ClientBookingProfile

    data = _salon(alpha)
    with schema_context(alpha.schema):
        ClientBookingProfile.objects.create(client=data["client"], is_blocked=True, blocked_reason="no-shows")
    page = _page(alpha)
    _sign_in(page, PHONE, django_capture_on_commit_callbacks)
    answer = _post_confirm(page, _confirm_url(data, _tomorrow_at(alpha, 11)))
    assert answer.status_code == 400
    assert "Bookings for this client are not accepted; please speak to the manager." in answer.content.decode()
    with schema_context(alpha.schema):
        assert Appointment.objects.count() == 0


def test_a_double_submit_books_once(alpha, django_capture_on_commit_callbacks):
    data = _salon(alpha)
    page = _page(alpha)
    _sign_in(page, PHONE, django_capture_on_commit_callbacks)
    url = _confirm_url(data, _tomorrow_at(alpha, 11))
    key = re.search(r'name="key" value="([^"]+)"', page.get(url).content.decode()).group(1)
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    with django_capture_on_commit_callbacks():
        first = page.post("/book/confirm/", {**query, "key": key, "notes": ""})
        second = page.post("/book/confirm/", {**query, "key": key, "notes": ""})
    assert first.status_code == second.status_code == 302 and first["Location"] == second["Location"]
    with schema_context(alpha.schema):
        assert Appointment.objects.count() == 1


# --- move and cancel ----------------------------------------------------------------------------------------


def _booked(info: Any, data: dict[str, Any], page: PageClient, capture: Any, start: datetime.datetime) -> Appointment:
    with capture():
        assert _post_confirm(page, _confirm_url(data, start, staff=data["wu"])).status_code == 302
    with schema_context(info.schema):
        return Appointment.objects.get()


def test_a_client_cancels_inside_the_window(alpha, django_capture_on_commit_callbacks):
    data = _salon(alpha)
    page = _page(alpha)
    _sign_in(page, PHONE, django_capture_on_commit_callbacks)
    appointment = _booked(alpha, data, page, django_capture_on_commit_callbacks, _tomorrow_at(alpha, 15))
    assert "Yes, cancel it" in page.get(f"/book/my/{appointment.pk}/cancel/").content.decode()
    with django_capture_on_commit_callbacks():
        answer = page.post(f"/book/my/{appointment.pk}/cancel/")
    assert answer.status_code == 302 and answer["Location"] == "/book/my/"
    assert "Your booking was cancelled." in _text(page.get("/book/my/"))
    with schema_context(alpha.schema):
        appointment.refresh_from_db()
        assert appointment.status == AppointmentStatus.CANCELLED


def test_a_cancellation_after_the_window_is_refused_and_changes_nothing(alpha, django_capture_on_commit_callbacks):
    data = _salon(alpha)
    page = _page(alpha)
    _sign_in(page, PHONE, django_capture_on_commit_callbacks)
    appointment = _booked(alpha, data, page, django_capture_on_commit_callbacks, _tomorrow_at(alpha, 15))
    with schema_context(alpha.schema):
        SchedulingSettings.objects.update(cancellation_window_hours=72)
    for path in (f"/book/my/{appointment.pk}/cancel/", f"/book/my/{appointment.pk}/move/"):
        answer = page.post(path, {"start": "2030-01-01T02:00:00Z"})
        assert "Please call the salon on 021-5555 0101." in _text(answer)
    with schema_context(alpha.schema):
        fresh = Appointment.objects.get(pk=appointment.pk)
        assert (fresh.status, fresh.start) == (AppointmentStatus.BOOKED, appointment.start)


def test_a_client_moves_a_booking_to_another_free_time(alpha, django_capture_on_commit_callbacks):
    data = _salon(alpha)
    page = _page(alpha)
    _sign_in(page, PHONE, django_capture_on_commit_callbacks)
    appointment = _booked(alpha, data, page, django_capture_on_commit_callbacks, _tomorrow_at(alpha, 15))
    # the move page offers the day's times, its own included (the booking does not block itself)
    shown = page.get(f"/book/my/{appointment.pk}/move/").content.decode()
    assert re.search(r'data-start="[^"]+">15:00<', shown)
    new_start = _tomorrow_at(alpha, 16)
    with django_capture_on_commit_callbacks():
        answer = page.post(
            f"/book/my/{appointment.pk}/move/",
            {"start": new_start.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")},
        )
    assert answer.status_code == 302 and answer["Location"] == "/book/my/"
    with schema_context(alpha.schema):
        appointment.refresh_from_db()
        assert (appointment.start, appointment.status) == (new_start, AppointmentStatus.BOOKED)


# --- deposits ------------------------------------------------------------------------------------------------


def _deposit_salon(info: Any, *, top_up: int) -> dict[str, Any]:
    from apps.loyalty.services import wallets

    data = _salon(info)
    with schema_context(info.schema):
        ServiceBookingRule.objects.create(service=data["facial"], deposit_amount=5000)
        if top_up:
            wallets.wallet_top_up(client=data["client"], amount=top_up, idempotency_key="bill:1:top-up")
    return data


def test_a_deposit_is_shown_with_the_balance_then_paid_from_stored_value(alpha, django_capture_on_commit_callbacks):
    from apps.loyalty.models import Wallet
    from apps.scheduling.models import Deposit, DepositMethod

    # given a facial that asks a ¥50 deposit and a member with ¥300 of stored value
    data = _deposit_salon(alpha, top_up=30000)
    page = _page(alpha)
    _sign_in(page, PHONE, django_capture_on_commit_callbacks)
    url = _confirm_url(data, _tomorrow_at(alpha, 11), services=[data["facial"]])
    # when they book it, then the page shows the deposit and their balance, and nothing is booked yet
    asked = _post_confirm(page, url)
    html = _text(asked)
    assert asked.status_code == 400
    assert "This booking needs a deposit of ¥50.00" in html and 'data-figure="balance">¥300.00<' in html
    assert 'name="pay_deposit" value="1"' in html
    with schema_context(alpha.schema):
        assert Appointment.objects.count() == 0
    # when they pay the deposit and book
    key = re.search(r'name="key" value="([^"]+)"', asked.content.decode()).group(1)
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    with django_capture_on_commit_callbacks():
        booked = page.post("/book/confirm/", {**query, "key": key, "notes": "", "pay_deposit": "1"})
    # then the visit is booked with the deposit taken from stored value
    assert booked.status_code == 302, booked.content[:1000]
    with schema_context(alpha.schema):
        deposit = Deposit.objects.get()
        assert (deposit.appointment_id, deposit.amount, deposit.method) == (
            Appointment.objects.get().pk,
            5000,
            DepositMethod.STORED_VALUE,
        )
        wallet = Wallet.objects.get(client=data["client"])
        assert wallet.principal + wallet.bonus == 25000


def test_a_deposit_larger_than_the_balance_cannot_be_paid_online(alpha, django_capture_on_commit_callbacks):
    data = _deposit_salon(alpha, top_up=0)
    page = _page(alpha)
    _sign_in(page, PHONE, django_capture_on_commit_callbacks)
    url = _confirm_url(data, _tomorrow_at(alpha, 11), services=[data["facial"]])
    html = _text(_post_confirm(page, url))
    assert 'data-figure="balance">¥0.00<' in html and 'name="pay_deposit"' not in html
    assert "Your stored value is not enough for the deposit" in html
    # and paying anyway (a forged form) is refused by stored value, with nothing booked
    key = re.search(r'name="key" value="([^"]+)"', html).group(1)
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    forged = page.post("/book/confirm/", {**query, "key": key, "notes": "", "pay_deposit": "1"})
    assert forged.status_code == 400
    with schema_context(alpha.schema):
        assert Appointment.objects.count() == 0


# --- the first booking of a new phone, twice at once -----------------------------------------------------------

RACE_NOW = datetime.datetime(2030, 3, 1, 0, 0, tzinfo=datetime.UTC)
RACE_AT = datetime.datetime(2030, 3, 4, 2, 0, tzinfo=datetime.UTC)  # 10:00 in Shanghai
RACE_THREADS = 8


@pytest.fixture
def race_salon(two_salons: Any, django_db_blocker: Any) -> Any:
    from tests.races import salon_for_races

    with django_db_blocker.unblock(), salon_for_races("client-booking-race") as schema:
        yield schema


def test_first_bookings_of_one_new_phone_at_once_create_one_client(race_salon):
    from apps.core.errors import ServiceError
    from apps.scheduling.services.booking import LineRequest
    from apps.scheduling.services.client_booking import appointment_book_online
    from apps.scheduling.tests.support import default_location, service_make
    from tests.races import race

    # given a technician free all day and a phone that is nobody's
    with schema_context(race_salon):
        cut = service_make("Cut", minutes=45)
        technician_make("Li", services=[cut])
        location = default_location()

    # when eight first bookings of that phone, an hour apart, arrive at the same moment
    def work(i: int) -> Any:
        appointment, _client = appointment_book_online(
            client=None,
            phone=NEW_E164,
            name=f"赵敏{i}",
            location=location,
            start=RACE_AT + datetime.timedelta(hours=i),
            lines=[LineRequest(cut)],
            now=RACE_NOW,
        )
        return appointment.client_id

    outcomes = race(race_salon, RACE_THREADS, work)

    # then all are booked, for one and the same new client
    assert not [o for o in outcomes if isinstance(o, ServiceError | Exception)], outcomes
    with schema_context(race_salon):
        clients = list(Client.objects.all())
        assert len(clients) == 1 and clients[0].phone == NEW_E164 and clients[0].source == Source.ONLINE_BOOKING
        assert set(outcomes) == {clients[0].pk}
        assert Appointment.objects.filter(client=clients[0], channel=AppointmentChannel.ONLINE).count() == RACE_THREADS


def test_a_move_to_a_time_taken_meanwhile_is_refused_and_keeps_the_old_time(alpha, django_capture_on_commit_callbacks):
    data = _salon(alpha)
    page = _page(alpha)
    _sign_in(page, PHONE, django_capture_on_commit_callbacks)
    appointment = _booked(alpha, data, page, django_capture_on_commit_callbacks, _tomorrow_at(alpha, 15))
    taken = _tomorrow_at(alpha, 16)
    with schema_context(alpha.schema):
        appointment_insert(client=client_make("李雷"), start=taken, lines=[(data["cut"], data["wu"])])
    answer = page.post(
        f"/book/my/{appointment.pk}/move/", {"start": taken.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
    )
    assert answer.status_code == 302
    assert answer["Location"] == f"/book/my/{appointment.pk}/move/?date={taken.date().isoformat()}"
    assert "Please choose another time." in _text(page.get(answer["Location"]))
    with schema_context(alpha.schema):
        fresh = Appointment.objects.get(pk=appointment.pk)
        assert (fresh.start, fresh.status, fresh.reschedule_count) == (appointment.start, AppointmentStatus.BOOKED, 0)


def test_the_slots_page_costs_a_fixed_number_of_queries(alpha, django_assert_max_num_queries):
    data = _salon(alpha)
    with schema_context(alpha.schema):
        now = timezone.now()
        for n in range(5):
            appointment_insert(
                client=client_make(f"客{n}"),
                start=now + datetime.timedelta(days=1, hours=n),
                lines=[(data["cut"], data["lin"])],
            )
    page = _page(alpha)
    url = f"/book/slots/?location={data['location'].pk}&services={data['cut'].pk}&staff=any"
    page.get(url)
    with django_assert_max_num_queries(16):
        assert page.get(url).status_code == 200
