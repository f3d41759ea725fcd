"""The operator console (BIL-6 start): Django admin on the public schema at /console/, superusers only."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from apps.core.errors import ServiceError
from apps.core.models import AuditEntry, User
from tenants import services
from tenants.models import Domain, PoolSchema, Salon, SalonStatus


class ConsoleSite(admin.AdminSite):
    site_header = _("Salon platform console")
    site_title = _("Platform console")
    index_title = _("Salons and operations")

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return bool(
            getattr(request, "tenant", None) is not None
            and getattr(request.tenant, "is_public", False)  # type: ignore[attr-defined]
            and user.is_active
            and user.is_superuser
        )


console_site = ConsoleSite(name="console")


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0
    fields = ["domain", "is_primary"]
    readonly_fields = ["domain"]
    can_delete = False


class StatusActionForm(helpers.ActionForm):
    reason = forms.CharField(label=_("Reason (for suspension)"), required=False, max_length=300)


@admin.register(Salon, site=console_site)
class SalonAdmin(admin.ModelAdmin):
    list_display = ["name", "subdomain", "status", "plan_code", "trial_ends", "created_at"]
    list_filter = ["status", "plan_code"]
    search_fields = ["name", "subdomain", "owner_email", "owner_phone", "schema_name"]
    ordering = ["-created_at"]
    readonly_fields = ["schema_name", "subdomain", "status", "status_reason", "status_changed_at", "created_at"]
    fields = [
        "name",
        "subdomain",
        "schema_name",
        "status",
        "status_reason",
        "status_changed_at",
        "plan_code",
        "trial_ends",
        "timezone",
        "currency",
        "owner_email",
        "owner_phone",
        "created_at",
    ]
    inlines = [DomainInline]
    actions = ["suspend", "resume"]
    action_form = StatusActionForm

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a salon's data is never deleted from the console

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # salons come through signup, which provisions their schema

    @admin.action(description=_("Suspend selected salons"))
    def suspend(self, request: HttpRequest, queryset: QuerySet[Salon]) -> None:
        reason = request.POST.get("reason", "")
        done = 0
        for salon in queryset:
            try:
                services.salon_suspend(salon=salon, reason=reason, actor=request.user)  # type: ignore[arg-type]
                done += 1
            except ServiceError as error:
                self.message_user(request, f"{salon.subdomain}: {error.message}", messages.ERROR)
                return
        self.message_user(
            request, ngettext("%(n)d salon suspended.", "%(n)d salons suspended.", done) % {"n": done}, messages.SUCCESS
        )

    @admin.action(description=_("Resume selected salons"))
    def resume(self, request: HttpRequest, queryset: QuerySet[Salon]) -> None:
        done = 0
        for salon in queryset.filter(status=SalonStatus.SUSPENDED):
            services.salon_resume(salon=salon, actor=request.user)  # type: ignore[arg-type]
            done += 1
        self.message_user(
            request, ngettext("%(n)d salon resumed.", "%(n)d salons resumed.", done) % {"n": done}, messages.SUCCESS
        )


@admin.register(PoolSchema, site=console_site)
class PoolSchemaAdmin(admin.ModelAdmin):
    list_display = ["schema_name", "migrations_digest", "created_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AuditEntry, site=console_site)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ["created_at", "actor_label", "action", "target_type", "target_id"]
    list_filter = ["action"]
    search_fields = ["actor_label", "action", "target_id"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(User, site=console_site)
class OperatorAdmin(admin.ModelAdmin):
    """Platform operators (users of the public schema). New operators are created with
    `manage.py createsuperuser`, which sets a password; here they are listed, edited and deactivated."""

    list_display = ["username", "name", "email", "is_superuser", "is_active", "last_login"]
    fields = ["username", "name", "email", "phone", "is_active", "is_staff", "is_superuser", "last_login"]
    readonly_fields = ["last_login"]
    search_fields = ["username", "name", "email"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # deactivate instead: the audit log keeps pointing at the person
