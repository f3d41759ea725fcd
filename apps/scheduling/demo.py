"""Demo scheduling: the demo salon's technicians and manager get a level, a group, a home location and
the services they perform; weekly rosters, a day off and some leave; rooms, wash beds and a device; and
booking rules for the services that need them. Run after the catalogue's demo (apps.catalog.demo).

Safe to call twice: groups, resource types and resources are looked up by name, rosters are written
only for someone without one, and a profile or rule update that changes nothing writes nothing."""

from __future__ import annotations

import datetime

from apps.catalog.models import Service
from apps.core.db import salon_timezone, salon_today
from apps.core.models import Location, StaffLevel, User
from apps.scheduling import services
from apps.scheduling.models import (
    Resource,
    ResourceType,
    ShiftException,
    ShiftPattern,
    StaffGroup,
    TimeOff,
    TimeOffKind,
)
from apps.scheduling.services import resources, rosters

GROUPS = ["剪发组", "染烫组", "美容组"]

# username -> (level, group, service categories performed, introduction)
PROFILES = {
    "tech": ("发型师", "剪发组", ["剪发", "护理"], "擅长日系短发与层次剪裁。"),
    "tech2": ("资深发型师", "染烫组", ["剪发", "染烫", "护理"], "十年染烫经验，擅长时尚色与数码烫。"),
    "manager": ("总监", "染烫组", ["剪发", "染烫"], "店长兼艺术总监，主理新娘造型。"),
}


def seed(*, acting_user: User | None = None) -> None:
    groups = {}
    for name in GROUPS:
        groups[name] = StaffGroup.objects.filter(name__iexact=name).first() or services.staff_group_create(
            name=name, acting_user=acting_user
        )
    home = Location.objects.filter(is_active=True).order_by("pk").first()
    for username, (level_name, group_name, categories, bio) in PROFILES.items():
        user = User.objects.filter(username__iexact=username).first()
        if user is None:
            continue
        level = StaffLevel.objects.filter(name=level_name, is_active=True).first()
        skills = list(Service.objects.filter(category__name__in=categories, is_active=True).order_by("pk"))
        works_in = set(user.locations.values_list("pk", flat=True))
        services.staff_profile_update(
            user=user,
            acting_user=acting_user,
            level=level,
            group=groups[group_name],
            skills=skills,
            home_location=home if home is not None and (not works_in or home.pk in works_in) else None,
            bio=bio,
        )
    seed_rosters(acting_user=acting_user)
    seed_resources(acting_user=acting_user)


# --- rosters and resources (SCH-2, SCH-3) --------------------------------------------------------

# username -> weekday -> periods (local times); a weekday left out is a day off
WEEKS: dict[str, dict[int, list[tuple[str, str]]]] = {
    "tech": {d: [("10:00", "19:00")] for d in (1, 2, 3, 4, 5, 6)},
    "tech2": {
        0: [("11:00", "20:00")],
        2: [("11:00", "20:00")],
        3: [("11:00", "20:00")],
        4: [("11:00", "20:00")],
        5: [("10:00", "14:00"), ("15:00", "21:00")],
        6: [("10:00", "14:00"), ("15:00", "21:00")],
    },
    "manager": {d: [("09:30", "18:30")] for d in range(5)},
}
RESOURCE_TYPES = ["美容房", "洗头床", "仪器"]
# name, type, capacity, order
RESOURCES = [
    ("美容房 1", "美容房", 1, 10),
    ("双人美容房", "美容房", 2, 20),
    ("洗头床 1", "洗头床", 1, 30),
    ("洗头床 2", "洗头床", 1, 40),
    ("小气泡美容仪", "仪器", 1, 50),
]
# service -> resource types, deposit (fen), online bookable
BOOKING_RULES = {
    "头皮养护": (["洗头床"], 0, True),
    "深层修复护理": (["洗头床"], 0, True),
    "补水保湿面部护理": (["美容房"], 0, True),
    "深层清洁面部护理": (["美容房", "仪器"], 5000, True),
    "离子烫": ([], 10000, False),
}


def _hours(periods: list[tuple[str, str]]) -> list[tuple[datetime.time, datetime.time]]:
    return [(datetime.time.fromisoformat(a), datetime.time.fromisoformat(b)) for a, b in periods]


def seed_rosters(*, acting_user: User | None = None) -> None:
    """Weekly rosters from this week's Monday for the demo technicians and manager at the main location,
    a day off next Wednesday for tech2, and two days of leave for tech in a fortnight. Someone who already
    has a roster is left alone."""
    home = Location.objects.filter(is_active=True).order_by("pk").first()
    if home is None:
        return
    today = salon_today()
    monday = today - datetime.timedelta(days=today.weekday())
    staff = {u.username.lower(): u for u in User.objects.filter(username__in=list(WEEKS), is_active=True)}
    for username, week in WEEKS.items():
        user = staff.get(username)
        if user is None or ShiftPattern.objects.filter(staff=user).exists():
            continue
        rosters.roster_week_set(
            staff=user,
            location=home,
            days={d: _hours(p) for d, p in week.items()},
            valid_from=monday,
            acting_user=acting_user,
        )
    tech2 = staff.get("tech2")
    if tech2 is not None and not ShiftException.objects.filter(staff=tech2).exists():
        rosters.shift_exception_set(
            staff=tech2,
            date=monday + datetime.timedelta(days=9),
            is_working=False,
            note="调休",
            acting_user=acting_user,
        )
    tech = staff.get("tech")
    if tech is not None and not TimeOff.objects.filter(staff=tech).exists():
        tz = salon_timezone()
        start = datetime.datetime.combine(monday + datetime.timedelta(days=15), datetime.time(), tzinfo=tz)
        rosters.time_off_add(
            staff=tech,
            start=start,
            end=start + datetime.timedelta(days=2),
            kind=TimeOffKind.LEAVE,
            note="年假",
            acting_user=acting_user,
        )


def seed_resources(*, acting_user: User | None = None) -> None:
    """Rooms, wash beds (one double room) and a device at the main location, and booking rules for the
    services that need them."""
    home = Location.objects.filter(is_active=True).order_by("pk").first()
    if home is None:
        return
    types = {}
    for name in RESOURCE_TYPES:
        types[name] = ResourceType.objects.filter(name__iexact=name).first() or resources.resource_type_create(
            name=name, acting_user=acting_user
        )
    for name, type_name, capacity, order in RESOURCES:
        if not Resource.objects.filter(location=home, name__iexact=name).exists():
            resources.resource_create(
                location=home,
                resource_type=types[type_name],
                name=name,
                capacity=capacity,
                sort_order=order,
                acting_user=acting_user,
            )
    for service_name, (type_names, deposit, online) in BOOKING_RULES.items():
        service = Service.objects.filter(name=service_name, is_active=True).first()
        if service is None:
            continue
        resources.service_booking_rule_set(
            service=service,
            resource_types=[types[n] for n in type_names],
            deposit_amount=deposit,
            is_online_bookable=online,
            acting_user=acting_user,
        )


# --- appointments (SCH-5 … SCH-7) -------------------------------------------------------------------

# day offset from today, local start, technician, client, services in order, status to leave it in
VISITS: list[tuple[int, str, str, str, list[str], str]] = [
    (-1, "11:00", "tech2", "王芳", ["女士精剪"], "done"),
    (-1, "15:00", "tech", "李娜", ["女士精剪"], "no_show"),
    (0, "10:30", "tech", "王芳", ["女士精剪"], "done"),
    (0, "12:00", "tech2", "张三", ["男士精剪", "深层修复护理"], "arrived"),
    (0, "15:00", "tech", "李娜", ["头皮养护"], "confirmed"),
    (0, "16:30", "tech2", "陈静", ["时尚染发"], "booked"),
    (1, "11:00", "tech", "刘洋", ["男士精剪"], "booked"),
    (1, "14:00", "tech2", "王芳", ["深层修复护理"], "confirmed"),
    (2, "10:00", "tech", "杨丽", ["洗吹造型"], "booked"),
    (3, "15:00", "tech2", "周婷", ["女士精剪", "深层修复护理"], "booked"),
]


def seed_appointments(*, acting_user: User | None = None) -> int:
    """A few visits yesterday, today and in the next days for the demo technicians, booked through the
    booking services (so every rule and constraint applies) and moved along their lifecycle. Each has an
    idempotency key naming its day, so seeding twice on one day books nothing new; a visit the roster or an
    earlier booking doesn't allow is left out. Returns how many visits were booked."""
    from apps.core.errors import ServiceError
    from apps.crm.models import Client
    from apps.scheduling.models import Appointment
    from apps.scheduling.services import booking

    home = Location.objects.filter(is_active=True).order_by("pk").first()
    if home is None:
        return 0
    tz = salon_timezone()
    today = salon_today()
    staff = {u.username.lower(): u for u in User.objects.filter(is_active=True, username__in=["tech", "tech2"])}
    booked = 0
    for offset, at, username, client_name, service_names, status in VISITS:
        day = today + datetime.timedelta(days=offset)
        start = datetime.datetime.combine(day, datetime.time.fromisoformat(at), tzinfo=tz)
        client = Client.objects.filter(name=client_name).order_by("pk").first()
        services_found = [Service.objects.filter(name=n, is_active=True).first() for n in service_names]
        tech = staff.get(username)
        if client is None or tech is None or not all(services_found):
            continue
        key = f"demo:{day.isoformat()}:{username}:{at}"
        if Appointment.objects.filter(idempotency_key=key).exists():
            continue  # seeded before
        appointment = None
        for chosen in (tech, None):  # the named technician, else whoever the roster allows that day
            try:
                appointment = booking.appointment_book(
                    client=client,
                    location=home,
                    start=start,
                    lines=[booking.LineRequest(service=s, staff=chosen) for s in services_found if s is not None],
                    channel="staff",
                    acting_user=acting_user,
                    idempotency_key=key,
                    now=start - datetime.timedelta(days=2),  # history is booked as if two days ahead
                )
                break
            except ServiceError:
                continue
        if appointment is None:
            continue
        booked += 1
        steps = {
            "confirmed": [booking.appointment_confirm],
            "arrived": [booking.appointment_confirm, booking.appointment_arrive],
            "done": [
                booking.appointment_confirm,
                booking.appointment_arrive,
                booking.appointment_start,
                booking.appointment_finish,
            ],
            "no_show": [booking.appointment_no_show],
        }.get(status, [])
        for step in steps:
            appointment = step(appointment=appointment, acting_user=acting_user)
    return booked
