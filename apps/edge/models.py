"""Print jobs (EDGE-3, EDGE-6): what the salon's front-desk printer is to print, queued here and picked up
by the edge agent, which renders the structured lines as ESC/POS and acknowledges each job.

A job is stored before anything is printed, so it is never lost; its ``idempotency_key`` is unique, so a
"print" pressed twice queues one job; a copy asked for on purpose is a new job with the next
``copy_number`` of the same kind and reference. Every status change is kept as a ``PrintJobEvent``.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class PrintJobKind(models.TextChoices):
    RECEIPT = "receipt", pgettext_lazy("paper receipt", "Receipt")
    QUEUE_TICKET = "queue_ticket", _("Queue ticket")
    HANDOVER_REPORT = "handover_report", _("Handover report")
    TEST = "test", _("Test page")


class PrintJobStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Sent to the printer")
    PRINTED = "printed", _("Printed")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


# The moves a job may make. Marking a job with the status it already has is a replayed acknowledgement
# and changes nothing (the agent retries until it hears back); anything else is refused.
TRANSITIONS: dict[str, frozenset[str]] = {
    PrintJobStatus.QUEUED: frozenset(
        {PrintJobStatus.SENT, PrintJobStatus.PRINTED, PrintJobStatus.FAILED, PrintJobStatus.CANCELLED}
    ),
    # The agent may hand a job back (restarted before printing it): it is queued again, not lost.
    PrintJobStatus.SENT: frozenset({PrintJobStatus.PRINTED, PrintJobStatus.FAILED, PrintJobStatus.QUEUED}),
    # A failed job is tried again or given up.
    PrintJobStatus.FAILED: frozenset({PrintJobStatus.QUEUED, PrintJobStatus.CANCELLED}),
    PrintJobStatus.PRINTED: frozenset(),
    PrintJobStatus.CANCELLED: frozenset(),
}


class PrintJob(models.Model):
    """One thing to print at a location. ``payload`` holds the paper width and the structured lines the
    agent turns into ESC/POS; ``text`` is the same job rendered as plain text, for the staff's preview."""

    id = models.BigAutoField(primary_key=True)
    kind = models.CharField(_("kind"), max_length=20, choices=PrintJobKind.choices)
    status = models.CharField(_("status"), max_length=10, choices=PrintJobStatus.choices, default=PrintJobStatus.QUEUED)
    location = models.ForeignKey(
        "core.Location", on_delete=models.PROTECT, related_name="print_jobs", verbose_name=_("location")
    )
    # Free text until printers are paired as devices (EDGE-2); empty means the location's default printer.
    printer = models.CharField(_("printer"), max_length=100, blank=True)
    payload = models.JSONField(_("content"))
    text = models.TextField(_("preview"))
    # What was printed, e.g. "bill:123" or "cash_session:7": copies of one reference are numbered.
    reference = models.CharField(_("reference"), max_length=100)
    copy_number = models.PositiveSmallIntegerField(_("copy"), default=0, help_text=_("0 for the original."))
    copy_of = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="copies", verbose_name=_("copy of")
    )
    idempotency_key = models.CharField(max_length=120, unique=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    error = models.CharField(_("error"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        "core.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("by")
    )
    created_at = models.DateTimeField(_("queued"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    printed_at = models.DateTimeField(_("printed"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Not stored: set on a job the services return for a repeated request (nothing new was queued).
    is_replay = False

    class Meta:
        verbose_name = _("print job")
        verbose_name_plural = _("print jobs")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=PrintJobKind.values), name="print_job_kind_valid"),
            models.CheckConstraint(condition=Q(status__in=PrintJobStatus.values), name="print_job_status_valid"),
            models.CheckConstraint(condition=~Q(reference=""), name="print_job_has_reference"),
            models.CheckConstraint(condition=~Q(idempotency_key=""), name="print_job_key_present"),
            # The original is copy 0 and copies of nothing; a copy names its original.
            models.CheckConstraint(
                condition=Q(copy_number=0, copy_of__isnull=True) | Q(copy_number__gt=0, copy_of__isnull=False),
                name="print_job_copy_names_original",
            ),
            models.CheckConstraint(
                condition=~Q(status="printed") | Q(printed_at__isnull=False), name="print_job_printed_has_time"
            ),
            # Copies of one thing are numbered 1, 2, 3 … without two of the same number.
            models.UniqueConstraint(fields=["kind", "reference", "copy_number"], name="print_job_copy_unique"),
        ]
        indexes = [
            models.Index(fields=["location", "-id"], name="print_job_location_idx"),
            # The agent's queue. An OR, not IN: PostgreSQL prints an IN-list differently after a schema is
            # replayed from the template's dump, and new salons' schemas must match the template exactly.
            models.Index(
                fields=["location", "id"],
                name="print_job_queued_idx",
                condition=Q(status="queued") | Q(status="sent"),
            ),
        ]

    def __str__(self) -> str:
        label = f"{self.kind} {self.reference}"
        return f"{label} (copy {self.copy_number})" if self.copy_number else label


class PrintJobEvent(models.Model):
    """One status change of a print job: who or what moved it, when, and why (the agent's error). Appended
    only, so the history of a receipt that was printed twice can always be told."""

    id = models.BigAutoField(primary_key=True)
    job = models.ForeignKey(PrintJob, on_delete=models.CASCADE, related_name="events")
    status = models.CharField(_("status"), max_length=10, choices=PrintJobStatus.choices)
    previous_status = models.CharField(max_length=10, blank=True)
    message = models.CharField(_("message"), max_length=300, blank=True)
    actor = models.ForeignKey("core.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("print job event")
        verbose_name_plural = _("print job events")
        ordering = ["job", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=PrintJobStatus.values), name="print_job_event_status"),
        ]

    def __str__(self) -> str:
        return f"{self.job_id}: {self.previous_status or '-'} → {self.status}"
