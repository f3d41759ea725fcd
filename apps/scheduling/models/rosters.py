"""Rosters (SCH-2): weekly shift patterns per staff member and location, dated exceptions and time off;
and each staff member's private calendar feed (SCH-15).

Shift times are the salon's local wall-clock times; the availability engine turns them into instants in
the salon's time zone for each date, so a shift from 10:00 to 19:00 stays 10:00 to 19:00 across a DST
change.
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class ShiftPattern(models.Model):
    """A weekly working period: ``staff`` works at ``location`` every ``weekday`` from ``start_time`` to
    ``end_time``, from ``valid_from`` until ``valid_until`` (open-ended when empty). A day may hold several
    periods (a split shift)."""

    id = models.BigAutoField(primary_key=True)
    staff = models.ForeignKey(
        "core.User", on_delete=models.CASCADE, related_name="shift_patterns", verbose_name=_("staff member")
    )
    location = models.ForeignKey(
        "core.Location", on_delete=models.PROTECT, related_name="+", verbose_name=_("location")
    )
    weekday = models.PositiveSmallIntegerField(_("weekday"), help_text=_("0 is Monday, 6 is Sunday."))
    start_time = models.TimeField(_("from"))
    end_time = models.TimeField(_("until"))
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("shift pattern")
        verbose_name_plural = _("shift patterns")
        ordering = ["staff_id", "weekday", "start_time", "id"]
        indexes = [models.Index(fields=["location", "weekday"], name="shift_pattern_location_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(weekday__gte=0, weekday__lte=6), name="shift_pattern_weekday_valid"),
            models.CheckConstraint(condition=Q(end_time__gt=F("start_time")), name="shift_pattern_ends_after_start"),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gte=F("valid_from")),
                name="shift_pattern_validity_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.staff_id} {self.weekday} {self.start_time:%H:%M}-{self.end_time:%H:%M}"


class ShiftException(models.Model):
    """A dated change to the roster. When a staff member has any exception on a date, the exceptions
    replace that date's weekly pattern: ``is_working`` rows are the periods worked that day (swapped
    shift, extra day), a row with ``is_working`` false is a day off."""

    id = models.BigAutoField(primary_key=True)
    staff = models.ForeignKey(
        "core.User", on_delete=models.CASCADE, related_name="shift_exceptions", verbose_name=_("staff member")
    )
    date = models.DateField(_("date"))
    is_working = models.BooleanField(_("working"), default=True)
    location = models.ForeignKey(
        "core.Location", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("location")
    )
    start_time = models.TimeField(_("from"), null=True, blank=True)
    end_time = models.TimeField(_("until"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_by = models.ForeignKey("core.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("roster exception")
        verbose_name_plural = _("roster exceptions")
        ordering = ["date", "staff_id", "start_time", "id"]
        indexes = [models.Index(fields=["date", "staff"], name="shift_exception_date_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(is_working=False, start_time__isnull=True, end_time__isnull=True)
                | Q(
                    is_working=True,
                    location__isnull=False,
                    start_time__isnull=False,
                    end_time__isnull=False,
                    end_time__gt=F("start_time"),
                ),
                name="shift_exception_shape",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.staff_id} {self.date} {'work' if self.is_working else 'off'}"


class TimeOffKind(models.TextChoices):
    LEAVE = "leave", _("Leave")
    SICK = "sick", _("Sick leave")
    TRAINING = "training", _("Training")
    OTHER = "other", _("Other")


class TimeOff(models.Model):
    """A period a staff member cannot be booked, part of a day or several days (SCH-2)."""

    id = models.BigAutoField(primary_key=True)
    staff = models.ForeignKey(
        "core.User", on_delete=models.CASCADE, related_name="time_off", verbose_name=_("staff member")
    )
    start = models.DateTimeField(_("from"))
    end = models.DateTimeField(_("until"))
    kind = models.CharField(_("kind"), max_length=16, choices=TimeOffKind.choices, default=TimeOffKind.LEAVE)
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_by = models.ForeignKey("core.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("time off")
        verbose_name_plural = _("time off")
        ordering = ["start", "id"]
        indexes = [models.Index(fields=["staff", "end"], name="time_off_staff_end_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="time_off_ends_after_start"),
            models.CheckConstraint(condition=Q(kind__in=[k.value for k in TimeOffKind]), name="time_off_kind_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.staff_id} {self.start:%Y-%m-%d %H:%M}–{self.end:%Y-%m-%d %H:%M}"


class StaffCalendarFeed(models.Model):
    """The secret address of a staff member's iCalendar feed (SCH-15). Resetting it makes a new token,
    and the old address stops working at once."""

    id = models.BigAutoField(primary_key=True)
    staff = models.OneToOneField("core.User", on_delete=models.CASCADE, related_name="calendar_feed")
    token = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")

    def __str__(self) -> str:
        return f"feed of {self.staff_id}"
