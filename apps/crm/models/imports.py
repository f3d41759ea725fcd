"""Client imports (CRM-7): an uploaded file, its column mapping, the dry-run report and progress."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from apps.core.db import current_schema


def import_file_path(instance: ImportJob, filename: str) -> str:
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"salons/{current_schema()}/imports/{instance.token}.{suffix}"


class ImportStatus(models.TextChoices):
    UPLOADED = "uploaded", _("Uploaded")
    VALIDATING = "validating", _("Checking")
    VALIDATED = "validated", _("Checked")
    IMPORTING = "importing", _("Importing")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class DuplicatePolicy(models.TextChoices):
    SKIP = "skip", _("Skip rows whose phone is already a client")
    UPDATE = "update", _("Fill in blank fields of the existing client")


class ImportJob(models.Model):
    id = models.BigAutoField(primary_key=True)
    token = models.CharField(max_length=32, unique=True, editable=False)
    file = models.FileField(upload_to=import_file_path, max_length=300)
    file_name = models.CharField(max_length=200)
    file_format = models.CharField(max_length=10)  # csv | xlsx
    headers = models.JSONField(default=list)
    mapping = models.JSONField(default=dict, help_text="{client field: column index}")
    duplicate_policy = models.CharField(max_length=10, choices=DuplicatePolicy.choices, default=DuplicatePolicy.SKIP)
    status = models.CharField(max_length=12, choices=ImportStatus.choices, default=ImportStatus.UPLOADED)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    skipped_count = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, help_text="[{row, field, message}] of the last check or import")
    failure = models.TextField(blank=True)
    created_by = models.ForeignKey("core.User", null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=Q(processed_rows__lte=models.F("total_rows")), name="import_progress"),
        ]

    def __str__(self) -> str:
        return self.file_name
