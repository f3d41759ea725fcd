"""Demo staff profiles: the demo salon's technicians and manager get a level, a group, a home
location and the services they perform. Run after the catalogue's demo (apps.catalog.demo).

Safe to call twice: groups are looked up by name, and a profile update that changes nothing
writes nothing."""

from __future__ import annotations

from apps.catalog.models import Service
from apps.core.models import Location, StaffLevel, User
from apps.scheduling import services
from apps.scheduling.models import StaffGroup

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
