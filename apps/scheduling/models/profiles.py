"""Staff profiles (SCH-1): what each staff member does, at what level, in which group and shop."""

from __future__ import annotations

from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from apps.core.uploads import TenantUploadTo


class StaffGroup(models.Model):
    """A team of staff (e.g. 染烫组, 美容组) for rosters and reports."""

    id = models.BigAutoField(primary_key=True)
    name = models.CharField(_("name"), max_length=50)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("staff group")
        verbose_name_plural = _("staff groups")
        ordering = ["name", "id"]
        constraints = [models.UniqueConstraint(Lower("name"), name="staff_group_name_unique_ci")]

    def __str__(self) -> str:
        return self.name


class StaffProfile(models.Model):
    """The working side of a staff member: photo, level, group, skills and home shop.

    Created on first edit (``services.staff_profile_update``); a staff member without one has no
    skills and no level yet.
    """

    id = models.BigAutoField(primary_key=True)
    user = models.OneToOneField(
        "core.User", on_delete=models.CASCADE, related_name="staff_profile", verbose_name=_("staff member")
    )
    photo = models.ImageField(_("photo"), upload_to=TenantUploadTo("staff/photos"), blank=True, max_length=200)
    level = models.ForeignKey(
        "core.StaffLevel",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("level"),
    )
    group = models.ForeignKey(
        StaffGroup, null=True, blank=True, on_delete=models.SET_NULL, related_name="members", verbose_name=_("group")
    )
    skills = models.ManyToManyField(
        "catalog.Service",
        blank=True,
        related_name="+",
        verbose_name=_("services performed"),
    )
    home_location = models.ForeignKey(
        "core.Location",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("home location"),
    )
    bio = models.TextField(_("introduction"), blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("staff profile")
        verbose_name_plural = _("staff profiles")

    def __str__(self) -> str:
        return str(self.user)
