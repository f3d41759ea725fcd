"""REST API: client import (upload, mapping, check, run, progress) and export (CRM-7)."""

from __future__ import annotations

import json
from typing import Any

from django.http import FileResponse
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.renderers import BaseRenderer, BrowsableAPIRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.permissions import HasRolePermission, acting_user
from apps.crm.models import DuplicatePolicy, ImportJob, ImportStatus
from apps.crm.services import imports as services
from apps.crm.services.exports import clients_export

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ImportProblemSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="Row number as the spreadsheet shows it (the header is row 1)")
    column = serializers.CharField(help_text="Header of the column")
    field = serializers.CharField(help_text="Client field")
    kind = serializers.ChoiceField(choices=["error", "skip", "update"])
    message = serializers.CharField()


class ImportJobSerializer(serializers.ModelSerializer):
    errors = ImportProblemSerializer(many=True, read_only=True)  # type: ignore[assignment]
    available_fields = serializers.SerializerMethodField(help_text="Client fields a column can be mapped to")

    class Meta:
        model = ImportJob
        fields = [
            "id",
            "file_name",
            "file_format",
            "status",
            "headers",
            "mapping",
            "duplicate_policy",
            "available_fields",
            "total_rows",
            "processed_rows",
            "created_count",
            "updated_count",
            "skipped_count",
            "error_count",
            "errors",
            "failure",
            "created_at",
            "finished_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.DictField()))
    def get_available_fields(self, job: ImportJob) -> list[dict[str, Any]]:
        return [{"name": f.name, "label": str(f.label), "required": f.required} for f in services.IMPORT_FIELDS]


class UploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="CSV (UTF-8 or GBK) or XLSX; the first row holds the column names")


class ConfigureSerializer(serializers.Serializer):
    mapping = serializers.DictField(
        child=serializers.IntegerField(allow_null=True, min_value=0),
        required=False,
        help_text='{client field: column index from 0}, e.g. {"name": 0, "phone": 1}',
    )
    duplicate_policy = serializers.ChoiceField(choices=DuplicatePolicy.choices, required=False)


class ImportJobListView(GenericAPIView):
    """Upload a client list (multipart ``file``): the job comes back with the header and a guessed mapping."""

    permission_classes = [HasRolePermission]
    required_permission = "manage_clients"
    read_permission = "manage_clients"
    serializer_class = ImportJobSerializer
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return ImportJob.objects.select_related("created_by").order_by("-id")

    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(ImportJobSerializer(page, many=True).data)

    @extend_schema(request={"multipart/form-data": UploadSerializer}, responses={201: ImportJobSerializer})
    def post(self, request: Request) -> Response:
        data = UploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        job = services.import_job_create(file=data.validated_data["file"], acting_user=acting_user(request))
        return Response(ImportJobSerializer(job).data, status=status.HTTP_201_CREATED)


class ImportJobDetailView(GenericAPIView):
    """Status, progress and report of an import; PATCH sets the mapping and the duplicate policy
    (a change undoes the last check)."""

    permission_classes = [HasRolePermission]
    required_permission = "manage_clients"
    read_permission = "manage_clients"
    serializer_class = ImportJobSerializer

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return ImportJob.objects.all()

    def get(self, request: Request, pk: int) -> Response:
        return Response(ImportJobSerializer(get_object_or_404(ImportJob, pk=pk)).data)

    @extend_schema(request=ConfigureSerializer, responses={200: ImportJobSerializer})
    def patch(self, request: Request, pk: int) -> Response:
        job = get_object_or_404(ImportJob, pk=pk)
        data = ConfigureSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        job = services.import_job_configure(
            job=job,
            acting_user=acting_user(request),
            mapping=data.validated_data.get("mapping"),
            duplicate_policy=data.validated_data.get("duplicate_policy"),
        )
        return Response(ImportJobSerializer(job).data)


class _ImportActionView(GenericAPIView):
    permission_classes = [HasRolePermission]
    required_permission = "manage_clients"
    read_permission = "manage_clients"
    serializer_class = ImportJobSerializer

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return ImportJob.objects.all()

    def respond(self, job: ImportJob) -> Response:
        running = job.status in (ImportStatus.VALIDATING, ImportStatus.IMPORTING)
        return Response(
            ImportJobSerializer(job).data, status=status.HTTP_202_ACCEPTED if running else status.HTTP_200_OK
        )


class ImportJobCheckView(_ImportActionView):
    """Check every row (nothing is written to clients). 200 with the report when done at once;
    202 when a large file is being checked in the background (poll the job)."""

    @extend_schema(request=None, responses={200: ImportJobSerializer, 202: ImportJobSerializer})
    def post(self, request: Request, pk: int) -> Response:
        job = get_object_or_404(ImportJob, pk=pk)
        return self.respond(services.import_job_check(job=job, acting_user=acting_user(request)))


class ImportJobRunView(_ImportActionView):
    """Import a checked file. 200 with the result when done at once; 202 while a large file imports."""

    @extend_schema(request=None, responses={200: ImportJobSerializer, 202: ImportJobSerializer})
    def post(self, request: Request, pk: int) -> Response:
        job = get_object_or_404(ImportJob, pk=pk)
        return self.respond(services.import_job_run(job=job, acting_user=acting_user(request)))


class XlsxRenderer(BaseRenderer):
    """Lets a client ask for the spreadsheet by its type; errors still come back as JSON text."""

    media_type = XLSX_TYPE
    format = "xlsx"
    charset = None
    render_style = "binary"

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        if isinstance(data, bytes):
            return data
        return json.dumps(data, default=str).encode()


class ClientExportView(GenericAPIView):
    """The client list as an XLSX file, filtered like the list page (``q``, ``tag``, ``tier``,
    ``source``). Needs the export permission; phones are masked for staff who may not see them."""

    permission_classes = [HasRolePermission]
    read_permission = "export_data"
    renderer_classes = [JSONRenderer, BrowsableAPIRenderer, XlsxRenderer]

    @extend_schema(
        parameters=[
            OpenApiParameter("q", OpenApiTypes.STR, description="Name, pinyin, phone, last four digits, card number"),
            OpenApiParameter("tag", OpenApiTypes.INT),
            OpenApiParameter("tier", OpenApiTypes.INT),
            OpenApiParameter("source", OpenApiTypes.STR),
        ],
        responses={(200, XLSX_TYPE): OpenApiResponse(OpenApiTypes.BINARY, description="XLSX workbook")},
    )
    def get(self, request: Request) -> FileResponse:
        export = clients_export(params=request.query_params, acting_user=acting_user(request))
        return FileResponse(export.file, as_attachment=True, filename=export.file_name, content_type=XLSX_TYPE)


urlpatterns: list[URLPattern] = [
    path("client-imports/", ImportJobListView.as_view(), name="api-client-import-list"),
    path("client-imports/<int:pk>/", ImportJobDetailView.as_view(), name="api-client-import-detail"),
    path("client-imports/<int:pk>/check/", ImportJobCheckView.as_view(), name="api-client-import-check"),
    path("client-imports/<int:pk>/run/", ImportJobRunView.as_view(), name="api-client-import-run"),
    path("clients/export/", ClientExportView.as_view(), name="api-client-export"),
]
