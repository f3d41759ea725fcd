"""Salons (tenants), their domains and the warm pool of ready schemas. Public schema only."""

from __future__ import annotations

from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _
from django_tenants.models import DomainMixin, TenantMixin


class SalonStatus(models.TextChoices):
    TRIAL = "trial", _("Trial")
    ACTIVE = "active", _("Active")
    PAST_DUE = "past_due", _("Past due")
    SUSPENDED = "suspended", _("Suspended")


class Salon(TenantMixin):
    """One salon business: its own schema and subdomain.

    The schema name is opaque (taken from the warm pool), so a salon can change
    its subdomain without renaming its schema.
    """

    # Schemas are created by tenants.services.provisioning (pool or clone), never by save().
    auto_create_schema = False
    auto_drop_schema = False

    id = models.BigAutoField(primary_key=True)
    name = models.CharField(_("salon name"), max_length=100)
    subdomain = models.CharField(_("subdomain"), max_length=30)
    status = models.CharField(_("status"), max_length=16, choices=SalonStatus.choices, default=SalonStatus.TRIAL)
    status_reason = models.CharField(_("status reason"), max_length=300, blank=True)
    plan_code = models.CharField(_("plan"), max_length=32, default="trial")
    trial_ends = models.DateField(_("trial ends"), null=True, blank=True)
    timezone = models.CharField(_("time zone"), max_length=64, default="Asia/Shanghai")
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    logo = models.ImageField(_("logo"), upload_to="logos/", blank=True)
    owner_email = models.EmailField(_("owner e-mail"), blank=True)
    owner_phone = models.CharField(_("owner phone"), max_length=20, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    status_changed_at = models.DateTimeField(_("status changed"), null=True, blank=True)

    class Meta:
        verbose_name = _("salon")
        verbose_name_plural = _("salons")
        constraints = [
            models.UniqueConstraint(Lower("subdomain"), name="salon_subdomain_unique_ci"),
            models.CheckConstraint(
                condition=models.Q(status__in=[s.value for s in SalonStatus]), name="salon_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(subdomain__regex=r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$"), name="salon_subdomain_format"
            ),
            models.CheckConstraint(condition=models.Q(currency__regex=r"^[A-Z]{3}$"), name="salon_currency_iso"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.subdomain})"

    @property
    def is_suspended(self) -> bool:
        return self.status == SalonStatus.SUSPENDED


class Domain(DomainMixin):
    id = models.BigAutoField(primary_key=True)

    class Meta:
        verbose_name = _("domain")
        verbose_name_plural = _("domains")


class PoolSchema(models.Model):
    """A migrated, empty salon schema waiting to be handed to the next signup.

    ``migrations_digest`` records which migrations the schema holds, so a signup
    only takes a schema that matches the running code.
    """

    id = models.BigAutoField(primary_key=True)
    schema_name = models.CharField(max_length=63, unique=True)
    migrations_digest = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("pool schema")
        verbose_name_plural = _("pool schemas")
        indexes = [models.Index(fields=["migrations_digest", "id"], name="pool_digest_idx")]

    def __str__(self) -> str:
        return self.schema_name


class TemplateScript(models.Model):
    """The SQL that recreates the template schema (tables, constraints, triggers and its rows),
    dumped once per migration state and replayed for every new salon schema.

    Replaying a script costs the same however many salons exist; cloning by walking the
    catalog (django-tenants' clone_schema) slows down as the catalog grows.
    """

    id = models.BigAutoField(primary_key=True)
    migrations_digest = models.CharField(max_length=64, unique=True)
    sql = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("template script")
        verbose_name_plural = _("template scripts")

    def __str__(self) -> str:
        return f"template script {self.migrations_digest[:12]}"
