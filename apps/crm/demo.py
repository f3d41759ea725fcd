"""Demo clients for the demo salon: tiers, tags (manual and automatic), clients with health
alerts, lunar birthdays, referrals and a year of purchase history. Safe to call twice."""

from __future__ import annotations

import datetime
import random

from django.utils import timezone

from apps.core.db import salon_today
from apps.core.models import User
from apps.crm.models import Channel, Client, ComplaintStatus, InteractionKind, MembershipTier
from apps.crm.services.clients import client_create, purchase_record
from apps.crm.services.interactions import complaint_transition, follow_up_create, interaction_record
from apps.crm.services.tags import clients_tag, tag_create, tags_recompute, tier_create

TIERS = [("普通会员", 1, "#6b7280"), ("银卡会员", 2, "#94a3b8"), ("金卡会员", 3, "#c9a227"), ("钻石会员", 4, "#2563eb")]
CLIENTS = [
    # name, phone, gender, birthday, lunar, allergies, taboos, source
    ("张三", "13800135678", "male", datetime.date(1988, 3, 12), False, "", "", "walk_in"),
    ("王芳", "13911112222", "female", datetime.date(1990, 5, 20), True, "对烫发药水过敏", "喜欢安静的房间", "referral"),
    ("李娜", "13622223333", "female", datetime.date(1995, 8, 8), False, "", "", "meituan"),
    ("刘洋", "13733334444", "male", datetime.date(1985, 12, 1), False, "", "", "douyin"),
    ("陈静", "13544445555", "female", datetime.date(1992, 1, 30), True, "", "孕期，避免精油", "wechat"),
    ("杨丽", "13855556666", "female", datetime.date(1998, 6, 18), False, "对果酸过敏", "", "xiaohongshu"),
    ("赵敏", "13966667777", "female", datetime.date(1987, 9, 9), False, "", "", "walk_in"),
    ("黄磊", "13677778888", "male", datetime.date(1983, 11, 11), False, "", "", "referral"),
    ("周婷", "13788889999", "female", datetime.date(1996, 2, 14), False, "", "", "meituan"),
    ("吴倩", "13599990000", "female", datetime.date(1993, 7, 7), False, "敏感肌，慎用去角质", "", "social"),
    ("徐晓", "13810101010", "female", datetime.date(2000, 10, 10), False, "", "", "douyin"),
    ("孙悦", "13920202020", "female", datetime.date(1991, 4, 4), True, "", "", "walk_in"),
    ("欧阳娜娜", "13630303030", "female", datetime.date(1999, 12, 25), False, "", "", "xiaohongshu"),
    ("马超", "13740404040", "male", datetime.date(1986, 8, 15), False, "", "", "advert"),
    ("Emily Chen", "+447911123456", "female", datetime.date(1994, 3, 3), False, "Nut allergy", "", "online_booking"),
]
SERVICES = [("洗剪吹", 8800), ("烫发", 38800), ("染发", 32800), ("深层补水护理", 26800), ("头皮护理", 19800)]


def seed(*, acting_user: User | None = None) -> None:
    if Client.objects.exists():
        return
    for name, rank, color in TIERS:
        if not MembershipTier.objects.filter(rank=rank).exists():
            tier_create(name=name, rank=rank, color=color, acting_user=acting_user)
    tiers = list(MembershipTier.objects.order_by("rank"))
    vip = tag_create(name="VIP", color="#b0306a", description="重点维护顾客", acting_user=acting_user)
    quiet = tag_create(name="喜欢安静", color="#0f766e", acting_user=acting_user)
    tag_create(
        name="年消费5000+",
        color="#c2410c",
        rule="spend_over",
        rule_amount=500000,
        rule_months=12,
        description="近 12 个月消费满 ¥5,000",
        acting_user=acting_user,
    )
    tag_create(name="90天未到店", color="#6b7280", rule="lapsed", rule_days=90, acting_user=acting_user)
    tag_create(name="本月生日", color="#db2777", rule="birthday_month", acting_user=acting_user)

    rng = random.Random(20261123)  # noqa: S311 - the same demo every time, not a secret
    staff = list(User.objects.filter(is_active=True, role__in=["technician", "manager"]).order_by("pk"))
    now = timezone.now()
    made: list[Client] = []
    for index, (name, phone, gender, birthday, lunar, allergies, taboos, source) in enumerate(CLIENTS):
        client = client_create(
            name=name,
            phone=phone,
            gender=gender,
            birthday=birthday,
            birthday_is_lunar=lunar,
            allergies=allergies,
            taboos=taboos,
            source=source,
            referrer=made[0] if source == "referral" and made else None,
            tier=tiers[index % len(tiers)] if tiers else None,
            card_number=f"VIP{1000 + index}" if index % 2 == 0 else "",
            acting_user=acting_user,
        )
        made.append(client)
        for visit in range(rng.randint(0, 12)):
            when = now - datetime.timedelta(days=rng.randint(1, 360), hours=rng.randint(0, 8))
            item, price = rng.choice(SERVICES)
            worker = rng.choice(staff) if staff else None
            purchase_record(
                client=client,
                occurred_at=when,
                item_name=item,
                amount=price,
                staff=worker,
                tender=rng.choice(["微信支付", "支付宝", "储值卡", "现金"]),
                visit_reference=f"demo-{client.pk}-{visit}",
                reference=f"demo-{client.pk}-{visit}",
            )
    _timeline(made, staff, now)
    clients_tag(client_ids=[c.pk for c in made[:4]], tag=vip, acting_user=acting_user)
    clients_tag(client_ids=[c.pk for c in made if c.taboos], tag=quiet, acting_user=acting_user)
    tags_recompute()


def _timeline(clients: list[Client], staff: list[User], now: datetime.datetime) -> None:
    """A few conversations, a resolved and an open complaint, and follow-ups due today and overdue."""
    manager = User.objects.filter(is_active=True, role="manager").order_by("pk").first()
    owner = User.objects.filter(is_active=True, role="owner").order_by("pk").first()
    actor = manager or owner
    if actor is None or len(clients) < 4:
        return
    wang, li = clients[1], clients[2]
    interaction_record(
        client=wang,
        kind=InteractionKind.COMMUNICATION,
        channel=Channel.WECHAT,
        summary="确认周六下午烫发，提醒带上次的发色照片",
        acting_user=actor,
        occurred_at=now - datetime.timedelta(days=3),
    )
    interaction_record(
        client=wang,
        kind=InteractionKind.FEEDBACK,
        summary="对上次护理很满意",
        rating=5,
        acting_user=actor,
        occurred_at=now - datetime.timedelta(days=20),
    )
    resolved = interaction_record(
        client=li,
        kind=InteractionKind.COMPLAINT,
        summary="等候时间超过 30 分钟",
        body="预约 14:00，实际 14:35 开始。",
        acting_user=actor,
        occurred_at=now - datetime.timedelta(days=10),
    )
    complaint_transition(complaint=resolved, to_status=ComplaintStatus.HANDLING, owner=actor, acting_user=actor)
    complaint_transition(
        complaint=resolved,
        to_status=ComplaintStatus.RESOLVED,
        resolution="致电道歉，赠送一次头皮护理",
        acting_user=actor,
    )
    interaction_record(
        client=clients[3],
        kind=InteractionKind.COMPLAINT,
        channel=Channel.REVIEW,
        summary="大众点评差评：染发颜色偏暗",
        acting_user=actor,
        occurred_at=now - datetime.timedelta(days=1),
    )
    assignees = staff or [actor]
    today = salon_today()  # the salon's day: follow-ups may not be due before it
    for index, client in enumerate(clients[:5]):
        follow_up_create(
            client=client,
            assigned_to=assignees[index % len(assignees)],
            due_date=today + datetime.timedelta(days=index % 3),
            purpose=["护理后第三天回访", "提醒补染发根", "邀请参加会员日", "生日前问候", "了解新品试用感受"][index],
            acting_user=actor,
        )
