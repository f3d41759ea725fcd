"""A staff member's private iCalendar feed (SCH-15): the secret address, its reset, what the feed holds
and what it keeps back, and that it exists only on its own salon's domain."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import schema_context
from icalendar import Calendar

from apps.core.models import AuditEntry, User
from apps.core.services import staff_create
from apps.scheduling.models import AppointmentStatus, Resource, ResourceType, StaffCalendarFeed
from apps.scheduling.selectors.calendar_feed import calendar_feed_ics, client_short_name
from apps.scheduling.services.calendar_feed import calendar_feed_token_reset
from apps.scheduling.tests.support import (
    appointment_insert,
    client_make,
    default_location,
    service_make,
    technician_make,
)
from tests.fixtures import logged_in_client, make_staff, owner_of
from tests.races import race, salon_for_races


def soon(days: int, hour: int = 10) -> datetime.datetime:
    base = timezone.now().replace(minute=0, second=0, microsecond=0, hour=hour)
    return base + datetime.timedelta(days=days)


def arrange_book() -> dict:
    cut, colour = service_make("Cut"), service_make("Colour", minutes=90)
    li = technician_make("李娜", services=[cut, colour])
    zhang = technician_make("张伟", services=[cut])
    User.objects.filter(pk=li.pk).update(language="en")
    li.refresh_from_db()
    wang = client_make("王芳", phone="+8613911112222")
    anna = client_make("Anna Smith", phone="+8613933334444")
    room = Resource.objects.create(
        location=default_location(), resource_type=ResourceType.objects.create(name="Room"), name="Room 2"
    )
    confirmed = AppointmentStatus.CONFIRMED
    kept = appointment_insert(
        client=wang, start=soon(1), lines=[(cut, li), (colour, li)], status=confirmed, resources=[None, room]
    )
    kept.lines.filter(position=0).update(is_requested=True)
    anna_visit = appointment_insert(client=anna, start=soon(179), lines=[(cut, li)])
    appointment_insert(client=anna, start=soon(-31), lines=[(cut, li)], status=AppointmentStatus.DONE)  # too old
    appointment_insert(client=anna, start=soon(-29), lines=[(cut, li)], status=AppointmentStatus.DONE)
    appointment_insert(client=anna, start=soon(181), lines=[(cut, li)])  # too far ahead
    appointment_insert(client=wang, start=soon(3), lines=[(cut, li)], status=AppointmentStatus.CANCELLED)
    appointment_insert(client=wang, start=soon(4), lines=[(cut, zhang)])  # someone else's
    return {"li": li, "zhang": zhang, "kept": kept, "anna_visit": anna_visit}


def events_of(body: bytes) -> list:
    calendar = Calendar.from_ical(body)
    return sorted(calendar.walk("VEVENT"), key=lambda e: e.decoded("dtstart"))


def test_feed_holds_active_lines_in_range_without_contacts(in_alpha):
    # given
    found = arrange_book()
    kept = found["kept"]
    first = kept.lines.get(position=0)
    # when
    body = calendar_feed_ics(staff=found["li"])
    # then
    events = events_of(body)
    assert [str(e["summary"]) for e in events] == ["Cut · Anna", "Cut · 王*", "Colour · 王*", "Cut · Anna"]
    _past, cut, colour, _ahead = events
    assert str(cut["uid"]) == f"line-{first.pk}.{in_alpha.schema}@localhost"
    assert (cut.decoded("dtstart"), cut.decoded("dtend")) == (first.start, first.end)
    assert cut.decoded("dtstart").utcoffset() == datetime.timedelta(0)
    assert b"DTSTART:" in body and b"Z\r\n" in body  # UTC times, no zone table needed
    assert str(cut["location"]) == default_location().name
    assert str(colour["location"]) == f"{default_location().name} · Room 2"
    assert str(cut["description"]) == "Status: Confirmed\nRequested by the client (点钟): yes"
    assert str(colour["description"]) == "Status: Confirmed\nRequested by the client (点钟): no"
    assert str(cut["status"]) == "CONFIRMED"
    text = body.decode()
    for secret in ("13911112222", "13933334444", "Smith", "王芳"):
        assert secret not in text


def test_feed_queries_do_not_grow_with_lines(in_alpha):
    found = arrange_book()
    calendar_feed_ics(staff=found["li"])
    with CaptureQueriesContext(connection) as captured:
        calendar_feed_ics(staff=found["li"])
    assert sum(1 for q in captured.captured_queries if not q["sql"].startswith("SET search_path")) == 2


@pytest.mark.parametrize(
    ("name", "short"),
    [("王芳", "王*"), ("欧阳娜娜", "欧***"), ("Anna Smith", "Anna"), ("13812345678", "***********"), ("", "Client")],
)
def test_client_short_name(name, short):
    assert client_short_name(name) == short


def test_reset_makes_a_new_secret_and_audits_it_without_the_secret(in_alpha):
    # given
    tech = technician_make("李娜", services=[service_make("Cut")])
    first = calendar_feed_token_reset(staff=tech, acting_user=tech).token
    # when
    second = calendar_feed_token_reset(staff=tech, acting_user=tech).token
    # then
    assert first != second and len(second) == 43
    assert StaffCalendarFeed.objects.get(staff=tech).token == second
    entries = list(AuditEntry.objects.filter(action="scheduling.calendar_feed.reset").values_list("data", flat=True))
    assert entries == [{"staff": "李娜"}, {"staff": "李娜"}]


def test_only_managers_reset_someone_elses_link(in_alpha):
    # given
    cut = service_make("Cut")
    li, zhang = technician_make("李娜", services=[cut]), technician_make("张伟", services=[cut])
    token = calendar_feed_token_reset(staff=li, acting_user=li).token
    # when / then
    with pytest.raises(PermissionDenied):
        calendar_feed_token_reset(staff=li, acting_user=zhang)
    assert StaffCalendarFeed.objects.get(staff=li).token == token
    owner = User.objects.get(username=in_alpha.owner_username)
    assert calendar_feed_token_reset(staff=li, acting_user=owner).token != token


# --- the public address -------------------------------------------------------------------------


def test_feed_address_needs_no_sign_in_and_only_the_current_token(alpha, beta):
    # given
    with schema_context(alpha.schema):
        found = arrange_book()
        old = calendar_feed_token_reset(staff=found["li"], acting_user=None).token
    anonymous = HttpClient(HTTP_HOST=alpha.host)
    # when
    response = anonymous.get(f"/calendar/feed/{old}.ics")
    # then
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert len(events_of(response.content)) == 4
    # the same token on another salon's domain, and a made-up one, are unknown
    assert HttpClient(HTTP_HOST=beta.host).get(f"/calendar/feed/{old}.ics").status_code == 404
    assert anonymous.get(f"/calendar/feed/{'x' * 43}.ics").status_code == 404
    # a reset ends the old address at once
    with schema_context(alpha.schema):
        new = calendar_feed_token_reset(staff=found["li"], acting_user=None).token
    assert anonymous.get(f"/calendar/feed/{old}.ics").status_code == 404
    assert anonymous.get(f"/calendar/feed/{new}.ics").status_code == 200
    # a staff member who left has no feed
    with schema_context(alpha.schema):
        User.objects.filter(pk=found["li"].pk).update(is_active=False)
    assert anonymous.get(f"/calendar/feed/{new}.ics").status_code == 404


def test_each_salon_serves_its_own_feeds(alpha, beta):
    # given: both salons have a feed; ids of staff and lines may be the same in both schemas
    tokens = {}
    for info in (alpha, beta):
        with schema_context(info.schema):
            cut = service_make("Cut")
            tech = technician_make("Tech", services=[cut])
            User.objects.filter(pk=tech.pk).update(language="en")
            appointment_insert(client=client_make(f"{info.host[:4]} client"), start=soon(2), lines=[(cut, tech)])
            tokens[info.host] = calendar_feed_token_reset(staff=tech, acting_user=None).token
    # when
    alpha_feed = HttpClient(HTTP_HOST=alpha.host).get(f"/calendar/feed/{tokens[alpha.host]}.ics")
    beta_feed = HttpClient(HTTP_HOST=beta.host).get(f"/calendar/feed/{tokens[beta.host]}.ics")
    # then
    assert [str(e["summary"]) for e in events_of(alpha_feed.content)] == ["Cut · alph"]
    assert [str(e["summary"]) for e in events_of(beta_feed.content)] == ["Cut · beta"]
    assert HttpClient(HTTP_HOST=alpha.host).get(f"/calendar/feed/{tokens[beta.host]}.ics").status_code == 404


# --- the staff page ------------------------------------------------------------------------------


def english(info, username):
    client = logged_in_client(info, username)
    client.post("/account/language/", {"language": "en"})
    return client


def test_staff_page_creates_and_replaces_ones_own_link(alpha):
    # given
    tech = make_staff(alpha, role="technician", username="tech")
    page = english(alpha, "tech")
    assert "Create my link" in page.get("/calendar/feed/").content.decode()
    # when
    created = page.post("/calendar/feed/")
    # then
    assert created.status_code == 302 and created["Location"] == "/calendar/feed/"
    with schema_context(alpha.schema):
        token = StaffCalendarFeed.objects.get(staff=tech).token
    html = page.get("/calendar/feed/").content.decode()
    assert f'value="http://alpha.localhost/calendar/feed/{token}.ics"' in html
    assert 'id="reset-heading"' not in html  # technicians reset only their own
    page.post("/calendar/feed/")
    with schema_context(alpha.schema):
        assert StaffCalendarFeed.objects.get(staff=tech).token != token


def test_managers_replace_anyones_link_and_others_cannot(alpha):
    # given
    tech = make_staff(alpha, role="technician", username="tech")
    desk = make_staff(alpha, role="front_desk", username="desk")
    make_staff(alpha, role="accountant", username="books")
    with schema_context(alpha.schema):
        token = calendar_feed_token_reset(staff=tech, acting_user=None).token
    # when: the front desk (no manage_staff) tries
    refused = logged_in_client(alpha, "desk").post("/calendar/feed/", {"staff": tech.pk})
    # then
    assert refused.status_code == 403
    with schema_context(alpha.schema):
        assert StaffCalendarFeed.objects.get(staff=tech).token == token
        assert not StaffCalendarFeed.objects.filter(staff=desk).exists()
    assert logged_in_client(alpha, "books").get("/calendar/feed/").status_code == 403
    # when: the owner does
    owner = english(alpha, alpha.owner_username)
    assert 'id="reset-heading"' in owner.get("/calendar/feed/").content.decode()
    replaced = owner.post("/calendar/feed/", {"staff": tech.pk})
    # then
    assert replaced.status_code == 302
    with schema_context(alpha.schema):
        assert StaffCalendarFeed.objects.get(staff=tech).token != token
        assert not StaffCalendarFeed.objects.filter(staff=owner_of(alpha)).exists()


# --- resets at the same moment --------------------------------------------------------------------


@pytest.fixture
def race_salon(two_salons, django_db_blocker):
    with django_db_blocker.unblock(), salon_for_races("feed-race") as schema:
        yield schema


def test_first_links_made_at_once_leave_one_feed_with_the_last_token(race_salon):
    # given a technician without a link, on two phones at once
    with schema_context(race_salon):
        tech = staff_create(name="李娜", role="technician", username="lina")
    # when six "Create my link" arrive at the same moment
    outcomes = race(race_salon, 6, lambda i: calendar_feed_token_reset(staff=tech, acting_user=tech).token)
    # then none fails, and one feed holds one of the tokens handed out (the others no longer open it)
    assert all(isinstance(o, str) and len(o) == 43 for o in outcomes), outcomes
    with schema_context(race_salon):
        (token,) = StaffCalendarFeed.objects.filter(staff=tech).values_list("token", flat=True)
        assert token in outcomes
        assert AuditEntry.objects.filter(action="scheduling.calendar_feed.reset").count() == 6
