"""Interactions (communications, feedback, complaints; CRM-5) and follow-up tasks (CRM-6)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class InteractionKind(models.TextChoices):
    COMMUNICATION = "communication", _("Communication")
    FEEDBACK = "feedback", _("Feedback")
    COMPLAINT = "complaint", _("Complaint")


class Channel(models.TextChoices):
    PHONE = "phone", _("Phone call")
    WECHAT = "wechat", _("WeChat")
    IN_PERSON = "in_person", _("In person")
    SMS = "sms", _("SMS")
    EMAIL = "email", _("E-mail")
    REVIEW = "review", _("Online review")
    OTHER = "other", _("Other")


class ComplaintStatus(models.TextChoices):
    OPEN = "open", _("Open")
    HANDLING = "handling", _("Being handled")
    RESOLVED = "resolved", _("Resolved")


class Interaction(models.Model):
    """One entry of a client's timeline. A complaint carries a workflow
    (open → handling → resolved) and cannot be resolved without an owner and a resolution."""

    id = models.BigAutoField(primary_key=True)
    client = models.ForeignKey("crm.Client", on_delete=models.PROTECT, related_name="interactions")
    kind = models.CharField(_("kind"), max_length=20, choices=InteractionKind.choices)
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices, default=Channel.IN_PERSON)
    summary = models.CharField(_("summary"), max_length=200)
    body = models.TextField(_("details"), blank=True)
    rating = models.PositiveSmallIntegerField(_("rating (1–5)"), null=True, blank=True)
    occurred_at = models.DateTimeField(_("time"), db_index=True)
    recorded_by = models.ForeignKey("core.User", null=True, on_delete=models.SET_NULL, related_name="+")
    # Complaint workflow; all empty for other kinds.
    status = models.CharField(_("status"), max_length=10, choices=ComplaintStatus.choices, blank=True)
    owner = models.ForeignKey(
        "core.User",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="complaints_owned",
        verbose_name=_("owner"),
    )
    resolution = models.TextField(_("resolution"), blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey("core.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("interaction")
        verbose_name_plural = _("interactions")
        ordering = ["-occurred_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind="complaint") & ~Q(status="")) | (~Q(kind="complaint") & Q(status="")),
                name="interaction_status_only_for_complaints",
            ),
            models.CheckConstraint(
                condition=~Q(status="resolved")
                | (Q(owner__isnull=False) & ~Q(resolution="") & Q(resolved_at__isnull=False)),
                name="interaction_resolved_needs_owner_and_resolution",
            ),
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__range=(1, 5)), name="interaction_rating_range"
            ),
        ]
        indexes = [
            models.Index(fields=["client", "-occurred_at"], name="interaction_client_time_idx"),
            models.Index(fields=["status"], name="interaction_open_idx", condition=~Q(status="")),
        ]

    def __str__(self) -> str:
        return self.summary


class FollowUpStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class FollowUp(models.Model):
    """A follow-up task (回访) for one client, assigned to a staff member with a due date.
    Done needs an outcome; the reminder is sent once (``reminded_at``)."""

    id = models.BigAutoField(primary_key=True)
    client = models.ForeignKey("crm.Client", on_delete=models.PROTECT, related_name="follow_ups")
    assigned_to = models.ForeignKey(
        "core.User", on_delete=models.PROTECT, related_name="follow_ups", verbose_name=_("assigned to")
    )
    due_date = models.DateField(_("due date"), db_index=True)
    purpose = models.CharField(_("purpose"), max_length=200)
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices, default=Channel.PHONE)
    status = models.CharField(_("status"), max_length=10, choices=FollowUpStatus.choices, default=FollowUpStatus.OPEN)
    outcome = models.TextField(_("outcome"), blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey("core.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    reminded_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey("core.User", null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        ordering = ["due_date", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="done") | (~Q(outcome="") & Q(completed_at__isnull=False)),
                name="follow_up_done_needs_outcome",
            ),
        ]
        indexes = [
            models.Index(fields=["assigned_to", "due_date"], name="follow_up_mine_idx", condition=Q(status="open")),
        ]

    def __str__(self) -> str:
        return self.purpose
