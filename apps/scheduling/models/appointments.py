"""Appointments (SCH-5…8, SCH-14): a visit of one client at one location, made of lines (one service by
one technician each, in sequence), each line optionally holding a place in a resource; the event log of
every change; deposits; the client's booking record (no-shows, block list); reminders sent.

The invariants are PostgreSQL's: a technician's active lines never overlap (exclusion constraint on
staff and time), a resource place's active holds never overlap, and a reminder row exists at most once
per appointment, kind, offset and recipient, so a reminder is sent once however often beat fires.
"""

from __future__ import annotations

from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateTimeRangeField, RangeBoundary, RangeOperators
from django.db import models
from django.db.models import F, Func, Q
from django.utils.translation import gettext_lazy as _


class TsTzRange(Func):
    function = "TSTZRANGE"
    output_field = DateTimeRangeField()


class AppointmentStatus(models.TextChoices):
    BOOKED = "booked", _("Booked")
    CONFIRMED = "confirmed", _("Confirmed")
    ARRIVED = "arrived", _("Arrived")
    IN_SERVICE = "in_service", _("In service")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")
    NO_SHOW = "no_show", _("No-show")


# Statuses whose lines hold time in the book; cancelled and no-show free it.
ACTIVE_STATUSES = (
    AppointmentStatus.BOOKED,
    AppointmentStatus.CONFIRMED,
    AppointmentStatus.ARRIVED,
    AppointmentStatus.IN_SERVICE,
    AppointmentStatus.DONE,
)


class AppointmentChannel(models.TextChoices):
    STAFF = "staff", _("Staff app")
    PHONE = "phone", _("Phone")
    ONLINE = "online", _("Online")
    API = "api", _("API")
    WALK_IN = "walk_in", _("Walk-in")
    WAITLIST = "waitlist", _("Waitlist")


class Appointment(models.Model):
    """One visit: a client at a location, from ``start`` (the first line's start) to ``end`` (the last
    line's end). ``status`` moves booked → confirmed → arrived → in service (上钟) → done (下钟), or to
    cancelled or no-show; only services change it, and every change is an ``AppointmentEvent``."""

    id = models.BigAutoField(primary_key=True)
    client = models.ForeignKey(
        "crm.Client", on_delete=models.PROTECT, related_name="appointments", verbose_name=_("client")
    )
    location = models.ForeignKey(
        "core.Location", on_delete=models.PROTECT, related_name="+", verbose_name=_("location")
    )
    status = models.CharField(
        _("status"), max_length=16, choices=AppointmentStatus.choices, default=AppointmentStatus.BOOKED
    )
    channel = models.CharField(
        _("booked through"), max_length=16, choices=AppointmentChannel.choices, default=AppointmentChannel.STAFF
    )
    start = models.DateTimeField(_("start"))
    end = models.DateTimeField(_("end"))
    notes = models.TextField(_("notes"), blank=True)
    idempotency_key = models.CharField(max_length=80, null=True, blank=True, unique=True)
    created_by = models.ForeignKey("core.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    arrived_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(_("reason"), max_length=200, blank=True)
    is_late_cancellation = models.BooleanField(default=False)
    reschedule_count = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("appointment")
        verbose_name_plural = _("appointments")
        ordering = ["start", "id"]
        indexes = [
            models.Index(fields=["location", "start"], name="appointment_location_start_idx"),
            models.Index(fields=["client", "-start"], name="appointment_client_idx"),
            models.Index(fields=["status", "start"], name="appointment_status_start_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="appointment_ends_after_start"),
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in AppointmentStatus]), name="appointment_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(channel__in=[c.value for c in AppointmentChannel]), name="appointment_channel_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.start:%Y-%m-%d %H:%M}"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES


class AppointmentLine(models.Model):
    """One service of a visit, done by one technician from ``start`` to ``end``; the technician stays
    taken until ``busy_until`` (the end plus the service's buffer). ``is_active`` mirrors the visit's
    status (false once cancelled or a no-show) so that the exclusion constraint, which sees one row,
    frees the time."""

    id = models.BigAutoField(primary_key=True)
    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField(default=0)
    service = models.ForeignKey(
        "catalog.Service", on_delete=models.PROTECT, related_name="+", verbose_name=_("service")
    )
    staff = models.ForeignKey(
        "core.User", on_delete=models.PROTECT, related_name="appointment_lines", verbose_name=_("staff member")
    )
    is_requested = models.BooleanField(
        _("requested by the client (点钟)"), default=False, help_text=_("The client asked for this technician.")
    )
    start = models.DateTimeField(_("start"))
    end = models.DateTimeField(_("end"))
    busy_until = models.DateTimeField()
    price = models.BigIntegerField(_("quoted price (fen)"), default=0)
    is_active = models.BooleanField(default=True)

    class Meta:
        verbose_name = _("booked service")
        verbose_name_plural = _("booked services")
        ordering = ["appointment_id", "position", "id"]
        indexes = [
            models.Index(fields=["staff", "start"], name="line_staff_start_idx"),
            models.Index(fields=["start"], name="line_start_idx", condition=Q(is_active=True)),
        ]
        constraints = [
            ExclusionConstraint(
                name="line_staff_no_overlap",
                expressions=[
                    ("staff", RangeOperators.EQUAL),
                    (TsTzRange("start", "busy_until", RangeBoundary()), RangeOperators.OVERLAPS),
                ],
                condition=Q(is_active=True),
            ),
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="line_ends_after_start"),
            models.CheckConstraint(condition=Q(busy_until__gte=F("end")), name="line_busy_until_after_end"),
            models.CheckConstraint(condition=Q(price__gte=0), name="line_price_not_negative"),
        ]

    def __str__(self) -> str:
        return f"line {self.pk} of {self.appointment_id}"


class AppointmentResource(models.Model):
    """A place (1 … capacity) in a resource, held by a line from its start until its ``busy_until``
    (the room is cleaned in the buffer too)."""

    id = models.BigAutoField(primary_key=True)
    line = models.ForeignKey(AppointmentLine, on_delete=models.CASCADE, related_name="resource_holds")
    resource = models.ForeignKey(
        "scheduling.Resource", on_delete=models.PROTECT, related_name="holds", verbose_name=_("resource")
    )
    place = models.PositiveSmallIntegerField(default=1)
    start = models.DateTimeField()
    end = models.DateTimeField()
    is_active = models.BooleanField(default=True)

    class Meta:
        verbose_name = _("resource hold")
        verbose_name_plural = _("resource holds")
        indexes = [models.Index(fields=["resource", "start"], name="hold_resource_start_idx")]
        constraints = [
            ExclusionConstraint(
                name="hold_place_no_overlap",
                expressions=[
                    ("resource", RangeOperators.EQUAL),
                    ("place", RangeOperators.EQUAL),
                    (TsTzRange("start", "end", RangeBoundary()), RangeOperators.OVERLAPS),
                ],
                condition=Q(is_active=True),
            ),
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="hold_ends_after_start"),
            models.CheckConstraint(condition=Q(place__gte=1), name="hold_place_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.resource_id}#{self.place} for line {self.line_id}"


class AppointmentEvent(models.Model):
    """Append-only log of an appointment: who did what when (created, each status change, reschedule with
    the times before and after, deposit changes)."""

    id = models.BigAutoField(primary_key=True)
    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=32)
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16, blank=True)
    actor = models.ForeignKey("core.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    actor_label = models.CharField(max_length=150, blank=True, help_text="Who acted, kept if the user is removed")
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("appointment event")
        verbose_name_plural = _("appointment events")
        ordering = ["appointment_id", "id"]

    def __str__(self) -> str:
        return f"{self.appointment_id} {self.kind}"


class DepositMethod(models.TextChoices):
    STORED_VALUE = "stored_value", _("Stored value")
    DESK = "desk", _("Paid at the desk")


class DepositStatus(models.TextChoices):
    HELD = "held", _("Held")
    RETURNED = "returned", _("Returned")
    FORFEITED = "forfeited", _("Forfeited")
    APPLIED = "applied", _("Applied to the bill")


class Deposit(models.Model):
    """Money taken to hold a booking (SCH-14): from the client's stored value through loyalty's services,
    or recorded as paid at the desk. Returned when the booking is cancelled in time, forfeited on a
    no-show (per the salon's policy), applied to the bill when the visit is paid."""

    id = models.BigAutoField(primary_key=True)
    appointment = models.OneToOneField(Appointment, on_delete=models.PROTECT, related_name="deposit")
    amount = models.BigIntegerField(_("amount (fen)"))
    method = models.CharField(_("paid by"), max_length=16, choices=DepositMethod.choices)
    status = models.CharField(_("status"), max_length=16, choices=DepositStatus.choices, default=DepositStatus.HELD)
    wallet_reference = models.CharField(max_length=80, blank=True, help_text="Idempotency key of the wallet debit")
    # Applied to the visit's bill: how much of it paid the bill (the rest went back to the client) and the
    # bill's reference ("bill:<id>"; scheduling does not know the till's models).
    applied_amount = models.BigIntegerField(_("applied to the bill (fen)"), default=0)
    applied_reference = models.CharField(max_length=40, blank=True)
    recorded_by = models.ForeignKey("core.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("deposit")
        verbose_name_plural = _("deposits")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="deposit_amount_positive"),
            models.CheckConstraint(
                condition=Q(status="applied", applied_amount__gt=0, applied_amount__lte=F("amount"))
                | (~Q(status="applied") & Q(applied_amount=0)),
                name="deposit_applied_within_amount",
            ),
            models.CheckConstraint(
                condition=Q(method__in=[m.value for m in DepositMethod]), name="deposit_method_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in DepositStatus]), name="deposit_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"deposit {self.amount} for {self.appointment_id}"


class ClientBookingProfile(models.Model):
    """A client's booking record: no-shows and late cancellations counted by the services that record
    them, the salon's block list, a manual "always take a deposit" flag, and how to reach the client
    for reminders."""

    id = models.BigAutoField(primary_key=True)
    client = models.OneToOneField("crm.Client", on_delete=models.CASCADE, related_name="booking_profile")
    no_show_count = models.PositiveIntegerField(_("no-shows"), default=0)
    late_cancel_count = models.PositiveIntegerField(_("late cancellations"), default=0)
    is_blocked = models.BooleanField(_("on the block list"), default=False)
    blocked_reason = models.CharField(_("reason"), max_length=200, blank=True)
    blocked_at = models.DateTimeField(null=True, blank=True)
    requires_deposit = models.BooleanField(_("always take a deposit"), default=False)
    wechat_openid = models.CharField(
        max_length=64, blank=True, help_text="Official-account openid for template messages"
    )
    reminders_opted_out = models.BooleanField(_("no reminders"), default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("booking record")
        verbose_name_plural = _("booking records")

    def __str__(self) -> str:
        return f"booking record of {self.client_id}"


class ReminderSent(models.Model):
    """One confirmation or reminder of one appointment to one recipient. The unique constraint is the
    gate: the sender inserts the row first (ON CONFLICT DO NOTHING) and sends only if it inserted, so a
    reminder goes out once even when beat fires twice or two workers run at once."""

    id = models.BigAutoField(primary_key=True)
    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="reminders")
    kind = models.CharField(max_length=16)  # confirmation, reminder, change, cancellation
    offset_minutes = models.IntegerField(default=0)
    recipient_key = models.CharField(max_length=40)  # "client" or "staff:<id>"
    # The visit's start the message was about: a rescheduled visit gets its reminders again.
    appointment_start = models.DateTimeField()
    channel = models.CharField(max_length=16, blank=True)
    delivery = models.ForeignKey(
        "messaging.Delivery", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("reminder sent")
        verbose_name_plural = _("reminders sent")
        constraints = [
            models.UniqueConstraint(
                fields=["appointment", "kind", "offset_minutes", "recipient_key", "appointment_start"],
                name="reminder_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.offset_minutes} of {self.appointment_id} to {self.recipient_key}"
