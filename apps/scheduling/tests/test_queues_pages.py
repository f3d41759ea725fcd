"""Pages of the waitlist, the walk-in queue and rotation, and the client's offer page; permission
``book_appointments``; two salons."""

from __future__ import annotations

import datetime
import zoneinfo

from django.test import Client as HttpClient
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.core.db import salon_today
from apps.core.models import AuditEntry
from apps.scheduling.models import (
    RotationEntry,
    RotationStatus,
    WaitlistEntry,
    WaitlistOffer,
    WaitlistOfferStatus,
    WaitlistStatus,
    WalkIn,
    WalkInStatus,
)
from apps.scheduling.services import waitlist
from apps.scheduling.tests.support import client_make, default_location, service_make, technician_make
from tests.fixtures import logged_in_client, make_staff

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def english_owner(info):
    client = logged_in_client(info, info.owner_username)
    client.post("/account/language/", {"language": "en"})
    return client


def _tomorrow() -> datetime.date:
    with_tz = salon_today()
    return with_tz + datetime.timedelta(days=1)


def test_a_technician_cannot_open_the_queue_pages(alpha):
    make_staff(alpha, role="technician", username="tech")
    tech = logged_in_client(alpha, "tech")
    assert tech.get("/calendar/waitlist/").status_code == 403
    assert tech.get("/calendar/walk-ins/").status_code == 403


def test_the_front_desk_adds_and_cancels_a_waiting_client(alpha):
    # given
    with schema_context(alpha.schema):
        cut = service_make("Cut")
        client = client_make("Li Na", phone="+8613900001234")
    owner = english_owner(alpha)
    day = _tomorrow()
    page = owner.get(f"/calendar/waitlist/?date={day.isoformat()}").content.decode()
    for label in ("Client", "Service", "Technician", "Date", "From", "Until", "Notes"):
        assert f">{label}<" in page
    # when
    added = owner.post(
        f"/calendar/waitlist/?date={day.isoformat()}",
        {"client": "1234", "service_1": cut.pk, "date": day.isoformat(), "earliest": "14:00", "latest": "17:00"},
    )
    # then
    assert added.status_code == 302
    with schema_context(alpha.schema):
        entry = WaitlistEntry.objects.get()
        assert (entry.client, entry.service_ids, entry.date, entry.status) == (
            client,
            [cut.pk],
            day,
            WaitlistStatus.WAITING,
        )
    listed = owner.get(added["Location"]).content.decode()
    assert "Li Na" in listed and "14:00–17:00" in listed
    cancelled = owner.post(f"/calendar/waitlist/{entry.pk}/cancel/")
    assert cancelled.status_code == 302
    with schema_context(alpha.schema):
        assert WaitlistEntry.objects.get().status == WaitlistStatus.CANCELLED


def test_a_refused_join_shows_the_reason_and_writes_nothing(alpha):
    with schema_context(alpha.schema):
        cut = service_make("Cut")
        client_make("Li Na", phone="+8613900001234")
    owner = english_owner(alpha)
    day = _tomorrow()
    response = owner.post(
        "/calendar/waitlist/",
        {"client": "1234", "service_1": cut.pk, "date": day.isoformat(), "earliest": "17:00", "latest": "14:00"},
    )
    assert response.status_code == 200
    assert "The end must be after the start." in response.content.decode()
    unknown = owner.post(
        "/calendar/waitlist/",
        {"client": "9999", "service_1": cut.pk, "date": day.isoformat(), "earliest": "14:00", "latest": "17:00"},
    )
    assert "No client matches." in unknown.content.decode()
    with schema_context(alpha.schema):
        assert WaitlistEntry.objects.count() == 0


def test_the_walk_in_page_shows_the_rotation_and_the_queue_and_polls(alpha):
    # given two technicians on today's roster
    with schema_context(alpha.schema):
        cut = service_make("Cut")
        technician_make("Bai", services=[cut], hours=("00:00", "23:59"))
        technician_make("Chen", services=[cut], hours=("00:00", "23:59"))
    owner = english_owner(alpha)
    # when a walk-in is added through the form
    added = owner.post("/calendar/walk-ins/", {"name": "Ms Zhou", "service_1": cut.pk})
    # then
    assert added.status_code == 302
    page = owner.get(added["Location"]).content.decode()
    assert 'hx-trigger="every 10s"' in page
    assert "Ms Zhou" in page and "Assign next" in page and "Has left" in page
    assert page.index("Bai") < page.index("Chen")
    with schema_context(alpha.schema):
        walk_in = WalkIn.objects.get()
        cards = list(RotationEntry.objects.order_by("position"))
    assert (walk_in.name, walk_in.status) == ("Ms Zhou", WalkInStatus.WAITING)
    # skip Bai with a reason, send Chen away and back, move Bai up again
    assert owner.post(f"/calendar/rotation/{cards[0].pk}/skip/", {"reason": "Lunch"}).status_code == 302
    assert owner.post(f"/calendar/rotation/{cards[1].pk}/away/").status_code == 302
    with schema_context(alpha.schema):
        assert RotationEntry.objects.get(pk=cards[1].pk).status == RotationStatus.AWAY
        assert AuditEntry.objects.get(action="scheduling.rotation.skipped").data["reason"] == "Lunch"
    assert owner.post(f"/calendar/rotation/{cards[1].pk}/back/").status_code == 302
    assert owner.post(f"/calendar/rotation/{cards[0].pk}/up/").status_code == 302
    with schema_context(alpha.schema):
        assert [c.staff.name for c in RotationEntry.objects.order_by("position")] == ["Bai", "Chen"]
    # the walk-in leaves
    assert owner.post(f"/calendar/walk-ins/{walk_in.pk}/left/").status_code == 302
    with schema_context(alpha.schema):
        assert WalkIn.objects.get().status == WalkInStatus.LEFT


def test_the_offer_page_needs_no_sign_in_and_declines(alpha):
    # given an open offer
    with schema_context(alpha.schema):
        cut = service_make("Cut")
        tech = technician_make("Bai", services=[cut])
        day = _tomorrow()
        entry = waitlist.waitlist_join(
            client=client_make(),
            location=default_location(),
            services=[cut],
            date=day,
            earliest=datetime.time(14),
            latest=datetime.time(17),
            acting_user=None,
        )
        start = datetime.datetime.combine(day, datetime.time(15), tzinfo=SHANGHAI)
        WaitlistOffer.objects.create(
            entry=entry,
            start=start,
            end=start + datetime.timedelta(hours=1),
            staff_ids=[tech.pk],
            token="page-token",
            expires_at=timezone.now() + datetime.timedelta(minutes=30),
        )
    visitor = HttpClient(HTTP_HOST=alpha.host, enforce_csrf_checks=False)
    # when
    page = visitor.get("/book/offer/page-token/")
    # then
    assert page.status_code == 200
    body = page.content.decode()
    assert "15:00–16:00" in body and "Cut" in body and "Bai" in body
    declined = visitor.post("/book/offer/page-token/", {"answer": "decline"})
    assert declined.status_code == 200
    with schema_context(alpha.schema):
        assert WaitlistOffer.objects.get().status == WaitlistOfferStatus.EXPIRED
    assert visitor.get("/book/offer/unknown/").status_code == 404


def test_an_offer_link_of_one_salon_is_unknown_in_another(alpha, beta):
    with schema_context(alpha.schema):
        cut = service_make("Cut")
        entry = waitlist.waitlist_join(
            client=client_make(),
            location=default_location(),
            services=[cut],
            date=_tomorrow(),
            earliest=datetime.time(14),
            latest=datetime.time(17),
            acting_user=None,
        )
        start = timezone.now() + datetime.timedelta(days=1)
        WaitlistOffer.objects.create(
            entry=entry,
            start=start,
            end=start + datetime.timedelta(hours=1),
            staff_ids=[],
            token="alpha-only",
            expires_at=timezone.now() + datetime.timedelta(minutes=30),
        )
    assert HttpClient(HTTP_HOST=alpha.host).get("/book/offer/alpha-only/").status_code == 200
    assert HttpClient(HTTP_HOST=beta.host).get("/book/offer/alpha-only/").status_code == 404
