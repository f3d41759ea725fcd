"""Photos, skin diagnosis records and treatment-course progress (CRM-9, CRM-10)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from apps.core.db import current_schema


def client_photo_path(instance: ClientPhoto, filename: str) -> str:
    """Each salon's files live under its own prefix in the default storage (local disk or an
    S3-compatible bucket), so one salon's files never share a key space with another's."""
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else "jpg"
    return f"salons/{current_schema()}/clients/{instance.client_id}/photos/{instance.token}.{suffix}"


class PhotoKind(models.TextChoices):
    BEFORE = "before", _("Before")
    AFTER = "after", _("After")
    HAIRSTYLE = "hairstyle", _("Finished hairstyle")
    SKIN = "skin", _("Skin")
    OTHER = "other", _("Other")


class ClientPhoto(models.Model):
    id = models.BigAutoField(primary_key=True)
    client = models.ForeignKey("crm.Client", on_delete=models.PROTECT, related_name="photos")
    token = models.CharField(max_length=32, unique=True, editable=False, help_text="Unguessable file name")
    image = models.FileField(upload_to=client_photo_path, max_length=300)
    content_type = models.CharField(max_length=50)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    size_bytes = models.PositiveIntegerField()
    kind = models.CharField(_("kind"), max_length=20, choices=PhotoKind.choices, default=PhotoKind.OTHER)
    caption = models.CharField(_("caption"), max_length=200, blank=True)
    taken_on = models.DateField(_("taken on"))
    session = models.ForeignKey(
        "crm.TreatmentSession",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="photos",
        verbose_name=_("course session"),
    )
    uploaded_by = models.ForeignKey("core.User", null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("photo")
        verbose_name_plural = _("photos")
        ordering = ["-taken_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(width__gt=0) & Q(height__gt=0), name="photo_dimensions_positive"),
        ]
        indexes = [models.Index(fields=["client", "-taken_on"], name="photo_client_idx")]

    def __str__(self) -> str:
        return self.caption or self.token


class SkinRecord(models.Model):
    """A skin diagnosis (部位、症状、方案) with a printable report."""

    id = models.BigAutoField(primary_key=True)
    client = models.ForeignKey("crm.Client", on_delete=models.PROTECT, related_name="skin_records")
    recorded_on = models.DateField(_("date"))
    area = models.CharField(_("area"), max_length=100)
    symptoms = models.TextField(_("symptoms"))
    skin_type = models.CharField(_("skin type"), max_length=20, blank=True)
    plan = models.TextField(_("plan"))
    products_advised = models.TextField(_("products advised"), blank=True)
    next_review_on = models.DateField(_("next review"), null=True, blank=True)
    staff = models.ForeignKey(
        "core.User", null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("recorded by")
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("skin record")
        verbose_name_plural = _("skin records")
        ordering = ["-recorded_on", "-id"]

    def __str__(self) -> str:
        return f"{self.recorded_on} {self.area}"


class CourseStatus(models.TextChoices):
    ACTIVE = "active", _("In progress")
    COMPLETED = "completed", _("Completed")
    STOPPED = "stopped", _("Stopped")


class TreatmentCourse(models.Model):
    """A course of treatment (疗程) followed session by session (CRM-10)."""

    id = models.BigAutoField(primary_key=True)
    client = models.ForeignKey("crm.Client", on_delete=models.PROTECT, related_name="treatment_courses")
    name = models.CharField(_("course"), max_length=100)
    goal = models.TextField(_("goal"), blank=True)
    planned_sessions = models.PositiveSmallIntegerField(_("planned sessions"))
    started_on = models.DateField(_("started on"))
    status = models.CharField(_("status"), max_length=10, choices=CourseStatus.choices, default=CourseStatus.ACTIVE)
    created_by = models.ForeignKey("core.User", null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("treatment course")
        verbose_name_plural = _("treatment courses")
        ordering = ["-started_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(planned_sessions__gt=0), name="course_planned_sessions_positive"),
        ]

    def __str__(self) -> str:
        return self.name


class TreatmentSession(models.Model):
    id = models.BigAutoField(primary_key=True)
    course = models.ForeignKey(TreatmentCourse, on_delete=models.PROTECT, related_name="sessions")
    number = models.PositiveSmallIntegerField(_("session"))
    performed_on = models.DateField(_("date"))
    staff = models.ForeignKey(
        "core.User", null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("technician")
    )
    notes = models.TextField(_("notes"), blank=True)
    effect = models.TextField(_("effect"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint("course", "number", name="course_session_number_unique"),
            models.CheckConstraint(condition=Q(number__gt=0), name="course_session_number_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.course_id}#{self.number}"
