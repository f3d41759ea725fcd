"""Queues of people waiting: the waitlist for full slots (SCH-9), the walk-in queue and the technician
rotation (轮牌, SCH-11)."""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class WaitlistStatus(models.TextChoices):
    WAITING = "waiting", _("Waiting")
    BOOKED = "booked", _("Booked")
    EXPIRED = "expired", _("Expired")
    CANCELLED = "cancelled", _("Cancelled")


class WaitlistEntry(models.Model):
    """A client waiting for a slot: these services in this order, with this technician or anyone, on
    ``date`` between ``earliest`` and ``latest`` (local times). Entries are offered freed slots in the
    order they joined."""

    id = models.BigAutoField(primary_key=True)
    client = models.ForeignKey(
        "crm.Client", on_delete=models.CASCADE, related_name="waitlist_entries", verbose_name=_("client")
    )
    location = models.ForeignKey(
        "core.Location", on_delete=models.PROTECT, related_name="+", verbose_name=_("location")
    )
    service_ids = ArrayField(models.BigIntegerField(), verbose_name=_("services"))
    staff = models.ForeignKey(
        "core.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("technician")
    )
    date = models.DateField(_("date"))
    earliest = models.TimeField(_("from"))
    latest = models.TimeField(_("until"))
    status = models.CharField(
        _("status"), max_length=16, choices=WaitlistStatus.choices, default=WaitlistStatus.WAITING
    )
    appointment = models.ForeignKey(
        "scheduling.Appointment", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    notes = models.CharField(_("notes"), max_length=200, blank=True)
    created_by = models.ForeignKey("core.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("waitlist entry")
        verbose_name_plural = _("waitlist")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["status", "date"], name="waitlist_status_date_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(latest__gt=F("earliest")), name="waitlist_window_ordered"),
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in WaitlistStatus]), name="waitlist_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"waitlist {self.pk} {self.date}"


class WaitlistOfferStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ACCEPTED = "accepted", _("Accepted")
    TAKEN = "taken", _("Taken by someone else")
    EXPIRED = "expired", _("Expired")


class WaitlistOffer(models.Model):
    """A freed slot offered to a waiting client through a private link. Several clients can hold offers
    for the same slot; the first to accept books it and the others' offers become ``taken``."""

    id = models.BigAutoField(primary_key=True)
    entry = models.ForeignKey(WaitlistEntry, on_delete=models.CASCADE, related_name="offers")
    start = models.DateTimeField()
    end = models.DateTimeField()
    staff_ids = ArrayField(models.BigIntegerField(), help_text="Technician per service, in order")
    token = models.CharField(max_length=64, unique=True)
    status = models.CharField(max_length=16, choices=WaitlistOfferStatus.choices, default=WaitlistOfferStatus.OPEN)
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("waitlist offer")
        verbose_name_plural = _("waitlist offers")
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="offer_ends_after_start"),
            models.UniqueConstraint(fields=["entry", "start"], name="offer_once_per_entry_and_start"),
        ]

    def __str__(self) -> str:
        return f"offer {self.pk} of {self.entry_id}"


class WalkInStatus(models.TextChoices):
    WAITING = "waiting", _("Waiting")
    SERVING = "serving", _("Being served")
    DONE = "done", _("Done")
    LEFT = "left", _("Left")


class WalkIn(models.Model):
    """A client who came in without a booking, waiting in the walk-in queue of a location. Assigning a
    technician (by rotation, or the one the client asked for — 点钟) books an appointment that starts now."""

    id = models.BigAutoField(primary_key=True)
    location = models.ForeignKey(
        "core.Location", on_delete=models.PROTECT, related_name="+", verbose_name=_("location")
    )
    client = models.ForeignKey(
        "crm.Client", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("client")
    )
    name = models.CharField(_("name"), max_length=100, blank=True)
    service_ids = ArrayField(models.BigIntegerField(), verbose_name=_("services"))
    requested_staff = models.ForeignKey(
        "core.User",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("requested technician (点钟)"),
    )
    status = models.CharField(_("status"), max_length=16, choices=WalkInStatus.choices, default=WalkInStatus.WAITING)
    assigned_staff = models.ForeignKey("core.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    appointment = models.ForeignKey(
        "scheduling.Appointment", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey("core.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    assigned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("walk-in")
        verbose_name_plural = _("walk-ins")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["location", "status"], name="walk_in_location_status_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in WalkInStatus]), name="walk_in_status_valid"
            ),
            models.CheckConstraint(condition=Q(client__isnull=False) | ~Q(name=""), name="walk_in_named"),
        ]

    def __str__(self) -> str:
        return f"walk-in {self.pk}"


class RotationStatus(models.TextChoices):
    AVAILABLE = "available", _("Available")
    AWAY = "away", _("Away")


class RotationEntry(models.Model):
    """A technician's card in a location's rotation (轮牌) for one day. The next walk-in goes to the
    available technician with the lowest ``position`` who can do the services and is free now; after
    taking a turn (or being skipped) the card moves to the back (``position`` = last + 1)."""

    id = models.BigAutoField(primary_key=True)
    location = models.ForeignKey("core.Location", on_delete=models.PROTECT, related_name="+")
    date = models.DateField()
    staff = models.ForeignKey("core.User", on_delete=models.CASCADE, related_name="+")
    position = models.IntegerField()
    status = models.CharField(max_length=16, choices=RotationStatus.choices, default=RotationStatus.AVAILABLE)
    turns = models.PositiveIntegerField(default=0, help_text="Walk-ins taken by rotation today")
    requested_turns = models.PositiveIntegerField(default=0, help_text="Clients who asked for them (点钟) today")
    skips = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("rotation card")
        verbose_name_plural = _("rotation cards")
        ordering = ["location_id", "date", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["location", "date", "staff"], name="rotation_staff_once_a_day"),
            models.UniqueConstraint(fields=["location", "date", "position"], name="rotation_position_unique"),
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in RotationStatus]), name="rotation_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.staff_id} #{self.position} {self.date}"
