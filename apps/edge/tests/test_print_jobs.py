"""Print jobs (EDGE-3, EDGE-6): queued once however often "print" is pressed, copies numbered and marked,
statuses moved only forward with every move kept, the agent's API and the staff page; two salons."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client as HttpClient
from django.utils import translation
from django_tenants.utils import schema_context

from apps.core.errors import ServiceError
from apps.core.models import AuditEntry, Location
from apps.core.services import location_create
from apps.edge.errors import EdgeError
from apps.edge.models import PrintJob, PrintJobEvent, PrintJobStatus
from apps.edge.rendering import PayloadError, payload_clean, render_text, wrap
from apps.edge.services import print_job_mark, print_job_queue, print_job_reprint, print_job_test
from tests.fixtures import api_token, logged_in_client, make_staff, owner_of
from tests.races import race, salon_for_races

LINES = [
    {"type": "text", "text": "芳华美发", "align": "center", "bold": True, "size": "double"},
    {"type": "pair", "left": "合计", "right": "¥254.00", "bold": True},
    {"type": "rule", "char": "-"},
    {"type": "feed", "lines": 2},
    {"type": "cut"},
]


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


def _location() -> Location:
    return Location.objects.order_by("pk").first()  # type: ignore[return-value]


def _queue(**kwargs: Any) -> PrintJob:
    options: dict[str, Any] = {
        "kind": "receipt",
        "location": _location(),
        "payload": {"width": 58, "lines": LINES, "copy_title": "重印"},
        "reference": "bill:1",
    }
    options.update(kwargs)
    return print_job_queue(**options)


# --- rendering ------------------------------------------------------------------------------------


def test_plain_text_counts_chinese_as_two_columns():
    # given a 58 mm payload with a centred Chinese title and a pair
    payload = payload_clean({"width": 58, "lines": LINES})

    # when it is rendered
    text = render_text(payload)

    # then it lines up as on the 32-column printer; the feeds at the end and the cut print nothing
    assert text == "            芳华美发\n合计                     ¥254.00\n" + "-" * 32 + "\n"
    assert wrap("一二三四五", 4) == ["一二", "三四", "五"]


@pytest.mark.parametrize(
    "payload",
    [
        None,
        {"width": 76, "lines": LINES},
        {"width": 80, "lines": []},
        {"width": 80, "lines": [{"type": "barcode"}]},
        {"width": 80, "lines": [{"type": "text", "text": "x", "align": "justify"}]},
        {"width": 80, "lines": [{"type": "text", "text": "\x1b@ raw printer command"}]},
        {"width": 80, "lines": [{"type": "feed", "lines": 99}]},
        {"width": 80, "lines": [{"type": "pair", "left": 5, "right": "x"}]},
    ],
)
def test_payloads_the_printer_cannot_take_are_refused(payload):
    with pytest.raises(PayloadError):
        payload_clean(payload)


# --- queuing --------------------------------------------------------------------------------------


def test_print_pressed_twice_queues_one_job_and_a_copy_is_numbered(in_alpha):
    # given a receipt queued for printing
    first = _queue()

    # when "print" is pressed again, then a copy is asked for twice
    again = _queue()
    copy_one = _queue(copy=True)
    copy_two = _queue(copy=True)

    # then there is one original and two numbered copies that say so on the paper
    assert again.pk == first.pk and again.is_replay and not first.is_replay
    assert (copy_one.copy_number, copy_two.copy_number) == (1, 2)
    assert copy_one.copy_of_id == first.pk == copy_two.copy_of_id
    assert PrintJob.objects.count() == 3
    assert copy_one.text.splitlines()[0] == " " * 9 + "*** 重印 1 ***"  # 14 columns centred in 32
    assert copy_two.payload["copy"] == 2
    assert first.text.splitlines()[0] == "            芳华美发"
    assert first.status == PrintJobStatus.QUEUED
    assert list(PrintJobEvent.objects.filter(job=first).values_list("status", flat=True)) == ["queued"]
    assert AuditEntry.objects.filter(action="edge.print_copy").count() == 2


def test_a_copy_request_repeated_with_its_key_queues_one_copy(in_alpha):
    # given an original
    original = _queue()

    # when the same copy request arrives twice (a double click on "reprint")
    one = print_job_reprint(job=original, acting_user=None, idempotency_key="page-1-reprint")
    two = print_job_reprint(job=original, acting_user=None, idempotency_key="page-1-reprint")

    # then one copy is queued
    assert one.pk == two.pk and two.is_replay
    assert PrintJob.objects.filter(copy_number__gt=0).count() == 1


def test_a_copy_with_no_original_queues_the_original(in_alpha):
    job = _queue(copy=True, reference="bill:77")
    assert (job.copy_number, job.copy_of_id) == (0, None)
    assert PrintJob.objects.count() == 1


def test_bad_input_is_refused_and_nothing_is_queued(in_alpha):
    # given a closed location
    closed = location_create(name="Closed shop")
    Location.objects.filter(pk=closed.pk).update(is_active=False)
    closed.refresh_from_db()
    cases = [
        ({"kind": "flyer"}, EdgeError.INVALID_KIND),
        ({"location": closed}, EdgeError.INACTIVE_LOCATION),
        ({"reference": ""}, EdgeError.INVALID),
        ({"payload": {"width": 80, "lines": [{"type": "text", "text": "x" * 401}]}}, EdgeError.INVALID_PAYLOAD),
    ]
    for kwargs, code in cases:
        with pytest.raises(ServiceError) as refused:
            _queue(**kwargs)
        assert refused.value.code == code
    assert PrintJob.objects.count() == 0


def test_statuses_move_forward_and_every_move_is_kept(in_alpha):
    # given a queued job
    job = _queue()

    # when the agent takes it, fails, it is queued again, then sent and printed, and acknowledges twice
    print_job_mark(job=job, status="sent")
    print_job_mark(job=job, status="failed", error="paper out")
    print_job_mark(job=job, status="queued")
    print_job_mark(job=job, status="sent")
    printed = print_job_mark(job=job, status="printed")
    again = print_job_mark(job=job, status="printed")

    # then it is printed once, after two attempts, with the history of every move
    assert printed.status == "printed" and again.is_replay
    assert printed.attempts == 2 and printed.printed_at is not None and printed.error == ""
    assert list(
        PrintJobEvent.objects.filter(job=job).order_by("id").values_list("previous_status", "status", "message")
    ) == [
        ("", "queued", ""),
        ("queued", "sent", ""),
        ("sent", "failed", "paper out"),
        ("failed", "queued", ""),
        ("queued", "sent", ""),
        ("sent", "printed", ""),
    ]

    # and a printed job cannot fail or be cancelled any more
    for status in ("failed", "cancelled", "queued"):
        with pytest.raises(ServiceError) as refused:
            print_job_mark(job=job, status=status)
        assert refused.value.code == EdgeError.INVALID_TRANSITION and refused.value.status == 409
    assert PrintJobEvent.objects.filter(job=job).count() == 6


def test_a_test_page_prints_chinese(in_alpha):
    job = print_job_test(location=_location(), acting_user=None)
    assert job.kind == "test"
    assert "中文打印测试 ABC abc 0123456789 ¥" in job.text


# --- concurrency ----------------------------------------------------------------------------------


@pytest.fixture
def race_salon(two_salons: Any, django_db_blocker: Any) -> Iterator[str]:
    with django_db_blocker.unblock(), salon_for_races("print-race") as schema:
        yield schema


def test_print_pressed_at_once_on_ten_tills_queues_one_original_and_copies_get_distinct_numbers(race_salon):
    # when ten tills press "print" on the same receipt at once
    def press(i: int) -> int:
        return _queue().pk

    originals = race(race_salon, 10, press)

    # and then six ask for a copy at once
    def copy(i: int) -> int:
        return _queue(copy=True).copy_number

    copies = race(race_salon, 6, copy)

    # then there is one original, and the copies are numbered 1 to 6 without a gap or a repeat
    assert all(isinstance(o, int) for o in originals), originals
    assert len(set(originals)) == 1
    assert sorted(copies) == [1, 2, 3, 4, 5, 6], copies
    with schema_context(race_salon):
        assert PrintJob.objects.filter(copy_number=0).count() == 1
        assert PrintJob.objects.count() == 7


# --- API ------------------------------------------------------------------------------------------


def _api(info: Any, username: str) -> HttpClient:
    return HttpClient(
        HTTP_HOST=info.host, HTTP_AUTHORIZATION=f"Bearer {api_token(info, username)}", HTTP_ACCEPT_LANGUAGE="en"
    )


def test_agent_lists_the_queue_and_acknowledges_jobs(alpha, beta):
    # given two queued jobs in alpha and one in beta, and a manager's token for the agent
    with schema_context(alpha.schema):
        first, second = _queue(reference="bill:1"), _queue(reference="bill:2")
        location_id = first.location_id
    with schema_context(beta.schema):
        _queue(reference="bill:1")
    make_staff(alpha, role="manager", username="agent")
    api = _api(alpha, "agent")

    # when the agent polls for jobs after the first one and acknowledges the second
    queue = api.get(f"/api/v1/print-jobs/?location={location_id}&status=queued&after={first.pk}")
    sent = api.post(f"/api/v1/print-jobs/{second.pk}/status/", {"status": "sent"}, content_type="application/json")
    printed = api.post(
        f"/api/v1/print-jobs/{second.pk}/status/", {"status": "printed"}, content_type="application/json"
    )
    detail = api.get(f"/api/v1/print-jobs/{second.pk}/")

    # then it saw only alpha's second job, and the job is printed with its history
    assert queue.status_code == 200
    assert [job["id"] for job in queue.json()["results"]] == [second.pk]
    assert queue.json()["results"][0]["payload"]["columns"] == 32
    assert sent.status_code == 200 and sent.json()["status"] == "sent"
    assert printed.status_code == 200 and printed.json()["status"] == "printed"
    assert [e["status"] for e in detail.json()["events"]] == ["queued", "sent", "printed"]
    assert api.get("/api/v1/print-jobs/").json()["count"] == 2


def test_status_reports_need_manage_devices_and_valid_input(alpha):
    # given a queued job, a cashier and the agent's manager token
    with schema_context(alpha.schema):
        job = _queue()
    make_staff(alpha, role="front_desk", username="desk")
    make_staff(alpha, role="manager", username="agent")
    cashier, agent = _api(alpha, "desk"), _api(alpha, "agent")
    url = f"/api/v1/print-jobs/{job.pk}/status/"

    # when the cashier reports it printed, and the agent sends nonsense
    denied = cashier.post(url, {"status": "printed"}, content_type="application/json")
    bad = agent.post(url, {"status": "burnt"}, content_type="application/json")
    long_error = agent.post(url, {"status": "failed", "error": "x" * 301}, content_type="application/json")

    # then nothing changed
    assert denied.status_code == 403
    assert bad.status_code == 400 and "status" in bad.json()
    assert long_error.status_code == 400 and "error" in long_error.json()
    with schema_context(alpha.schema):
        job.refresh_from_db()
        assert job.status == "queued" and job.events.count() == 1

    # and a status the job moved past is a conflict
    agent.post(url, {"status": "cancelled"}, content_type="application/json")
    late = agent.post(url, {"status": "printed"}, content_type="application/json")
    assert late.status_code == 409
    assert late.json() == {
        "detail": "The print job cannot go to this status from its current one.",
        "code": "invalid_transition",
    }


def test_unknown_source_and_technicians_are_refused(alpha):
    make_staff(alpha, role="front_desk", username="desk")
    make_staff(alpha, role="technician", username="tech")
    unknown = _api(alpha, "desk").post(
        "/api/v1/print-jobs/", {"source": "flyer", "id": 1}, content_type="application/json"
    )
    assert unknown.status_code == 400
    assert unknown.json() == {"source": ["Nothing of this kind can be printed."]}
    assert _api(alpha, "tech").get("/api/v1/print-jobs/").status_code == 403


# --- staff page -----------------------------------------------------------------------------------


def test_staff_page_lists_jobs_and_reprints_a_numbered_copy(alpha, beta):
    # given a printed receipt in alpha, and one in beta
    with schema_context(alpha.schema):
        job = _queue()
        print_job_mark(job=job, status="printed")
        owner = owner_of(alpha)
        from apps.core.services import user_set_language

        user_set_language(user=owner, language="en")
    with schema_context(beta.schema):
        _queue(reference="bill:999")
    page_client = logged_in_client(alpha, alpha.owner_username)

    # when the owner opens the print jobs and reprints the receipt twice with the same button
    page = page_client.get("/devices/print-jobs/")
    first = page_client.post(f"/devices/print-jobs/{job.pk}/reprint/", {"key": "render-1"})
    page_client.post(f"/devices/print-jobs/{job.pk}/reprint/", {"key": "render-1"})

    # then the page shows alpha's job only, and one copy was queued
    html = page.content.decode()
    assert page.status_code == 200
    assert "bill:1" in html and "bill:999" not in html
    assert "Printed" in html
    assert f'aria-label="Reprint job {job.pk}"' in html
    assert first.status_code == 302
    with schema_context(alpha.schema):
        assert list(PrintJob.objects.order_by("pk").values_list("copy_number", "status")) == [
            (0, "printed"),
            (1, "queued"),
        ]


def test_technicians_cannot_open_the_print_jobs(alpha):
    make_staff(alpha, role="technician", username="tech")
    client = logged_in_client(alpha, "tech")
    assert client.get("/devices/print-jobs/").status_code == 403
    assert client.post("/devices/print-jobs/test/").status_code == 403
    with schema_context(alpha.schema):
        assert PrintJob.objects.count() == 0
