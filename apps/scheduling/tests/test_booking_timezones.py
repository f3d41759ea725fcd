"""Bookings in the salon's own time zone: a salon in Asia/Shanghai and one in Europe/London book across
London's change to summer time (Sunday 31 March 2030) and read back the local times they booked; shifts
stay local wall-clock times on both sides of the change."""

from __future__ import annotations

import datetime
from collections.abc import Iterator

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django_tenants.utils import schema_context

from apps.core.db import salon_timezone_forget
from apps.scheduling.models import Appointment
from apps.scheduling.tests.support import client_make, service_make, technician_make
from tests.fixtures import api_token, make_staff

UTC = datetime.UTC


def _set_zone(info, zone: str) -> str:
    connection.set_schema_to_public()
    salon = type(info.salon).objects.get(pk=info.salon.pk)
    before = salon.timezone
    salon.timezone = zone
    salon.save(update_fields=["timezone"])  # the save clears the routing cache
    salon_timezone_forget()
    return before


@pytest.fixture
def london(beta) -> Iterator[object]:
    before = _set_zone(beta, "Europe/London")
    try:
        yield beta
    finally:
        _set_zone(beta, before)


def _desk(info, username):
    make_staff(info, role="front_desk", username=username)
    return HttpClient(
        HTTP_HOST=info.host, HTTP_ACCEPT_LANGUAGE="en", HTTP_AUTHORIZATION=f"Bearer {api_token(info, username)}"
    )


def _arrange(info):
    with schema_context(info.schema):
        cut = service_make("Cut", minutes=60)
        tech = technician_make("Li", services=[cut])
        client = client_make()
    return cut, tech, client


def test_london_books_across_the_change_to_summer_time(london):
    # given a technician on 10:00–19:00 London time every day
    cut, tech, client = _arrange(london)
    desk = _desk(london, "desk-london")
    made = {}
    # when the desk books 10:00 on the Saturday (GMT) and on the Sunday (BST), giving wall-clock times
    for day in ("2030-03-30", "2030-03-31"):
        response = desk.post(
            "/api/v1/appointments/",
            {"client": client.pk, "service": cut.pk, "staff": tech.pk, "start": f"{day}T10:00:00"},
            content_type="application/json",
        )
        assert response.status_code == 201, response.content
        made[day] = response.json()
    # then both read back at 10:00 local, and are stored at 10:00 and 09:00 UTC
    assert made["2030-03-30"]["start"] == "2030-03-30T10:00:00Z"  # GMT: DRF writes UTC offsets as Z
    assert made["2030-03-31"]["start"] == "2030-03-31T10:00:00+01:00"
    assert made["2030-03-31"]["end"] == "2030-03-31T11:00:00+01:00"
    with schema_context(london.schema):
        starts = sorted(Appointment.objects.values_list("start", flat=True))
    assert starts == [
        datetime.datetime(2030, 3, 30, 10, 0, tzinfo=UTC),
        datetime.datetime(2030, 3, 31, 9, 0, tzinfo=UTC),
    ]
    # and the day filter uses London's calendar
    sunday = desk.get("/api/v1/appointments/?date=2030-03-31").json()
    assert [r["id"] for r in sunday["results"]] == [made["2030-03-31"]["id"]]
    # 09:30 BST is before the shift although it would be inside it in GMT reckoning (08:30 UTC)
    early = desk.post(
        "/api/v1/appointments/",
        {"client": client.pk, "service": cut.pk, "staff": tech.pk, "start": "2030-03-31T09:30:00+01:00"},
        content_type="application/json",
    )
    assert (early.status_code, early.json()) == (400, {"start": ["The technician is not working at this time."]})
    # 18:00 BST ends at 19:00 local, the end of the shift
    late = desk.post(
        "/api/v1/appointments/",
        {"client": client.pk, "service": cut.pk, "staff": tech.pk, "start": "2030-03-31T18:00:00"},
        content_type="application/json",
    )
    assert late.status_code == 201, late.content
    assert late.json()["start"] == "2030-03-31T18:00:00+01:00"


def test_shanghai_reads_back_the_same_instants_in_its_own_zone(alpha, london):
    # given the same booking made in Shanghai (no summer time) by an offset-less and a UTC start
    cut, tech, client = _arrange(alpha)
    desk = _desk(alpha, "desk-shanghai")
    naive = desk.post(
        "/api/v1/appointments/",
        {"client": client.pk, "service": cut.pk, "staff": tech.pk, "start": "2030-03-31T10:00:00"},
        content_type="application/json",
    )
    utc = desk.post(
        "/api/v1/appointments/",
        {"client": client.pk, "service": cut.pk, "staff": tech.pk, "start": "2030-03-31T04:00:00Z"},
        content_type="application/json",
    )
    # then
    assert (naive.status_code, utc.status_code) == (201, 201), (naive.content, utc.content)
    assert naive.json()["start"] == "2030-03-31T10:00:00+08:00"
    assert utc.json()["start"] == "2030-03-31T12:00:00+08:00"
    with schema_context(alpha.schema):
        assert sorted(Appointment.objects.values_list("start", flat=True)) == [
            datetime.datetime(2030, 3, 31, 2, 0, tzinfo=UTC),
            datetime.datetime(2030, 3, 31, 4, 0, tzinfo=UTC),
        ]
    # and London's salon sees none of them
    with schema_context(london.schema):
        assert Appointment.objects.count() == 0
