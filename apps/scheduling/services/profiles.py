"""Writes of scheduling: staff groups and staff profiles (SCH-1). Every rule about them lives here."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction

from apps.catalog.models import Service
from apps.catalog.services import UNSET
from apps.core import services as core_services
from apps.core.models import Location, StaffLevel, User
from apps.core.services import audit_record
from apps.core.uploads import image_problem
from apps.scheduling.errors import SchedulingError, scheduling_error
from apps.scheduling.models import StaffGroup, StaffProfile

# --- staff groups ------------------------------------------------------------------------------


def _group_name(name: Any, *, exclude_pk: int | None = None) -> str:
    name = "" if name is None else str(name).strip()
    if not name:
        raise scheduling_error(SchedulingError.NAME_REQUIRED)
    if len(name) > StaffGroup._meta.get_field("name").max_length or "\x00" in name:  # type: ignore[operator]
        raise scheduling_error(SchedulingError.TEXT_TOO_LONG, field="name")
    others = StaffGroup.objects.exclude(pk=exclude_pk) if exclude_pk else StaffGroup.objects.all()
    if others.filter(name__iexact=name).exists():
        raise scheduling_error(SchedulingError.DUPLICATE_GROUP)
    return name


def _group_save(group: StaffGroup) -> StaffGroup:
    try:
        with transaction.atomic():
            group.save()
    except IntegrityError as exc:  # a concurrent write took the name between check and save
        if "staff_group_name_unique_ci" in str(exc):
            raise scheduling_error(SchedulingError.DUPLICATE_GROUP) from exc
        raise
    return group


@transaction.atomic
def staff_group_create(*, name: str, acting_user: User | None = None) -> StaffGroup:
    """Add a staff group; names are unique whatever their case."""
    group = _group_save(StaffGroup(name=_group_name(name)))
    audit_record(action="scheduling.staff_group.created", actor=acting_user, target=group, data={"name": group.name})
    return group


@transaction.atomic
def staff_group_update(*, group: StaffGroup, name: str, acting_user: User | None) -> StaffGroup:
    group = StaffGroup.objects.select_for_update().get(pk=group.pk)
    new_name = _group_name(name, exclude_pk=group.pk)
    if new_name != group.name:
        old = group.name
        group.name = new_name
        _group_save(group)
        audit_record(
            action="scheduling.staff_group.updated", actor=acting_user, target=group, data={"from": old, "to": new_name}
        )
    return group


@transaction.atomic
def staff_group_delete(*, group: StaffGroup, acting_user: User | None) -> None:
    """Remove a group; its members stay, without a group."""
    group = StaffGroup.objects.select_for_update().filter(pk=group.pk).first()  # type: ignore[assignment]
    if group is None:  # already gone
        return
    members = list(StaffProfile.objects.filter(group=group).order_by("user_id").values_list("user_id", flat=True))
    # Recorded before the delete, while the row still has its id (same transaction either way).
    audit_record(
        action="scheduling.staff_group.deleted",
        actor=acting_user,
        target=group,
        data={"name": group.name, "members": members},
    )
    group.delete()


# --- staff profiles ----------------------------------------------------------------------------


def _profile_checks(
    profile: StaffProfile,
    *,
    user: User,
    level: Any,
    skills: Any,
    home_location: Any,
    bio: Any,
    photo: UploadedFile | None,
) -> None:
    """Refuse what cannot be assigned now. Something already on the profile (a level since
    deactivated, a service no longer offered) may stay; only new choices must be current. The state
    is read from the database, not from the objects passed in, which may be stale."""
    if (
        level is not UNSET
        and level is not None
        and level.pk != profile.level_id
        and not StaffLevel.objects.filter(pk=level.pk, is_active=True).exists()
    ):
        raise scheduling_error(SchedulingError.INACTIVE_LEVEL)
    if skills is not UNSET:
        current = set(profile.skills.values_list("pk", flat=True)) if profile.pk else set()
        added = {service.pk for service in skills} - current
        if added and Service.objects.filter(pk__in=added, is_active=False).exists():
            raise scheduling_error(SchedulingError.INACTIVE_SERVICE)
    if home_location is not UNSET and home_location is not None and home_location.pk != profile.home_location_id:
        if not Location.objects.filter(pk=home_location.pk, is_active=True).exists():
            raise scheduling_error(SchedulingError.INACTIVE_LOCATION)
        works_in = set(user.locations.values_list("pk", flat=True))
        if works_in and home_location.pk not in works_in:
            raise scheduling_error(SchedulingError.HOME_OUTSIDE_LOCATIONS)
    if bio is not UNSET and ("\x00" in str(bio or "") or len(str(bio or "")) > 2000):
        raise scheduling_error(SchedulingError.TEXT_TOO_LONG, field="bio")
    if photo is not None:
        problem = image_problem(photo)
        if problem:
            raise scheduling_error(SchedulingError.INVALID_PHOTO, message=problem)


@transaction.atomic
def staff_profile_update(
    *,
    user: User,
    acting_user: User | None,
    level: Any = UNSET,
    group: Any = UNSET,
    skills: Any = UNSET,
    home_location: Any = UNSET,
    bio: Any = UNSET,
    photo: UploadedFile | None = None,
    remove_photo: bool = False,
) -> StaffProfile:
    """Change a staff member's working profile, creating it on first use. Only arguments given are
    changed. New choices must be current (an active level, offered services, an open location among
    the ones the person works in); a photo must be an image within the size limit."""
    # Lock the profile row (or, before it exists, the user's): two edits of one profile serialise.
    User.objects.select_for_update().filter(pk=user.pk).first()
    profile = StaffProfile.objects.select_for_update().filter(user=user).first() or StaffProfile(user=user)
    skills = list(skills) if skills is not UNSET else UNSET
    _profile_checks(profile, user=user, level=level, skills=skills, home_location=home_location, bio=bio, photo=photo)
    created = profile.pk is None
    changed: list[str] = []
    for field, value in (("level", level), ("group", group), ("home_location", home_location)):
        if value is not UNSET and getattr(profile, f"{field}_id") != (value.pk if value is not None else None):
            setattr(profile, field, value)
            changed.append(field)
    if bio is not UNSET and (bio or "").strip() != profile.bio:
        profile.bio = (bio or "").strip()
        changed.append("bio")
    old_photo = profile.photo.name if profile.photo else ""
    if photo is not None:
        profile.photo.save(photo.name or "photo", photo, save=False)
        changed.append("photo")
    elif remove_photo and old_photo:
        profile.photo = ""  # type: ignore[assignment]
        changed.append("photo")
    try:
        profile.save()
    except Exception:
        if photo is not None:  # the file is outside the transaction: do not leave it behind
            profile.photo.storage.delete(str(profile.photo.name))
        raise
    if "photo" in changed and old_photo:
        storage = profile.photo.storage
        transaction.on_commit(lambda: storage.delete(old_photo))
    if skills is not UNSET:
        before = set(profile.skills.values_list("pk", flat=True))
        after = {service.pk for service in skills}
        if before != after:
            profile.skills.set(skills)
            changed.append("skills")
    if changed or created:
        audit_record(
            action="scheduling.staff_profile.created" if created else "scheduling.staff_profile.updated",
            actor=acting_user,
            target=profile,
            data={"user": user.pk, "changed": sorted(changed)},
        )
    return profile


# --- a staff member and their profile at once (the staff API) ----------------------------------


@transaction.atomic
def staff_member_create(
    *,
    name: str,
    role: str,
    acting_user: User | None,
    email: str = "",
    phone: str = "",
    password: str | None = None,
    locations: Iterable[Location] = (),
    level: Any = UNSET,
    group: Any = UNSET,
    skills: Any = UNSET,
    home_location: Any = UNSET,
    bio: Any = UNSET,
) -> User:
    """Create a staff member (core's rules: role, contacts, password policy) with their profile, all
    or nothing."""
    user = core_services.staff_create(
        name=name,
        role=role,
        email=email,
        phone=phone,
        password=password,
        locations=locations,
        acting_user=acting_user,
    )
    profile_fields = {"level": level, "group": group, "skills": skills, "home_location": home_location, "bio": bio}
    if any(value is not UNSET for value in profile_fields.values()):
        staff_profile_update(user=user, acting_user=acting_user, **profile_fields)
    return user


@transaction.atomic
def staff_member_update(
    *,
    user: User,
    acting_user: User | None,
    name: str | None = None,
    email: str | None = None,
    phone: str | None = None,
    role: str | None = None,
    locations: Iterable[Location] | None = None,
    level: Any = UNSET,
    group: Any = UNSET,
    skills: Any = UNSET,
    home_location: Any = UNSET,
    bio: Any = UNSET,
) -> User:
    """Change a staff member's details (core's rules) and profile together, all or nothing."""
    user = core_services.staff_update(
        user=user,
        acting_user=acting_user,
        name=name,
        email=email,
        phone=phone,
        role=role,
        locations=locations,
    )
    profile_fields = {"level": level, "group": group, "skills": skills, "home_location": home_location, "bio": bio}
    if any(value is not UNSET for value in profile_fields.values()):
        staff_profile_update(user=user, acting_user=acting_user, **profile_fields)
    return user
