"""Staff users, locations and the audit log. Present in every salon schema, and in
the public schema for platform operators."""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from apps.core.roles import PERMISSIONS, Role


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, username: str, password: str | None = None, **extra: Any) -> User:
        user = self.model(username=username, **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, username: str, password: str | None = None, **extra: Any) -> User:
        extra.update(is_staff=True, is_superuser=True, role=Role.OWNER)
        return self.create_user(username, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A member of a salon's staff (or, in the public schema, a platform operator).

    Signs in with username, e-mail or phone. ``role`` mirrors the one role group
    the user belongs to, so lists and checks need no join.
    """

    id = models.BigAutoField(primary_key=True)
    username = models.CharField(_("username"), max_length=150)
    name = models.CharField(pgettext_lazy("person", "name"), max_length=100)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True, help_text=_("E.164, e.g. +8613800138000"))
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.FRONT_DESK)
    language = models.CharField(_("language"), max_length=10, default="zh-hans")
    locations = models.ManyToManyField(
        "core.Location",
        blank=True,
        related_name="staff",
        verbose_name=_("locations"),
        help_text=_("Leave empty to work in every location."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(_("operator console access"), default=False)
    date_joined = models.DateTimeField(_("joined"), default=timezone.now)
    deactivated_at = models.DateTimeField(_("deactivated"), null=True, blank=True)

    objects: ClassVar[UserManager] = UserManager()  # type: ignore[assignment]

    USERNAME_FIELD = "username"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["name"]

    class Meta:
        verbose_name = _("staff member")
        verbose_name_plural = _("staff")
        permissions = list(PERMISSIONS.items())
        constraints = [
            models.UniqueConstraint(Lower("username"), name="user_username_unique_ci"),
            models.UniqueConstraint(Lower("email"), condition=~models.Q(email=""), name="user_email_unique_ci"),
            models.UniqueConstraint("phone", condition=~models.Q(phone=""), name="user_phone_unique"),
            models.CheckConstraint(condition=models.Q(role__in=[r.value for r in Role]), name="user_role_valid"),
        ]

    def __str__(self) -> str:
        return self.name or self.username

    def get_full_name(self) -> str:
        return self.name

    def get_short_name(self) -> str:
        return self.name


class Location(models.Model):
    """A shop of the salon (a chain has several, UX-5)."""

    id = models.BigAutoField(primary_key=True)
    name = models.CharField(_("name"), max_length=100)
    address = models.CharField(_("address"), max_length=300, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("location")
        verbose_name_plural = _("locations")
        ordering = ["id"]
        constraints = [models.UniqueConstraint(Lower("name"), name="location_name_unique_ci")]

    def __str__(self) -> str:
        return self.name


class AuditEntry(models.Model):
    """Append-only record of a sensitive action (SEC-2). Never updated or deleted by the product."""

    id = models.BigAutoField(primary_key=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    actor_label = models.CharField(max_length=150, blank=True, help_text="Who acted, kept if the user is removed")
    action = models.CharField(max_length=64, db_index=True)
    target_type = models.CharField(max_length=64, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    data = models.JSONField(default=dict, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")
        ordering = ["-id"]
        indexes = [models.Index(fields=["target_type", "target_id"], name="audit_target_idx")]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_label} {self.action}"


class StaffLevel(models.Model):
    """A technician's grade (助理 / 发型师 / 资深发型师 / 总监). Catalogue price rules and staff
    profiles both refer to it; ``rank`` orders the levels, higher is more senior."""

    id = models.BigAutoField(primary_key=True)
    name = models.CharField(_("name"), max_length=50)
    rank = models.IntegerField(_("rank"), help_text=_("Higher is more senior."))
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("staff level")
        verbose_name_plural = _("staff levels")
        ordering = ["rank", "id"]
        constraints = [
            models.UniqueConstraint(Lower("name"), name="staff_level_name_unique_ci"),
            models.UniqueConstraint(fields=["rank"], name="staff_level_rank_unique"),
            models.CheckConstraint(condition=models.Q(rank__gte=0), name="staff_level_rank_not_negative"),
        ]

    def __str__(self) -> str:
        return self.name
