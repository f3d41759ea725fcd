"""The demo salon's clients: created through the services, safe to seed twice."""

from __future__ import annotations

from apps.crm import demo
from apps.crm.models import Client, Tag
from apps.crm.selectors import client_search


def test_demo_clients_seed_once_with_alerts_tags_and_history(in_alpha):
    # when
    demo.seed()
    demo.seed()

    # then
    assert Client.objects.count() == len(demo.CLIENTS)
    wang = client_search(query="wf")[0]
    assert (wang.name, wang.allergies, wang.birthday_is_lunar) == ("王芳", "对烫发药水过敏", True)
    assert Tag.objects.get(name="VIP").client_tags.count() == 4
    assert Tag.objects.filter(rule="").count() == 2 and Tag.objects.exclude(rule="").count() == 3


def test_demo_timeline_has_complaints_and_follow_ups(in_alpha):
    from apps.crm.models import FollowUp, Interaction

    demo.seed()
    assert Interaction.objects.filter(kind="complaint", status="resolved").count() == 1
    assert Interaction.objects.filter(kind="complaint", status="open").count() == 1
    assert FollowUp.objects.filter(status="open").count() == 5


def test_demo_follow_ups_are_due_from_the_salons_day_at_any_hour(in_alpha):
    import datetime
    import zoneinfo

    import time_machine
    from django.utils import timezone

    from apps.crm.models import FollowUp

    # given 02:00 in Shanghai, still the day before in UTC, the zone `make run`'s seeding command runs in
    shanghai = zoneinfo.ZoneInfo("Asia/Shanghai")
    with time_machine.travel(datetime.datetime(2026, 11, 30, 2, tzinfo=shanghai), tick=True), timezone.override("UTC"):
        # when
        demo.seed()
    # then the follow-ups are due from the salon's today on, not refused as due before it
    assert sorted(FollowUp.objects.values_list("due_date", flat=True)) == [
        datetime.date(2026, 11, 30),
        datetime.date(2026, 11, 30),
        datetime.date(2026, 12, 1),
        datetime.date(2026, 12, 1),
        datetime.date(2026, 12, 2),
    ]
