"""GET /api/v1/availability/ (SPEC §4): slots of one service or a visit, bad input, two salons."""

from __future__ import annotations

from django.test import Client
from django_tenants.utils import schema_context

from apps.catalog.models import Service
from apps.core.models import Location, User
from apps.scheduling.models import SchedulingSettings
from apps.scheduling.tests.support import service_make, technician_make
from tests.fixtures import api_token, make_staff

DAY = "2030-03-04"


def api(info, username: str) -> Client:
    return Client(HTTP_HOST=info.host, HTTP_AUTHORIZATION=f"Bearer {api_token(info, username)}")


def _salon(info) -> dict:
    with schema_context(info.schema):
        SchedulingSettings.objects.filter(id=1).update(slot_step_minutes=60)
        cut = service_make("Cut", minutes=60, buffer=15)
        colour = service_make("Colour", minutes=60)
        li = technician_make("Li", services=[cut, colour], hours=("10:00", "13:00"))
        wang = technician_make("Wang", services=[colour], hours=("11:00", "15:00"))
    return {"cut": cut.pk, "colour": colour.pk, "li": li.pk, "wang": wang.pk}


def test_slots_of_one_service_for_a_day(alpha):
    # given
    ids = _salon(alpha)
    # when
    response = api(alpha, alpha.owner_username).get(f"/api/v1/availability/?service={ids['cut']}&date={DAY}")
    # then slots in the salon's zone; the last 11:00 start keeps the buffer inside the shift
    assert response.status_code == 200, response.content
    assert response.json() == {
        "slots": [
            {"start": "2030-03-04T10:00:00+08:00", "end": "2030-03-04T11:00:00+08:00", "staff": ids["li"]},
            {"start": "2030-03-04T11:00:00+08:00", "end": "2030-03-04T12:00:00+08:00", "staff": ids["li"]},
        ]
    }


def test_a_visit_in_sequence_lists_its_segments_and_a_technician_can_be_chosen(alpha):
    ids = _salon(alpha)
    make_staff(alpha, role="technician", username="tech1")
    caller = api(alpha, "tech1")
    # when
    visit = caller.get(f"/api/v1/availability/?services={ids['cut']},{ids['colour']}&date_from={DAY}&date_to={DAY}")
    chosen = caller.get(f"/api/v1/availability/?service={ids['colour']}&date={DAY}&staff={ids['wang']}")
    # then the colour starts when the cut's buffer ends (Li is busy until 11:15, so Wang takes it)
    assert visit.status_code == 200, visit.content
    assert visit.json()["slots"] == [
        {
            "start": "2030-03-04T10:00:00+08:00",
            "end": "2030-03-04T12:15:00+08:00",
            "staff": ids["li"],
            "segments": [
                {
                    "service": ids["cut"],
                    "staff": ids["li"],
                    "start": "2030-03-04T10:00:00+08:00",
                    "end": "2030-03-04T11:00:00+08:00",
                },
                {
                    "service": ids["colour"],
                    "staff": ids["li"],
                    "start": "2030-03-04T11:15:00+08:00",
                    "end": "2030-03-04T12:15:00+08:00",
                },
            ],
        },
        {
            "start": "2030-03-04T11:00:00+08:00",
            "end": "2030-03-04T13:15:00+08:00",
            "staff": ids["li"],
            "segments": [
                {
                    "service": ids["cut"],
                    "staff": ids["li"],
                    "start": "2030-03-04T11:00:00+08:00",
                    "end": "2030-03-04T12:00:00+08:00",
                },
                {
                    "service": ids["colour"],
                    "staff": ids["wang"],
                    "start": "2030-03-04T12:15:00+08:00",
                    "end": "2030-03-04T13:15:00+08:00",
                },
            ],
        },
    ]
    assert [s["start"][11:16] for s in chosen.json()["slots"]] == ["11:00", "12:00", "13:00", "14:00"]
    assert {s["staff"] for s in chosen.json()["slots"]} == {ids["wang"]}


def test_a_date_range_and_the_online_channel(alpha):
    ids = _salon(alpha)
    caller = api(alpha, alpha.owner_username)
    week = caller.get(f"/api/v1/availability/?service={ids['cut']}&date_from={DAY}&date_to=2030-03-10")
    assert week.status_code == 200
    assert len(week.json()["slots"]) == 14
    # the salon takes online bookings at most 60 days ahead
    online = caller.get(f"/api/v1/availability/?service={ids['cut']}&date={DAY}&channel=online")
    assert (online.status_code, online.json()) == (200, {"slots": []})


def test_bad_input_is_a_400_with_field_messages(alpha, beta):
    ids = _salon(alpha)
    # ids that exist only in beta (each schema numbers its own rows)
    with schema_context(alpha.schema):
        alpha_services = set(Service.objects.values_list("pk", flat=True))
        alpha_users = set(User.objects.values_list("pk", flat=True))
    with schema_context(beta.schema):
        beta_service = service_make("Beta only", minutes=30)
        while beta_service.pk in alpha_services:
            beta_service = service_make(f"Beta {beta_service.pk}", minutes=30)
        beta_staff = technician_make("Beta tech", services=[beta_service])
        while beta_staff.pk in alpha_users:
            beta_staff = technician_make(f"Beta {beta_staff.pk}", services=[beta_service])
    with schema_context(alpha.schema):
        closed = Location.objects.create(name="Closed", is_active=False)
    caller = api(alpha, alpha.owner_username)
    cut = ids["cut"]
    cases = {
        "": "service",
        f"service={cut}": "date",
        f"service=abc&date={DAY}": "service",
        f"service={cut}&date=2030-13-01": "date",
        f"service={cut}&date_from={DAY}&date_to=2030-03-01": "date_to",
        f"service={cut}&date_from={DAY}&date_to=2030-04-04": "date_to",
        f"services=1,x&date={DAY}": "services",
        f"services={','.join([str(cut)] * 6)}&date={DAY}": "services",
        f"service={beta_service.pk}&date={DAY}": "service",
        f"services={cut},{beta_service.pk}&date={DAY}": "services",
        f"service={cut}&date={DAY}&staff={beta_staff.pk}": "staff",
        f"service={cut}&date={DAY}&staff={ids['wang']}": "staff",  # Wang does not cut
        f"service={cut}&date={DAY}&staff=0": "staff",
        f"service={cut}&date={DAY}&location={closed.pk}": "location",
        f"service={cut}&date={DAY}&location=999999": "location",
        f"service={cut}&date={DAY}&channel=fax": "channel",
    }
    for query, field in cases.items():
        response = caller.get(f"/api/v1/availability/?{query}")
        assert response.status_code == 400, (query, response.content)
        assert list(response.json()) == [field], (query, response.json())
    too_long = caller.get(f"/api/v1/availability/?service={cut}&date_from={DAY}&date_to=2030-04-04")
    assert too_long.json() == {"date_to": ["Search at most 31 days at a time."]}


def test_sign_in_is_required_and_each_salon_sees_its_own(alpha, beta):
    # given alpha's service, whose id beta does not have
    ids = _salon(alpha)
    with schema_context(beta.schema):
        assert not Service.objects.filter(pk=ids["cut"]).exists()
    # then
    anonymous = Client(HTTP_HOST=alpha.host).get(f"/api/v1/availability/?service={ids['cut']}&date={DAY}")
    assert anonymous.status_code == 401
    other = api(beta, beta.owner_username).get(f"/api/v1/availability/?service={ids['cut']}&date={DAY}")
    assert (other.status_code, other.json()) == (400, {"service": ["This service does not exist."]})
