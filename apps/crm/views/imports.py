"""Staff pages: client import (upload → mapping → check → import → report) and export (CRM-7)."""

from __future__ import annotations

import csv
from typing import Any

from django import forms
from django.contrib import messages
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRefresh
from openpyxl.utils import get_column_letter

from apps.core.errors import ServiceError
from apps.core.permissions import acting_user, staff_permission_required
from apps.core.views import apply_service_error
from apps.crm.models import DuplicatePolicy, ImportJob, ImportStatus
from apps.crm.selectors_imports import (
    import_job_is_running,
    import_job_list,
    import_job_progress,
    import_report_rows,
)
from apps.crm.services import imports as services
from apps.crm.services.exports import clients_export

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
REPORT_ROWS_SHOWN = 200


class UploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Client list"),
        help_text=gettext_lazy("A CSV or Excel (.xlsx) file whose first row holds the column names."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,text/csv"}),
    )


class MappingForm(forms.Form):
    """One choice of column per client field, and what to do with phones that are already clients."""

    duplicate_policy = forms.ChoiceField(
        label=gettext_lazy("Phones that are already clients"),
        choices=DuplicatePolicy.choices,
        widget=forms.RadioSelect,
    )

    def __init__(self, *args: Any, job: ImportJob, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        columns = [("", _("Not imported"))] + [
            (str(index), f"{get_column_letter(index + 1)} · {header}") for index, header in enumerate(job.headers)
        ]
        for spec in services.IMPORT_FIELDS:
            self.fields[f"field_{spec.name}"] = forms.ChoiceField(
                label=spec.label, choices=columns, required=spec.required
            )
            self.initial.setdefault(f"field_{spec.name}", str(job.mapping.get(spec.name, "")))
        self.initial.setdefault("duplicate_policy", job.duplicate_policy)

    def mapping(self) -> dict[str, Any]:
        return {
            spec.name: self.cleaned_data[f"field_{spec.name}"]
            for spec in services.IMPORT_FIELDS
            if self.cleaned_data.get(f"field_{spec.name}") not in (None, "")
        }

    def field_rows(self) -> list[forms.BoundField]:
        return [self[f"field_{spec.name}"] for spec in services.IMPORT_FIELDS]


@staff_permission_required("manage_clients")
def import_upload(request: HttpRequest) -> HttpResponse:
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = services.import_job_create(file=form.cleaned_data["file"], acting_user=acting_user(request))
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            return redirect("crm:import_detail", pk=job.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "crm/imports/upload.html", {"form": form, "jobs": import_job_list()}, status=status)


def _detail_context(job: ImportJob, form: MappingForm | None = None) -> dict[str, Any]:
    problems = job.errors[:REPORT_ROWS_SHOWN]
    return {
        "job": job,
        "form": form or MappingForm(job=job),
        "editable": job.status in (ImportStatus.UPLOADED, ImportStatus.VALIDATED, ImportStatus.FAILED),
        "running": import_job_is_running(job),
        "progress": import_job_progress(job),
        "problems": problems,
        "problems_hidden": max(0, len(job.errors) - len(problems)),
        "Status": ImportStatus,
    }


@staff_permission_required("manage_clients")
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_object_or_404(ImportJob, pk=pk)
    return render(request, "crm/imports/detail.html", _detail_context(job))


@staff_permission_required("manage_clients")
@require_POST
def import_check(request: HttpRequest, pk: int) -> HttpResponse:
    """Save the mapping and policy, then check the file (the dry run)."""
    job = get_object_or_404(ImportJob, pk=pk)
    form = MappingForm(request.POST, job=job)
    if form.is_valid():
        try:
            job = services.import_job_configure(
                job=job,
                acting_user=acting_user(request),
                mapping=form.mapping(),
                duplicate_policy=form.cleaned_data["duplicate_policy"],
            )
            services.import_job_check(job=job, acting_user=acting_user(request))
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            return redirect("crm:import_detail", pk=job.pk)
    job.refresh_from_db()
    return render(request, "crm/imports/detail.html", _detail_context(job, form), status=400)


@staff_permission_required("manage_clients")
@require_POST
def import_run(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_object_or_404(ImportJob, pk=pk)
    try:
        services.import_job_run(job=job, acting_user=acting_user(request))
    except ServiceError as error:
        messages.error(request, error.message)
    return redirect("crm:import_detail", pk=job.pk)


@staff_permission_required("manage_clients")
@require_GET
def import_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """Progress bar fragment polled by htmx; once the work is over the page reloads to show the report."""
    job = get_object_or_404(ImportJob, pk=pk)
    if not import_job_is_running(job) and request.htmx:  # type: ignore[attr-defined]
        return HttpResponseClientRefresh()
    return render(request, "crm/imports/_progress.html", _detail_context(job))


@staff_permission_required("manage_clients")
@require_GET
def import_report(request: HttpRequest, pk: int) -> HttpResponse:
    """The whole report of the last check or import as CSV (UTF-8 with BOM, so Excel reads Chinese)."""
    job = get_object_or_404(ImportJob, pk=pk)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-report.csv"'
    response.write("\ufeff")
    writer = csv.writer(response)
    writer.writerow([_("Row"), _("Column"), _("Outcome"), _("Reason")])
    outcomes = {"error": _("Not imported"), "skip": _("Skipped"), "update": _("Filled in")}
    for row, column, kind, message in import_report_rows(job):
        writer.writerow([row, _csv_safe(column), outcomes.get(kind, kind), _csv_safe(message)])
    return response


def _csv_safe(value: Any) -> str:
    """A cell a spreadsheet will not run as a formula (column names come from the uploaded file)."""
    text = str(value or "")
    return f"'{text}" if text[:1] in ("=", "+", "-", "@") else text


@staff_permission_required("export_data")
@require_GET
def client_export(request: HttpRequest) -> HttpResponse:
    """The client list, with the list page's filters (q, tag, tier, source), as an XLSX file."""
    export = clients_export(params=request.GET, acting_user=acting_user(request))
    response: Any = FileResponse(export.file, as_attachment=True, filename=export.file_name, content_type=XLSX_TYPE)
    return response


urlpatterns: list[URLPattern] = [
    path("import/", import_upload, name="import_upload"),
    path("import/<int:pk>/", import_detail, name="import_detail"),
    path("import/<int:pk>/check/", import_check, name="import_check"),
    path("import/<int:pk>/run/", import_run, name="import_run"),
    path("import/<int:pk>/progress/", import_progress, name="import_progress"),
    path("import/<int:pk>/report.csv", import_report, name="import_report"),
    path("export.xlsx", client_export, name="client_export"),
]
