"""CRM-6 reminders: each staff member gets one message about their follow-ups due today, once,
however often beat fires and however many workers run it; beat reaches every salon through
``tenants.for_each_salon``."""

from __future__ import annotations

import datetime
import threading
import zoneinfo

import pytest
from django.core import mail
from django.db import connections
from django_tenants.utils import schema_context

from apps.core.db import salon_today
from apps.core.models import User
from apps.core.services import staff_deactivate
from apps.crm.models import Client, FollowUp
from apps.crm.services.clients import client_create
from apps.crm.services.interactions import follow_up_complete, follow_up_create, follow_up_reminders_send
from apps.crm.tasks_interactions import FOLLOW_UP_REMINDERS_TASK, follow_up_reminders
from apps.messaging.models import Delivery
from tenants.models import Salon, SalonStatus
from tenants.tasks import for_each_salon
from tests.fixtures import make_staff, owner_of

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
DAY = datetime.timedelta(days=1)


def _salon_time(hour: int) -> datetime.datetime:
    return datetime.datetime.combine(salon_today(), datetime.time(hour), SHANGHAI)


def _client(name: str, phone: str) -> Client:
    return client_create(name=name, phone=phone, acting_user=None)


def _plan(client: Client, user: User, purpose: str, due: datetime.date | None = None) -> FollowUp:
    return follow_up_create(
        client=client, assigned_to=user, due_date=due or salon_today(), purpose=purpose, acting_user=_salon_owner()
    )


def _salon_owner() -> User:
    return User.objects.filter(role="owner").order_by("pk").first()


def _reminders() -> list[Delivery]:
    return list(Delivery.objects.filter(purpose="follow_up_reminder").order_by("recipient"))


@pytest.fixture
def staff(in_alpha):
    rita = make_staff(in_alpha, role="technician", username="rita", email="rita@alpha.test")
    sam = make_staff(in_alpha, role="front_desk", username="sam", email="sam@alpha.test")
    nomail = make_staff(in_alpha, role="technician", username="nomail", phone="+8613700000009")
    return rita, sam, nomail


def test_each_member_gets_one_message_about_todays_follow_ups(in_alpha, staff, django_capture_on_commit_callbacks):
    # given
    rita, sam, nomail = staff
    wang, li = _client("王芳", "13900001111"), _client("李娜", "13900002222")
    today = [
        _plan(wang, rita, "Ask about the perm"),
        _plan(li, rita, "Offer the spring package"),
        _plan(li, sam, "Confirm"),
    ]
    _plan(wang, rita, "Tomorrow", due=salon_today() + DAY)
    _plan(wang, nomail, "No e-mail to send to")
    finished = _plan(wang, sam, "Already done")
    follow_up_complete(follow_up=finished, outcome="Called", acting_user=sam)
    # when
    with django_capture_on_commit_callbacks(execute=True):
        sent = follow_up_reminders_send(now=_salon_time(9))
    # then one message each, listing their follow-ups due today
    assert [d.recipient for d in sent] == ["rita@alpha.test", "sam@alpha.test"]
    rita_mail, sam_mail = _reminders()
    assert (rita_mail.status, rita_mail.subject) == ("sent", "2 follow-ups due today")
    assert "王芳" in rita_mail.body and "Ask about the perm" in rita_mail.body
    assert "李娜" in rita_mail.body and "Offer the spring package" in rita_mail.body
    assert "Tomorrow" not in rita_mail.body
    assert "Confirm" in sam_mail.body and "Already done" not in sam_mail.body
    assert "/clients/tasks/" in rita_mail.body
    assert sorted(m.to[0] for m in mail.outbox) == ["rita@alpha.test", "sam@alpha.test"]
    stamped = FollowUp.objects.filter(pk__in=[t.pk for t in today]).values_list("reminded_at", flat=True)
    assert set(stamped) == {_salon_time(9)}
    assert FollowUp.objects.filter(reminded_at__isnull=False).count() == 3


def test_a_reminder_is_sent_once_however_often_it_runs(in_alpha, staff, django_capture_on_commit_callbacks):
    rita, _sam, _nomail = staff
    _plan(_client("王芳", "13900001111"), rita, "Ask about the perm")
    with django_capture_on_commit_callbacks(execute=True):
        first = follow_up_reminders_send(now=_salon_time(9))
        second = follow_up_reminders_send(now=_salon_time(9) + datetime.timedelta(minutes=5))
    assert (len(first), second) == (1, [])
    assert len(_reminders()) == 1
    assert len(mail.outbox) == 1


def test_a_follow_up_planned_later_in_the_day_gets_its_own_reminder(in_alpha, staff):
    rita, _sam, _nomail = staff
    wang = _client("王芳", "13900001111")
    _plan(wang, rita, "Morning one")
    follow_up_reminders_send(now=_salon_time(9))
    _plan(wang, rita, "Afternoon one")
    later = follow_up_reminders_send(now=_salon_time(14))
    assert len(later) == 1
    assert "Afternoon one" in later[0].body
    assert "Morning one" not in later[0].body


def test_nothing_is_sent_before_the_reminder_hour_nor_to_inactive_staff(in_alpha, staff, settings):
    rita, sam, _nomail = staff
    _plan(_client("王芳", "13900001111"), rita, "Ask")
    _plan(_client("李娜", "13900002222"), sam, "Confirm")
    settings.CRM_FOLLOW_UP_REMINDER_HOUR = 10
    assert follow_up_reminders_send(now=_salon_time(9)) == []
    staff_deactivate(user=sam, acting_user=owner_of(in_alpha))
    sent = follow_up_reminders_send(now=_salon_time(10))
    assert [d.recipient for d in sent] == ["rita@alpha.test"]
    assert FollowUp.objects.filter(reminded_at__isnull=True).count() == 1


def test_the_reminder_counts_overdue_follow_ups_in_the_members_language(in_alpha, staff):
    from unittest import mock

    from django.utils import timezone

    from apps.core.services import user_set_language

    rita, _sam, _nomail = staff
    user_set_language(user=rita, language="en")
    wang = _client("王芳", "13900001111")
    with mock.patch("django.utils.timezone.now", return_value=timezone.now() - 2 * DAY):
        _plan(wang, rita, "Old one")
    _plan(wang, rita, "Today one")
    (sent,) = follow_up_reminders_send(now=_salon_time(9))
    assert sent.subject == "1 follow-up due today"
    assert "You also have 1 overdue follow-up." in sent.body
    assert "Old one" not in sent.body


def test_the_task_twice_in_a_salon_sends_once(alpha, beta, settings, django_capture_on_commit_callbacks):
    # given (the hour is lowered so the test passes at any time of day)
    settings.CRM_FOLLOW_UP_REMINDER_HOUR = 0
    rita = make_staff(alpha, role="technician", username="rita", email="rita@alpha.test")
    with schema_context(alpha.schema):
        _plan(_client("王芳", "13900001111"), rita, "Ask")
    # when beat fires twice
    with django_capture_on_commit_callbacks(execute=True):
        first = follow_up_reminders.apply_async(headers={"_schema_name": alpha.schema}).get()
        second = follow_up_reminders.apply_async(headers={"_schema_name": alpha.schema}).get()
    # then
    assert first == {"schema": alpha.schema, "reminders": 1}
    assert second == {"schema": alpha.schema, "reminders": 0}
    with schema_context(alpha.schema):
        assert len(_reminders()) == 1
    with schema_context(beta.schema):
        assert _reminders() == []


def test_fan_out_runs_the_task_in_every_served_salon(alpha, beta, settings, django_capture_on_commit_callbacks):
    # given a follow-up due today in each salon, assigned to its owner (who has an e-mail)
    settings.CRM_FOLLOW_UP_REMINDER_HOUR = 0
    for info, phone in ((alpha, "13900001111"), (beta, "13900002222")):
        with schema_context(info.schema):
            _plan(_client("王芳", phone), owner_of(info), f"Follow-up of {info.host}")
    # when beat's fan-out runs on the public schema
    with django_capture_on_commit_callbacks(execute=True):
        queued = for_each_salon.apply_async(args=[FOLLOW_UP_REMINDERS_TASK]).get()
    # then each salon reminded its own owner about its own follow-up
    assert queued == 2
    for info in (alpha, beta):
        with schema_context(info.schema):
            (reminder,) = _reminders()
            assert reminder.recipient == info.owner_username
            assert f"Follow-up of {info.host}" in reminder.body
    assert sorted(m.to[0] for m in mail.outbox) == ["owner@alpha.test", "owner@beta.test"]


def test_fan_out_skips_suspended_salons(alpha, beta, settings):
    settings.CRM_FOLLOW_UP_REMINDER_HOUR = 0
    Salon.objects.filter(pk=beta.salon.pk).update(status=SalonStatus.SUSPENDED)
    with schema_context(beta.schema):
        _plan(_client("王芳", "13900002222"), owner_of(beta), "Suspended salon's follow-up")
    assert for_each_salon.apply_async(args=[FOLLOW_UP_REMINDERS_TASK]).get() == 1
    with schema_context(beta.schema):
        assert FollowUp.objects.get().reminded_at is None


def test_two_workers_at_once_send_one_reminder(two_salons, django_db_blocker):
    """Real threads on committed data: several runs start together; one message goes out and
    every follow-up is stamped once."""
    alpha = two_salons[0]
    runs = 4
    with django_db_blocker.unblock(), schema_context(alpha.schema):
        owner = User.objects.get(username=alpha.owner_username)
        client = client_create(name="Race client", phone="13900008888", acting_user=None)
        for index in range(30):
            follow_up_create(
                client=client, assigned_to=owner, due_date=salon_today(), purpose=f"Race {index}", acting_user=owner
            )
        barrier = threading.Barrier(runs)
        outcomes: list[object] = [None] * runs

        def run(index: int) -> None:
            try:
                with schema_context(alpha.schema):
                    barrier.wait()
                    outcomes[index] = follow_up_reminders_send(now=_salon_time(9))
            except Exception as exc:  # collected and asserted below
                outcomes[index] = exc
            finally:
                connections.close_all()

        try:
            threads = [threading.Thread(target=run, args=(i,)) for i in range(runs)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)
            assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
            assert sorted(len(o) for o in outcomes) == [0] * (runs - 1) + [1]
            (reminder,) = Delivery.objects.filter(purpose="follow_up_reminder")
            assert reminder.body.count("Race client") == 30
            assert not FollowUp.objects.filter(client=client, reminded_at__isnull=True).exists()
            assert set(FollowUp.objects.filter(client=client).values_list("reminded_at", flat=True)) == {_salon_time(9)}
        finally:
            # Committed rows: remove what this test made.
            Delivery.objects.filter(purpose="follow_up_reminder").delete()
            FollowUp.objects.filter(client=client).delete()
            client.delete()
