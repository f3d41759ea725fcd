"""Writes of the core app: staff, roles, locations, audit. Every rule about them lives here."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from typing import Any

from django.contrib.auth import password_validation
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.core.errors import CoreError, ServiceError, core_error
from apps.core.models import AuditEntry, Location, StaffLevel, User
from apps.core.roles import ASSIGNABLE, MATRIX, PERMISSIONS, Role
from apps.core.validators import normalize_phone


def audit_record(
    *,
    action: str,
    actor: User | None = None,
    target: Any = None,
    data: dict[str, Any] | None = None,
    ip_address: str | None = None,
    actor_label: str = "",
) -> AuditEntry:
    """Append one audit entry in the current schema. Entries are never changed afterwards."""
    return AuditEntry.objects.create(
        action=action,
        actor=actor if actor is not None and actor.pk else None,
        actor_label=actor_label or (actor.get_username() if actor is not None and actor.pk else "system"),
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        data=data or {},
        ip_address=ip_address,
    )


def roles_sync() -> None:
    """Make the role groups of the current schema match the permission matrix."""
    perms = {p.codename: p for p in Permission.objects.filter(content_type__app_label="core", codename__in=PERMISSIONS)}
    missing = set(PERMISSIONS) - set(perms)
    if missing:
        from django.contrib.contenttypes.models import ContentType

        content_type = ContentType.objects.get_for_model(User)
        for codename in sorted(missing):
            perms[codename] = Permission.objects.create(
                codename=codename, name=PERMISSIONS[codename], content_type=content_type
            )
    for role in Role:
        group, _ = Group.objects.get_or_create(name=role.value)
        group.permissions.set([perms[c] for c in sorted(MATRIX[role])])


def _check_can_assign(acting_user: User | None, role: str) -> None:
    if acting_user is None:  # provisioning and seeding act as the platform
        return
    if role not in ASSIGNABLE.get(acting_user.role, set()):
        raise core_error(CoreError.ROLE_NOT_ASSIGNABLE)


def _clean_contact(*, email: str, phone: str) -> tuple[str, str]:
    errors: dict[str, list[str]] = {}
    email = (email or "").strip().lower()
    if email:
        from django.core.validators import validate_email

        try:
            validate_email(email)
        except ValidationError as exc:
            errors["email"] = list(exc.messages)
    if phone:
        try:
            phone = normalize_phone(phone)
        except ValidationError as exc:
            errors["phone"] = list(exc.messages)
    if errors:
        raise ServiceError(CoreError.INVALID, next(iter(errors.values()))[0], errors=errors)
    return email, phone


def _check_unique(*, username: str, email: str, phone: str, exclude_pk: int | None = None) -> None:
    others = User.objects.exclude(pk=exclude_pk) if exclude_pk else User.objects.all()
    # Contacts first: a username derived from a phone clashes because the phone does.
    if phone and others.filter(phone=phone).exists():
        raise core_error(CoreError.DUPLICATE_PHONE)
    if email and others.filter(email__iexact=email).exists():
        raise core_error(CoreError.DUPLICATE_EMAIL)
    if others.filter(username__iexact=username).exists():
        raise core_error(CoreError.DUPLICATE_USERNAME)


def _integrity_to_error(exc: IntegrityError) -> ServiceError:
    text = str(exc)
    for name, code in (
        ("user_email_unique_ci", CoreError.DUPLICATE_EMAIL),
        ("user_phone_unique", CoreError.DUPLICATE_PHONE),
        ("user_username_unique_ci", CoreError.DUPLICATE_USERNAME),
    ):
        if name in text:
            return core_error(code)
    raise exc


@transaction.atomic
def staff_create(
    *,
    name: str,
    role: str,
    email: str = "",
    phone: str = "",
    username: str = "",
    password: str | None = None,
    password_hash: str | None = None,
    locations: Iterable[Location] = (),
    language: str = "zh-hans",
    acting_user: User | None = None,
) -> User:
    """Create a staff member with exactly one role. Username defaults to the phone or e-mail;
    a password given here must pass the salon's password policy.

    ``password_hash`` lets signup hash the owner's password before its transaction opens.
    """
    if role not in Role.values:
        raise ServiceError(CoreError.INVALID, "unknown role", field="role")
    _check_can_assign(acting_user, role)
    email, phone = _clean_contact(email=email, phone=phone)
    username = (username or phone or email).strip()
    if not username:
        username = f"staff-{secrets.token_hex(4)}"
    _check_unique(username=username, email=email, phone=phone)
    user = User(username=username, name=name.strip(), email=email, phone=phone, role=role, language=language)
    if password:
        try:
            password_validation.validate_password(password, user=user)
        except ValidationError as exc:
            raise ServiceError(CoreError.INVALID, exc.messages[0], errors={"password": list(exc.messages)}) from exc
    if password_hash:
        user.password = password_hash
    elif password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as exc:  # a concurrent create won the race for the same contact
        raise _integrity_to_error(exc) from exc
    user.groups.set([Group.objects.get(name=role)])
    if locations:
        user.locations.set(list(locations))
    audit_record(action="staff.created", actor=acting_user, target=user, data={"role": role})
    return user


@transaction.atomic
def staff_update(
    *,
    user: User,
    acting_user: User | None,
    name: str | None = None,
    email: str | None = None,
    phone: str | None = None,
    role: str | None = None,
    locations: Iterable[Location] | None = None,
) -> User:
    """Change a staff member's details or role. The last active owner keeps the owner role."""
    # Lock the row: two managers editing the same person must not interleave role checks.
    user = User.objects.select_for_update().get(pk=user.pk)
    changes: dict[str, Any] = {}
    new_email, new_phone = _clean_contact(
        email=user.email if email is None else email, phone=user.phone if phone is None else phone
    )
    if name is not None and name.strip() != user.name:
        changes["name"] = name.strip()
    if new_email != user.email:
        changes["email"] = new_email
    if new_phone != user.phone:
        changes["phone"] = new_phone
    if role is not None and role != user.role:
        if role not in Role.values:
            raise ServiceError(CoreError.INVALID, "unknown role", field="role")
        _check_can_assign(acting_user, role)
        _check_can_assign(acting_user, user.role)  # a manager cannot demote an owner either
        if user.role == Role.OWNER:
            _ensure_other_owner(user)
        changes["role"] = role
    _check_unique(username=user.username, email=new_email, phone=new_phone, exclude_pk=user.pk)
    for field, value in changes.items():
        setattr(user, field, value)
    if changes:
        try:
            with transaction.atomic():
                user.save(update_fields=list(changes))
        except IntegrityError as exc:
            raise _integrity_to_error(exc) from exc
    if "role" in changes:
        user.groups.set([Group.objects.get(name=changes["role"])])
    if locations is not None:
        user.locations.set(list(locations))
        changes["locations"] = sorted(loc.pk for loc in user.locations.all())
    if changes:
        audit_record(action="staff.updated", actor=acting_user, target=user, data={"changed": sorted(changes)})
    return user


def _ensure_another_remains(queryset: QuerySet[Any], leaving_pk: int, error: CoreError) -> None:
    """Refuse when ``leaving_pk`` is the last row of ``queryset`` (the last owner, the last open location).

    Every row is locked in pk order, so two concurrent removals cannot both see "one other left".
    """
    remaining = list(queryset.select_for_update().order_by("pk").values_list("pk", flat=True))
    if not any(pk != leaving_pk for pk in remaining):
        raise core_error(error)


def _ensure_other_owner(user: User) -> None:
    _ensure_another_remains(User.objects.filter(role=Role.OWNER, is_active=True), user.pk, CoreError.LAST_OWNER)


@transaction.atomic
def staff_deactivate(*, user: User, acting_user: User | None) -> User:
    """Deactivate a staff member: they can no longer sign in and their API tokens stop working.

    History that names them stays intact; nobody is deleted.
    """
    user = User.objects.select_for_update().get(pk=user.pk)
    if acting_user is not None and acting_user.pk == user.pk:
        raise core_error(CoreError.SELF_DEACTIVATION)
    _check_can_assign(acting_user, user.role)
    if not user.is_active:
        return user
    if user.role == Role.OWNER:
        _ensure_other_owner(user)
    user.is_active = False
    user.deactivated_at = timezone.now()
    user.save(update_fields=["is_active", "deactivated_at"])
    from rest_framework.authtoken.models import Token

    Token.objects.filter(user=user).delete()
    audit_record(action="staff.deactivated", actor=acting_user, target=user)
    return user


@transaction.atomic
def staff_reactivate(*, user: User, acting_user: User | None) -> User:
    user = User.objects.select_for_update().get(pk=user.pk)
    _check_can_assign(acting_user, user.role)
    if user.is_active:
        return user
    user.is_active = True
    user.deactivated_at = None
    user.save(update_fields=["is_active", "deactivated_at"])
    audit_record(action="staff.reactivated", actor=acting_user, target=user)
    return user


def user_set_language(*, user: User, language: str) -> User:
    from django.conf import settings

    if language not in dict(settings.LANGUAGES):
        raise ServiceError(CoreError.INVALID, "unknown language", field="language")
    if user.language != language:
        user.language = language
        user.save(update_fields=["language"])
    return user


@transaction.atomic
def location_create(*, name: str, address: str = "", phone: str = "", acting_user: User | None = None) -> Location:
    name = name.strip()
    if not name:
        raise ServiceError(CoreError.INVALID, "name required", field="name")
    if Location.objects.filter(name__iexact=name).exists():
        raise core_error(CoreError.DUPLICATE_LOCATION)
    try:
        with transaction.atomic():
            location = Location.objects.create(name=name, address=address.strip(), phone=phone.strip())
    except IntegrityError as exc:
        raise core_error(CoreError.DUPLICATE_LOCATION) from exc
    audit_record(action="location.created", actor=acting_user, target=location)
    return location


@transaction.atomic
def location_update(
    *,
    location: Location,
    acting_user: User | None,
    name: str | None = None,
    address: str | None = None,
    phone: str | None = None,
    is_active: bool | None = None,
) -> Location:
    """Edit a location. A salon always keeps one active location."""
    location = Location.objects.select_for_update().get(pk=location.pk)
    if name is not None:
        name = name.strip()
        if not name:
            raise ServiceError(CoreError.INVALID, "name required", field="name")
        if Location.objects.filter(name__iexact=name).exclude(pk=location.pk).exists():
            raise core_error(CoreError.DUPLICATE_LOCATION)
        location.name = name
    if address is not None:
        location.address = address.strip()
    if phone is not None:
        location.phone = phone.strip()
    if is_active is not None and is_active != location.is_active:
        if not is_active:
            _ensure_another_remains(Location.objects.filter(is_active=True), location.pk, CoreError.LAST_LOCATION)
        location.is_active = is_active
    location.save()
    audit_record(action="location.updated", actor=acting_user, target=location)
    return location


# --- staff levels ------------------------------------------------------------------------------

STAFF_LEVEL_MAX_RANK = 1000


def _staff_level_checks(*, name: str, rank: int, exclude_pk: int | None = None) -> None:
    if not name:
        raise ServiceError(CoreError.INVALID, _("Enter a name."), field="name")
    if len(name) > StaffLevel._meta.get_field("name").max_length:  # type: ignore[operator]
        raise ServiceError(CoreError.INVALID, _("The name is too long."), field="name")
    if isinstance(rank, bool) or not isinstance(rank, int) or not 0 <= rank <= STAFF_LEVEL_MAX_RANK:
        raise core_error(CoreError.INVALID_STAFF_LEVEL_RANK)
    others = StaffLevel.objects.exclude(pk=exclude_pk) if exclude_pk else StaffLevel.objects.all()
    if others.filter(name__iexact=name).exists():
        raise core_error(CoreError.DUPLICATE_STAFF_LEVEL)
    if others.filter(rank=rank).exists():
        raise core_error(CoreError.DUPLICATE_STAFF_LEVEL_RANK)


def _staff_level_save(level: StaffLevel) -> None:
    try:
        with transaction.atomic():
            level.save()
    except IntegrityError as exc:  # a concurrent write took the name or rank between check and save
        text = str(exc)
        if "staff_level_name_unique_ci" in text:
            raise core_error(CoreError.DUPLICATE_STAFF_LEVEL) from exc
        if "staff_level_rank_unique" in text:
            raise core_error(CoreError.DUPLICATE_STAFF_LEVEL_RANK) from exc
        raise


@transaction.atomic
def staff_level_create(*, name: str, rank: int, acting_user: User | None = None) -> StaffLevel:
    """Add a staff level. Names are unique whatever their case, ranks are unique."""
    name = (name or "").strip()
    _staff_level_checks(name=name, rank=rank)
    level = StaffLevel(name=name, rank=rank)
    _staff_level_save(level)
    audit_record(action="staff_level.created", actor=acting_user, target=level, data={"name": name, "rank": rank})
    return level


@transaction.atomic
def staff_level_update(
    *,
    level: StaffLevel,
    acting_user: User | None,
    name: str | None = None,
    rank: int | None = None,
    is_active: bool | None = None,
) -> StaffLevel:
    """Rename, re-rank, deactivate or reactivate a staff level. A deactivated level keeps its price
    rules and the staff who hold it; it is no longer offered for new assignments."""
    level = StaffLevel.objects.select_for_update().get(pk=level.pk)
    new_name = level.name if name is None else name.strip()
    new_rank = level.rank if rank is None else rank
    _staff_level_checks(name=new_name, rank=new_rank, exclude_pk=level.pk)
    changed = [
        field
        for field, value in (("name", new_name), ("rank", new_rank), ("is_active", is_active))
        if value is not None and getattr(level, field) != value
    ]
    if not changed:
        return level
    level.name, level.rank = new_name, new_rank
    if is_active is not None:
        level.is_active = is_active
    _staff_level_save(level)
    audit_record(action="staff_level.updated", actor=acting_user, target=level, data={"changed": changed})
    return level


def staff_level_deactivate(*, level: StaffLevel, acting_user: User | None) -> StaffLevel:
    return staff_level_update(level=level, acting_user=acting_user, is_active=False)
