"""The appointment book (SCH-10): day grid, week, today's queue and live board — what each viewer sees,
in two salons, with a fixed number of queries; the polled partials."""

from __future__ import annotations

import datetime
import re
import zoneinfo
from collections.abc import Iterator

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.core.models import Location
from apps.scheduling.models import (
    Appointment,
    AppointmentEvent,
    AppointmentStatus,
    Deposit,
    DepositMethod,
    Resource,
    ResourceStatus,
    ResourceType,
    ShiftPattern,
    TimeOff,
)
from apps.scheduling.selectors import book as selectors
from apps.scheduling.tests.support import appointment_insert, client_make, service_make, technician_make
from tests.fixtures import logged_in_client, make_staff

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
DAY = datetime.date(2026, 12, 1)  # a Tuesday


@pytest.fixture(autouse=True)
def _days_before_day() -> Iterator[None]:
    """These tests book DAY and look at it from the days before: the clock starts at noon on 26 November
    2026, still ticking, whatever the date of the run (once DAY has passed, booking it is refused)."""
    with time_machine.travel(datetime.datetime(2026, 11, 26, 12, tzinfo=SHANGHAI), tick=True):
        yield


def at(hhmm: str, day: datetime.date = DAY) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.fromisoformat(hhmm), tzinfo=SHANGHAI)


def english(info, username):
    client = logged_in_client(info, username)
    client.post("/account/language/", {"language": "en"})
    return client


@pytest.fixture
def salon(alpha):
    """Alpha with two technicians working 10:00–19:00 every day and one visit each on DAY; a technician
    who can sign in (周婷, working 10:00–19:00); a front-desk user."""
    desk = make_staff(alpha, role="front_desk", username="desk")
    own = make_staff(alpha, role="technician", username="zhouting")
    with schema_context(alpha.schema):
        cut = service_make("洗剪吹", minutes=60, buffer=15)
        colour = service_make("染发", minutes=90)
        li = technician_make("李娜", services=[cut, colour])
        wang = technician_make("王强", services=[cut])
        ShiftPattern.objects.bulk_create(
            ShiftPattern(
                staff=own,
                location=Location.objects.get(),
                weekday=d,
                start_time=datetime.time(10),
                end_time=datetime.time(19),
                valid_from=datetime.date(2020, 1, 1),
            )
            for d in range(7)
        )
        fang = client_make("王芳")
        mei = client_make("陈梅")
        first = appointment_insert(
            client=fang, start=at("10:00"), lines=[(cut, li)], status=AppointmentStatus.CONFIRMED
        )
        first.lines.update(is_requested=True)
        Deposit.objects.create(appointment=first, amount=5000, method=DepositMethod.DESK)
        second = appointment_insert(client=mei, start=at("14:30"), lines=[(colour, own)])
        TimeOff.objects.create(staff=wang, start=at("15:00"), end=at("17:00"))
    return {
        "info": alpha,
        "desk": desk,
        "own": own,
        "li": li,
        "wang": wang,
        "cut": cut,
        "colour": colour,
        "first": first,
        "second": second,
    }


def test_day_view_shows_rostered_technicians_as_columns_with_their_visits(salon):
    # given
    desk = english(salon["info"], "desk")
    # when
    page = desk.get(f"/calendar/?date={DAY.isoformat()}").content.decode()
    # then
    for name in ("李娜", "王强", "Zhouting"):
        assert name in page
    assert f'data-appointment="{salon["first"].pk}"' in page
    assert f'data-appointment="{salon["second"].pk}"' in page
    assert "王芳" in page and "陈梅" in page and "洗剪吹" in page and "染发" in page
    assert 'class="marker requested"' in page  # 点钟
    assert 'class="marker deposit"' in page
    assert "status-confirmed" in page and "status-booked" in page
    assert "book-cell leave" in page  # 王强's afternoon off
    assert ">10:00<" in page and ">18:45<" in page and ">19:00<" not in page  # 10:00 … 19:00 at 15 minutes
    assert 'hx-trigger="every 30s"' in page


def test_day_grid_places_blocks_on_their_rows(salon):
    with schema_context(salon["info"].schema):
        book = selectors.day_book(location=Location.objects.get(), day=DAY)
    columns = {c.staff.name: c for c in book.columns}
    assert [(b.row, b.span) for b in columns["李娜"].blocks] == [(0, 4)]  # 10:00–11:00, the buffer not drawn
    assert [(b.row, b.span) for b in columns["Zhouting"].blocks] == [(18, 6)]  # 14:30–16:00
    assert book.rows[0] == at("10:00") and book.rows[-1] == at("18:45") and book.step_minutes == 15
    assert [c.state for c in columns["王强"].cells[19:29]] == ["work"] + ["leave"] * 8 + ["work"]


def test_day_view_of_another_salon_shows_none_of_this_salons_visits(salon, beta):
    # given
    beta_desk = make_staff(beta, role="front_desk", username="desk")
    client = logged_in_client(beta, "desk")
    # when
    page = client.get(f"/calendar/?date={DAY.isoformat()}").content.decode()
    # then
    assert beta_desk.pk
    assert "王芳" not in page and "李娜" not in page and "data-appointment" not in page


def test_a_technician_sees_only_their_own_column(salon):
    # given
    tech = english(salon["info"], "zhouting")
    # when
    page = tech.get(f"/calendar/?date={DAY.isoformat()}").content.decode()
    # then
    assert "Zhouting" in page and "陈梅" in page
    assert "李娜" not in page and "王芳" not in page and "王强" not in page
    assert "/calendar/appointments/new/" not in page  # no booking from empty cells


def test_staff_without_a_schedule_permission_are_refused(salon):
    make_staff(salon["info"], role="accountant", username="books")
    accountant = logged_in_client(salon["info"], "books")
    for path in ("/calendar/", "/calendar/week/", "/calendar/today/", "/calendar/board/"):
        assert accountant.get(path).status_code == 403


def test_the_calendar_module_opens_the_day_view(salon):
    desk = english(salon["info"], "desk")
    page = desk.get("/").content.decode()
    assert 'href="/calendar/"' in page


def test_the_polled_grid_is_the_partial_alone(salon):
    desk = english(salon["info"], "desk")
    response = desk.get(f"/calendar/?date={DAY.isoformat()}", HTTP_HX_REQUEST="true")
    page = response.content.decode()
    assert page.lstrip().startswith('<div id="book-grid"') and "<html" not in page
    assert "王芳" in page


def test_week_view_counts_bookings_per_technician_per_day_and_links_to_the_day(salon):
    desk = english(salon["info"], "desk")
    page = desk.get(f"/calendar/week/?date={DAY.isoformat()}").content.decode()
    assert "2026-11-30 – 2026-12-06" in page
    assert "1 booking" in page
    assert '&amp;date=2026-12-01"' in page  # click through to the day
    one = desk.get(f"/calendar/week/?date={DAY.isoformat()}&staff={salon['li'].pk}").content.decode()
    assert "10:00 王芳 · 洗剪吹" in one and "陈梅" not in one


def test_week_book_counts(salon):
    with schema_context(salon["info"].schema):
        week = selectors.week_book(location=Location.objects.get(), monday=datetime.date(2026, 11, 30))
    counts = {row.staff.name: [cell.count for cell in row.cells] for row in week.rows}
    assert counts["李娜"] == [0, 1, 0, 0, 0, 0, 0]
    assert counts["Zhouting"] == [0, 1, 0, 0, 0, 0, 0]
    assert counts["王强"] == [0] * 7


def test_selectors_read_a_fixed_number_of_queries(salon, django_assert_max_num_queries):
    # given more technicians and visits than before
    with schema_context(salon["info"].schema):
        location = Location.objects.get()
        for n in range(4):
            tech = technician_make(f"T{n}", services=[salon["cut"]])
            appointment_insert(client=client_make(f"客{n}"), start=at("12:00"), lines=[(salon["cut"], tech)])
        now = at("12:30")
        # when / then (each query also sets the search path in tests)
        with django_assert_max_num_queries(12):
            selectors.day_book(location=location, day=DAY, now=now)
        with django_assert_max_num_queries(12):
            selectors.week_book(location=location, monday=datetime.date(2026, 11, 30))
        with django_assert_max_num_queries(10):
            selectors.today_queue(location=location, day=DAY)
        with django_assert_max_num_queries(14):
            selectors.live_board(location=location, now=now)


def test_day_page_queries_do_not_grow_with_the_visits(salon):
    desk = english(salon["info"], "desk")
    url = f"/calendar/?date={DAY.isoformat()}"
    with CaptureQueriesContext(connection) as before:
        desk.get(url, HTTP_HX_REQUEST="true")
    with schema_context(salon["info"].schema):
        for n in range(3):
            tech = technician_make(f"T{n}", services=[salon["cut"]])
            appointment_insert(client=client_make(f"客{n}"), start=at("12:00"), lines=[(salon["cut"], tech)])
    with CaptureQueriesContext(connection) as after:
        desk.get(url, HTTP_HX_REQUEST="true")
    assert len(after.captured_queries) == len(before.captured_queries)


@pytest.fixture
def day_after_day():
    """The clock at noon the day after DAY: a today without the fixture's visits, whenever the suite runs."""
    with time_machine.travel(at("12:00", DAY + datetime.timedelta(days=1)), tick=True):
        yield


def test_today_queue_groups_visits_by_where_they_are(salon, day_after_day):
    # given visits today in each state (not DAY, the day of the fixture's visits)
    with schema_context(salon["info"].schema):
        today = timezone.now().astimezone(SHANGHAI).date()
        tech = technician_make("赵敏", services=[salon["cut"]], hours=("00:00", "23:59"))
        visits = {}
        for n, status in enumerate(
            (AppointmentStatus.BOOKED, AppointmentStatus.ARRIVED, AppointmentStatus.IN_SERVICE, AppointmentStatus.DONE)
        ):
            visits[status] = appointment_insert(
                client=client_make(f"客{status}"),
                start=at("00:00", today) + datetime.timedelta(hours=2 * n + 1),
                lines=[(salon["cut"], tech)],
                status=status,
            )
        appointment_insert(
            client=client_make("取消"), start=at("09:00", today), lines=[(salon["cut"], tech)], status="cancelled"
        )
        queue = selectors.today_queue(location=Location.objects.get(), day=today)
    # then
    assert [a.pk for a in queue.upcoming] == [visits[AppointmentStatus.BOOKED].pk]
    assert [a.pk for a in queue.waiting] == [visits[AppointmentStatus.ARRIVED].pk]
    assert [a.pk for a in queue.in_service] == [visits[AppointmentStatus.IN_SERVICE].pk]
    assert [a.pk for a in queue.done] == [visits[AppointmentStatus.DONE].pk]
    desk = english(salon["info"], "desk")
    page = desk.get("/calendar/today/").content.decode()
    assert "To arrive (1)" in page and "Arrived, waiting (1)" in page and "In service (1)" in page
    assert "Done (1)" in page and "取消" not in page
    assert 'hx-trigger="every 15s"' in page
    partial = desk.get("/calendar/today/", HTTP_HX_REQUEST="true").content.decode()
    assert partial.lstrip().startswith('<div id="today-queue"')


def test_board_shows_technicians_free_busy_off_and_rooms(salon):
    # given a visit in service now with 李娜 and a room occupied by it
    with schema_context(salon["info"].schema):
        location = Location.objects.get()
        now = at("10:30")
        room_type = ResourceType.objects.create(name="美容房")
        room = Resource.objects.create(location=location, resource_type=room_type, name="1号房")
        Resource.objects.create(
            location=location, resource_type=room_type, name="2号房", status=ResourceStatus.TO_CLEAN
        )
        salon["first"].lines.update(is_active=False)  # cancelled: frees 李娜's morning
        type(salon["first"]).objects.filter(pk=salon["first"].pk).update(status=AppointmentStatus.CANCELLED)
        busy = appointment_insert(
            client=client_make("林小姐"),
            start=at("10:00"),
            lines=[(salon["cut"], salon["li"])],
            status=AppointmentStatus.IN_SERVICE,
            resources=[room],
        )
        TimeOff.objects.create(staff=salon["wang"], start=at("10:00"), end=at("11:00"))
        # when
        board = selectors.live_board(location=location, now=now)
    # then
    states = {t.staff.name: (t.state, t.busy_line and t.busy_line.busy_until) for t in board.technicians}
    assert states == {
        "李娜": ("busy", at("11:15")),
        "王强": ("off", None),
        "Zhouting": ("free", None),
    }
    nexts = {t.staff.name: t.next_line and t.next_line.start for t in board.technicians}
    assert nexts["Zhouting"] == at("14:30")
    rooms = {r.resource.name: (r.resource.status, [h.line.appointment_id for h in r.holds]) for r in board.resources}
    assert rooms == {"1号房": ("free", [busy.pk]), "2号房": ("to_clean", [])}


def test_board_page_and_its_polled_partial(salon, salon_midday):
    # given 李娜 in service now
    with schema_context(salon["info"].schema):
        tech = technician_make("赵敏", services=[salon["cut"]], hours=("00:00", "23:59"))
        appointment_insert(
            client=client_make("林小姐"),
            start=timezone.now() - datetime.timedelta(minutes=10),
            lines=[(salon["cut"], tech)],
            status=AppointmentStatus.IN_SERVICE,
        )
    desk = english(salon["info"], "desk")
    # when
    page = desk.get("/calendar/board/").content.decode()
    partial = desk.get("/calendar/board/", HTTP_HX_REQUEST="true").content.decode()
    # then
    assert 'hx-trigger="every 15s"' in page and "Busy until" in page and "林小姐" in page
    assert partial.lstrip().startswith('<div id="live-board"') and "<html" not in partial
    assert f'data-staff="{tech.pk}" data-state="busy"' in partial


# --- booking, moving and the lifecycle from the book (through the booking services) --------------------


def test_booking_from_an_empty_cell(salon):
    # given the form opened from 王强's 11:00 cell
    desk = english(salon["info"], "desk")
    with schema_context(salon["info"].schema):
        location = Location.objects.get()
        client = client_make("赵雪", phone="+8613911112222")
    form = desk.get(
        "/calendar/appointments/new/",
        {"location": location.pk, "staff": salon["wang"].pk, "start": at("11:00").isoformat()},
    ).content.decode()
    assert 'value="2026-12-01"' in form and 'value="11:00"' in form
    assert f'<option value="{salon["wang"].pk}" selected>' in form
    found = desk.get("/calendar/appointments/clients/", {"q": "2222"}).content.decode()
    assert f'name="client" value="{client.pk}"' in found and "赵雪" in found
    # when
    response = desk.post(
        "/calendar/appointments/new/",
        {
            "location": location.pk,
            "client": client.pk,
            "services": [salon["cut"].pk],
            "staff": salon["wang"].pk,
            "is_requested": "on",
            "date": "2026-12-01",
            "time": "11:00",
            "notes": "first visit",
        },
    )
    # then
    assert response.status_code == 302
    assert response["Location"] == f"/calendar/?location={location.pk}&date=2026-12-01"
    with schema_context(salon["info"].schema):
        visit = Appointment.objects.get(client=client)
        line = visit.lines.get()
        assert (visit.start, visit.channel, visit.notes, visit.status) == (
            at("11:00"),
            "staff",
            "first visit",
            "booked",
        )
        assert (line.staff_id, line.service_id, line.is_requested) == (salon["wang"].pk, salon["cut"].pk, True)


def test_a_conflicting_booking_is_a_form_error_naming_the_booking_and_nothing_is_written(salon):
    # given 李娜 is booked 10:00–11:15 for 王芳
    desk = english(salon["info"], "desk")
    with schema_context(salon["info"].schema):
        location = Location.objects.get()
        client = client_make("赵雪")
        before = Appointment.objects.count()
    # when
    response = desk.post(
        "/calendar/appointments/new/",
        {
            "location": location.pk,
            "client": client.pk,
            "services": [salon["cut"].pk],
            "staff": salon["li"].pk,
            "date": "2026-12-01",
            "time": "10:30",
        },
    )
    # then
    page = response.content.decode()
    assert response.status_code == 409
    assert "李娜 is already booked from 2026-12-01 10:00 to 2026-12-01 11:15." in page
    assert "In the way: 王芳&#x27;s booking at 2026-12-01 10:00 (洗剪吹)." in page
    assert f'name="client" value="{client.pk}" checked' in page  # what was filled in stays
    with schema_context(salon["info"].schema):
        assert Appointment.objects.count() == before


def test_booking_form_errors_without_a_client_or_service(salon):
    desk = english(salon["info"], "desk")
    with schema_context(salon["info"].schema):
        location = Location.objects.get()
        before = Appointment.objects.count()
    response = desk.post(
        "/calendar/appointments/new/", {"location": location.pk, "date": "2026-12-01", "time": "11:00"}
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "Choose the client." in page and "Choose at least one service." in page
    with schema_context(salon["info"].schema):
        assert Appointment.objects.count() == before


def test_moving_a_visit_to_another_technician_by_target_cell(salon):
    desk = english(salon["info"], "desk")
    visit = salon["first"]
    # when
    response = desk.post(
        f"/calendar/appointments/{visit.pk}/move/", {"target": f"{salon['wang'].pk}@{at('12:00').isoformat()}"}
    )
    # then
    assert response.status_code == 302
    with schema_context(salon["info"].schema):
        line = Appointment.objects.get(pk=visit.pk).lines.get(is_active=True)
        assert (line.staff_id, line.start, line.is_requested) == (salon["wang"].pk, at("12:00"), False)


def test_moving_a_visit_with_the_panel_form(salon):
    desk = english(salon["info"], "desk")
    visit = salon["second"]
    with schema_context(salon["info"].schema):
        line = visit.lines.get()
    panel = desk.get(f"/calendar/appointments/{visit.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert f'name="staff_{line.pk}"' in panel and "Move the appointment" in panel
    response = desk.post(
        f"/calendar/appointments/{visit.pk}/move/",
        {"date": "2026-12-01", "time": "16:00", f"staff_{line.pk}": salon["li"].pk},
    )
    assert response.status_code == 302
    with schema_context(salon["info"].schema):
        moved = Appointment.objects.get(pk=visit.pk).lines.get(is_active=True)
        assert (moved.staff_id, moved.start) == (salon["li"].pk, at("16:00"))


def test_a_conflicting_move_is_refused_with_the_same_message_and_nothing_changes(salon):
    desk = english(salon["info"], "desk")
    visit = salon["second"]  # Zhouting 14:30–16:00
    # when moved onto 李娜 at 10:30, where 王芳 is
    response = desk.post(
        f"/calendar/appointments/{visit.pk}/move/", {"target": f"{salon['li'].pk}@{at('10:30').isoformat()}"}
    )
    # then
    assert response.status_code == 302 and f"move={visit.pk}" in response["Location"]
    page = desk.get(response["Location"]).content.decode()
    assert "李娜 is already booked from 2026-12-01 10:00 to 2026-12-01 11:15." in page
    assert "In the way: 王芳&#x27;s booking at 2026-12-01 10:00 (洗剪吹)." in page
    with schema_context(salon["info"].schema):
        line = Appointment.objects.get(pk=visit.pk).lines.get()
        assert (line.staff_id, line.start, line.is_active) == (salon["own"].pk, at("14:30"), True)


def test_move_mode_turns_cells_into_targets(salon):
    desk = english(salon["info"], "desk")
    page = desk.get(f"/calendar/?date={DAY.isoformat()}&move={salon['second'].pk}").content.decode()
    assert 'form="book-move" name="target"' in page and "Stop moving" in page
    assert f'action="/calendar/appointments/{salon["second"].pk}/move/"' in page


def test_lifecycle_from_the_queue_buttons(salon):
    desk = english(salon["info"], "desk")
    visit = salon["second"]
    for action, status in (
        ("confirm", "confirmed"),
        ("arrive", "arrived"),
        ("start", "in_service"),
        ("finish", "done"),
    ):
        response = desk.post(f"/calendar/appointments/{visit.pk}/{action}/", {"next": "/calendar/today/"})
        assert response.status_code == 302 and response["Location"] == "/calendar/today/"
        with schema_context(salon["info"].schema):
            assert Appointment.objects.get(pk=visit.pk).status == status
    with schema_context(salon["info"].schema):
        kinds = list(AppointmentEvent.objects.filter(appointment=visit).values_list("kind", flat=True))
    assert kinds == ["confirmed", "arrived", "started", "finished"]
    panel = desk.get(f"/calendar/appointments/{visit.pk}/").content.decode()
    assert "finished → done" in panel


def test_a_refused_transition_says_why_and_changes_nothing(salon):
    desk = english(salon["info"], "desk")
    visit = salon["second"]  # booked: cannot finish
    response = desk.post(f"/calendar/appointments/{visit.pk}/finish/", follow=True)
    assert response.status_code == 200
    with schema_context(salon["info"].schema):
        assert Appointment.objects.get(pk=visit.pk).status == "booked"
        assert not AppointmentEvent.objects.filter(appointment=visit).exists()


def test_cancel_with_a_reason_and_no_show(salon):
    desk = english(salon["info"], "desk")
    response = desk.post(f"/calendar/appointments/{salon['second'].pk}/cancel/", {"reason": "生病"})
    assert response.status_code == 302
    desk.post(f"/calendar/appointments/{salon['first'].pk}/no-show/")
    with schema_context(salon["info"].schema):
        cancelled = Appointment.objects.get(pk=salon["second"].pk)
        assert (cancelled.status, cancelled.cancel_reason) == ("cancelled", "生病")
        assert Appointment.objects.get(pk=salon["first"].pk).status == "no_show"


def test_a_technician_clocks_their_own_visit_on_and_off_but_nothing_else(salon):
    # given 陈梅 has arrived for Zhouting; 王芳 is with 李娜
    desk = english(salon["info"], "desk")
    desk.post(f"/calendar/appointments/{salon['second'].pk}/arrive/")
    tech = english(salon["info"], "zhouting")
    # then the technician may not confirm, move, book or see another's visit
    assert tech.post(f"/calendar/appointments/{salon['second'].pk}/confirm/").status_code == 403
    assert tech.post(f"/calendar/appointments/{salon['first'].pk}/start/").status_code == 404
    assert tech.get(f"/calendar/appointments/{salon['first'].pk}/").status_code == 404
    assert tech.post(f"/calendar/appointments/{salon['second'].pk}/cancel/").status_code == 403
    assert tech.get("/calendar/appointments/new/").status_code == 403
    # when they clock on and off
    tech.post(f"/calendar/appointments/{salon['second'].pk}/start/")
    with schema_context(salon["info"].schema):
        assert Appointment.objects.get(pk=salon["second"].pk).status == "in_service"
    tech.post(f"/calendar/appointments/{salon['second'].pk}/finish/")
    with schema_context(salon["info"].schema):
        assert Appointment.objects.get(pk=salon["second"].pk).status == "done"
        assert Appointment.objects.get(pk=salon["first"].pk).status == "confirmed"


def test_searching_for_the_client_without_javascript_keeps_what_was_filled_in(salon):
    desk = english(salon["info"], "desk")
    with schema_context(salon["info"].schema):
        location = Location.objects.get()
        client = client_make("赵雪")
    page = desk.get(
        "/calendar/appointments/new/",
        {
            "location": location.pk,
            "date": "2026-12-01",
            "time": "11:00",
            "services": [salon["colour"].pk],
            "staff": salon["li"].pk,
            "q": "赵",
        },
    ).content.decode()
    assert f'name="client" value="{client.pk}"' in page
    assert re.search(rf'name="services" value="{salon["colour"].pk}"[^>]* checked', page)
    assert not re.search(rf'name="services" value="{salon["cut"].pk}"[^>]* checked', page)
    assert 'value="11:00"' in page and f'<option value="{salon["li"].pk}" selected>' in page


def test_a_technicians_panel_offers_only_clocking_on_and_off(salon):
    desk = english(salon["info"], "desk")
    desk.post(f"/calendar/appointments/{salon['second'].pk}/arrive/")
    tech = english(salon["info"], "zhouting")
    panel = tech.get(f"/calendar/appointments/{salon['second'].pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert "Start (上钟)" in panel
    for hidden in ("Confirm", "No-show", "Cancel the appointment", "Move the appointment"):
        assert hidden not in panel
    grid = tech.get(f"/calendar/?date={DAY.isoformat()}").content.decode()
    assert 'draggable="true"' not in grid and 'id="book-move"' not in grid


def test_a_second_location_has_its_own_columns_and_a_picker(salon):
    # given a second location where only 吴敏 works
    from apps.core.services import location_create

    with schema_context(salon["info"].schema):
        branch = location_create(name="二店")
        wu = technician_make("吴敏", services=[salon["cut"]], location=branch)
        appointment_insert(client=client_make("郑丽"), start=at("13:00"), lines=[(salon["cut"], wu)], location=branch)
    desk = english(salon["info"], "desk")
    # when
    main_page = desk.get(f"/calendar/?date={DAY.isoformat()}").content.decode()
    branch_page = desk.get(f"/calendar/?date={DAY.isoformat()}&location={branch.pk}").content.decode()
    # then
    assert 'id="book-location"' in main_page and f'<option value="{branch.pk}" >二店</option>' in main_page
    assert "李娜" in main_page and "吴敏" not in main_page and "郑丽" not in main_page
    assert "吴敏" in branch_page and "郑丽" in branch_page and "李娜" not in branch_page and "王芳" not in branch_page


def test_rooms_change_status_from_the_board(salon):
    # given
    with schema_context(salon["info"].schema):
        room = Resource.objects.create(
            location=Location.objects.get(), resource_type=ResourceType.objects.create(name="美容房"), name="1号房"
        )
    desk = english(salon["info"], "desk")
    board = desk.get("/calendar/board/").content.decode()
    assert "Mark to clean" in board and "Mark occupied" in board and "Mark free" not in board
    # when
    response = desk.post(
        f"/calendar/board/resources/{room.pk}/status/", {"status": "to_clean", "next": "/calendar/board/"}
    )
    refused = desk.post(f"/calendar/board/resources/{room.pk}/status/", {"status": "broken"})
    tech = logged_in_client(salon["info"], "zhouting")
    denied = tech.post(f"/calendar/board/resources/{room.pk}/status/", {"status": "free"})
    # then
    assert response.status_code == 302 and response["Location"] == "/calendar/board/"
    assert refused.status_code == 302 and denied.status_code == 403
    with schema_context(salon["info"].schema):
        room.refresh_from_db()
        assert (room.status, room.status_changed_by_id) == ("to_clean", salon["desk"].pk)
