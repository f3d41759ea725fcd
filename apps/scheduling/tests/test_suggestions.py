"""Booking suggestions (SCH-13): technicians and services from the client's own history — visits in the
book and crm's consumption history — with their reasons; the booking form's fragment and the API."""

from __future__ import annotations

import datetime
import zoneinfo

from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from apps.core.db import salon_today
from apps.core.models import User
from apps.crm.models import Client
from apps.crm.services.clients import purchase_record
from apps.scheduling.models import AppointmentStatus
from apps.scheduling.selectors.suggestions import client_suggestions
from apps.scheduling.tests.support import appointment_insert, client_make, service_make, technician_make
from tests.fixtures import api_token, logged_in_client, make_staff

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
NOW = datetime.datetime(2026, 6, 1, 12, 0, tzinfo=SHANGHAI)


def day(year: int, month: int, d: int, hour: int = 10) -> datetime.datetime:
    return datetime.datetime(year, month, d, hour, 0, tzinfo=SHANGHAI)


def arrange_history() -> dict:
    """Ten visit days of 王芳 between November and April, from the book and from the till's history."""
    cut, colour, wash = service_make("Cut"), service_make("Colour", minutes=90), service_make("Wash", minutes=30)
    perm, old = service_make("Perm", minutes=120), service_make("Old treatment")
    li = technician_make("李娜", services=[cut, colour, wash, perm, old])
    zhang = technician_make("张伟", services=[cut, colour])
    zhao = technician_make("赵敏", services=[wash])
    client = client_make("王芳")
    done = AppointmentStatus.DONE
    for start, lines, status in [
        (day(2025, 11, 1), [(old, li)], done),
        (day(2025, 11, 15), [(old, li)], done),
        (day(2026, 3, 1), [(cut, li)], done),
        (day(2026, 3, 29), [(cut, li), (colour, zhang)], done),
        (day(2026, 4, 5), [(wash, zhao)], done),
        (day(2026, 4, 12), [(wash, li)], done),
        (day(2026, 4, 26), [(cut, zhang)], done),
        (day(2026, 5, 20), [(cut, zhang)], AppointmentStatus.CANCELLED),  # not a visit
        (day(2026, 5, 24), [(colour, zhang)], AppointmentStatus.NO_SHOW),  # not a visit
        (day(2026, 6, 5), [(wash, li)], AppointmentStatus.CONFIRMED),  # ahead: wash is not "due"
    ]:
        appointment_insert(client=client, start=start, lines=lines, status=status)
    for occurred, name, staff in [
        (day(2025, 12, 1), "perm", li),  # the till's item names match services ignoring case
        (day(2026, 1, 4), "Colour", zhang),
        (day(2026, 2, 1), "Perm", li),
        (day(2026, 3, 1, 11), "Cut", li),  # the bill of the 1 March visit: the same day counts once
        (day(2026, 3, 1, 11), "Shampoo bottle", li),  # no such service
    ]:
        purchase_record(client=client, occurred_at=occurred, item_name=name, amount=12_000, staff=staff)
    old.is_active = False
    old.save(update_fields=["is_active"])
    User.objects.filter(pk=zhao.pk).update(is_active=False)
    return {"client": client, "li": li, "zhang": zhang, "cut": cut, "perm": perm, "wash": wash, "colour": colour}


def test_technicians_services_and_due_again(in_alpha):
    # given
    found = arrange_history()
    # when
    suggestions = client_suggestions(client=found["client"], now=NOW)
    # then
    assert [(s.name, s.visits, s.of_visits, s.is_preferred, s.reason) for s in suggestions.staff] == [
        ("李娜", 7, 10, False, "7 of last 10 visits with 李娜"),
        ("张伟", 3, 10, False, "3 of last 10 visits with 张伟"),
    ]
    assert [(s.name, s.times, s.last_date, s.reason) for s in suggestions.services] == [
        ("Cut", 3, datetime.date(2026, 4, 26), "Booked 3 times, last on 2026-04-26"),
        ("Wash", 2, datetime.date(2026, 4, 12), "Booked 2 times, last on 2026-04-12"),
        ("Colour", 2, datetime.date(2026, 3, 29), "Booked 2 times, last on 2026-03-29"),
    ]
    assert [(s.name, s.interval_days, s.days_since, s.reason) for s in suggestions.due] == [
        ("Perm", 62.0, 120, "Usually every 62 days; last one 120 days ago"),
        ("Cut", 28.0, 36, "Usually every 28 days; last one 36 days ago"),
    ]


def test_preferred_technician_comes_first(in_alpha):
    # given
    found = arrange_history()
    Client.objects.filter(pk=found["client"].pk).update(preferred_staff=found["zhang"])
    client = Client.objects.get(pk=found["client"].pk)
    # when
    staff = client_suggestions(client=client, now=NOW).staff
    # then
    assert [(s.name, s.is_preferred, s.reason) for s in staff] == [
        ("张伟", True, "Preferred technician in the client's profile; 3 of last 10 visits with 张伟"),
        ("李娜", False, "7 of last 10 visits with 李娜"),
    ]


def test_not_due_before_the_interval_has_passed(in_alpha):
    # given: cuts every 28 days, the last one 28 days ago
    cut = service_make("Cut")
    li = technician_make("李娜", services=[cut])
    client = client_make("Anna")
    for start in (day(2026, 4, 6), day(2026, 5, 4)):
        appointment_insert(client=client, start=start, lines=[(cut, li)], status=AppointmentStatus.DONE)
    # when
    on_the_day = client_suggestions(client=client, now=day(2026, 6, 1))
    a_day_later = client_suggestions(client=client, now=day(2026, 6, 2))
    # then
    assert on_the_day.due == []
    assert [(s.name, s.days_since) for s in a_day_later.due] == [("Cut", 29)]
    assert [s.reason for s in a_day_later.staff] == ["2 of last 2 visits with 李娜"]


def test_new_client_gets_nothing(in_alpha):
    suggestions = client_suggestions(client=client_make("New"), now=NOW)
    assert suggestions.is_empty
    assert suggestions.as_dict() == {"staff": [], "services": [], "due": []}


def test_query_count_does_not_grow_with_history(in_alpha):
    # given
    found = arrange_history()
    client_suggestions(client=found["client"], now=NOW)  # the salon's zone is cached
    # when
    with CaptureQueriesContext(connection) as captured:
        client_suggestions(client=found["client"], now=NOW)
    # then: lines, purchases, services by name, preferred staff (none here), lines ahead
    assert sum(1 for q in captured.captured_queries if not q["sql"].startswith("SET search_path")) == 4


# --- fragment and API --------------------------------------------------------------------------


def english(info, username):
    client = logged_in_client(info, username)
    client.post("/account/language/", {"language": "en"})
    return client


def test_booking_form_fragment(alpha, beta):
    # given
    with schema_context(alpha.schema):
        found = arrange_history()
    make_staff(alpha, role="front_desk", username="desk")
    make_staff(alpha, role="technician", username="tech")
    desk = english(alpha, "desk")
    # when
    response = desk.get("/calendar/suggestions/", {"client": found["client"].pk})
    # then
    assert response.status_code == 200
    html = response.content.decode()
    assert f'<li data-staff="{found["li"].pk}"><strong>李娜</strong>' in html
    assert "7 of last 10 visits with 李娜" in html
    assert "Due again" in html and "Usually every 62 days; last one" in html
    assert desk.get("/calendar/suggestions/").content.decode().count("Choose a client to see suggestions.") == 1
    # another salon's domain does not know this client
    beta_owner = english(beta, beta.owner_username)
    assert beta_owner.get("/calendar/suggestions/", {"client": found["client"].pk}).status_code == 404
    assert logged_in_client(alpha, "tech").get("/calendar/suggestions/", {"client": 1}).status_code == 403


def test_api_suggestions(alpha, beta):
    # given: cuts 100, 70 and 40 days ago (every 30 days, so due)
    with schema_context(alpha.schema):
        cut = service_make("Cut")
        li = technician_make("李娜", services=[cut])
        client = client_make("王芳")
        today = salon_today()
        for back in (100, 70, 40):
            start = datetime.datetime.combine(today - datetime.timedelta(days=back), datetime.time(10), SHANGHAI)
            appointment_insert(client=client, start=start, lines=[(cut, li)], status=AppointmentStatus.DONE)
    api = HttpClient(HTTP_HOST=alpha.host, HTTP_AUTHORIZATION=f"Bearer {api_token(alpha, alpha.owner_username)}")
    # when
    response = api.get(f"/api/v1/clients/{client.pk}/suggestions/")
    # then
    assert response.status_code == 200, response.content
    last = (today - datetime.timedelta(days=40)).isoformat()
    assert response.json() == {
        "staff": [
            {
                "staff_id": li.pk,
                "name": "李娜",
                "visits": 3,
                "of_visits": 3,
                "is_preferred": False,
                "reason": "3 of last 3 visits with 李娜",
            }
        ],
        "services": [
            {
                "service_id": cut.pk,
                "name": "Cut",
                "times": 3,
                "last_date": last,
                "reason": f"Booked 3 times, last on {last}",
            }
        ],
        "due": [
            {
                "service_id": cut.pk,
                "name": "Cut",
                "interval_days": 30.0,
                "last_date": last,
                "days_since": 40,
                "reason": "Usually every 30 days; last one 40 days ago",
            }
        ],
    }
    # another salon's API does not know this client
    beta_api = HttpClient(HTTP_HOST=beta.host, HTTP_AUTHORIZATION=f"Bearer {api_token(beta, beta.owner_username)}")
    assert beta_api.get(f"/api/v1/clients/{client.pk}/suggestions/").status_code == 404
    make_staff(alpha, role="technician", username="tech")
    tech_api = HttpClient(HTTP_HOST=alpha.host, HTTP_AUTHORIZATION=f"Bearer {api_token(alpha, 'tech')}")
    assert tech_api.get(f"/api/v1/clients/{client.pk}/suggestions/").status_code == 403
