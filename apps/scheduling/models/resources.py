"""Resources (SCH-3): rooms, beds, chairs and devices with a capacity and a live status (房床状态); and
what each service needs to be booked (a resource type, a deposit, online booking)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _


class ResourceType(models.Model):
    """A kind of resource a service can need: 美容房 (facial room), 洗头床 (wash bed), 仪器 (device) …"""

    id = models.BigAutoField(primary_key=True)
    name = models.CharField(_("name"), max_length=50)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("resource type")
        verbose_name_plural = _("resource types")
        ordering = ["name", "id"]
        constraints = [models.UniqueConstraint(Lower("name"), name="resource_type_name_unique_ci")]

    def __str__(self) -> str:
        return self.name


class ResourceStatus(models.TextChoices):
    FREE = "free", _("Free")
    OCCUPIED = "occupied", _("Occupied")
    TO_CLEAN = "to_clean", _("To clean")


class Resource(models.Model):
    """A room, bed, chair or device of one location. ``capacity`` is how many bookings it takes at the same
    time (a double room takes 2); each booking holds one numbered place, so the exclusion constraint on
    places keeps the capacity. ``status`` is the live state the front desk sees on the day board."""

    id = models.BigAutoField(primary_key=True)
    location = models.ForeignKey(
        "core.Location", on_delete=models.PROTECT, related_name="+", verbose_name=_("location")
    )
    resource_type = models.ForeignKey(
        ResourceType, on_delete=models.PROTECT, related_name="resources", verbose_name=_("type")
    )
    name = models.CharField(_("name"), max_length=50)
    capacity = models.PositiveSmallIntegerField(
        _("capacity"), default=1, help_text=_("How many clients it takes at the same time.")
    )
    status = models.CharField(_("status"), max_length=16, choices=ResourceStatus.choices, default=ResourceStatus.FREE)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    status_changed_by = models.ForeignKey(
        "core.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sort_order = models.IntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("resource")
        verbose_name_plural = _("resources")
        ordering = ["location_id", "sort_order", "name", "id"]
        indexes = [models.Index(fields=["location", "resource_type"], name="resource_location_type_idx")]
        constraints = [
            models.UniqueConstraint("location", Lower("name"), name="resource_name_unique_per_location"),
            models.CheckConstraint(condition=Q(capacity__gte=1, capacity__lte=50), name="resource_capacity_range"),
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in ResourceStatus]), name="resource_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ServiceBookingRule(models.Model):
    """How a catalogue service is booked: the resource types it needs (one place of each), the deposit it
    asks for, and whether clients can book it online. A service without a rule needs no resource, no
    deposit, and can be booked online."""

    id = models.BigAutoField(primary_key=True)
    service = models.OneToOneField(
        "catalog.Service", on_delete=models.CASCADE, related_name="booking_rule", verbose_name=_("service")
    )
    resource_types = models.ManyToManyField(
        ResourceType, blank=True, related_name="+", verbose_name=_("needs a place in")
    )
    deposit_amount = models.BigIntegerField(
        _("deposit (fen)"), default=0, help_text=_("Taken when the service is booked; 0: no deposit.")
    )
    is_online_bookable = models.BooleanField(_("clients can book it online"), default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("booking rule")
        verbose_name_plural = _("booking rules")
        constraints = [
            models.CheckConstraint(condition=Q(deposit_amount__gte=0), name="service_rule_deposit_not_negative"),
        ]

    def __str__(self) -> str:
        return f"rule of {self.service_id}"
