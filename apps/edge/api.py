"""Print jobs through the API (EDGE-3). Thin: check the shape, call one service, serialise.

Reading jobs needs ``take_payments`` or ``manage_devices``; queuing one needs what its source asks
(``take_payments`` for a bill's receipt); reporting a job's status — the edge agent's call — needs
``manage_devices``. Until devices are paired (EDGE-2) the agent signs in with a staff member's Bearer token."""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.models import Location
from apps.core.permissions import acting_user
from apps.core.roles import perm
from apps.edge import selectors, services
from apps.edge.errors import EdgeError, edge_error
from apps.edge.models import PrintJob, PrintJobStatus
from apps.edge.registry import print_source

READERS = ("take_payments", "manage_devices")


class CanSeePrintJobs(BasePermission):
    def has_permission(self, request: Any, view: Any) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        if request.method == "POST":  # each write view checks its own permission
            return True
        return any(user.has_perm(perm(codename)) for codename in READERS)


class PrintJobEventSerializer(serializers.Serializer):
    status = serializers.CharField()
    previous_status = serializers.CharField()
    message = serializers.CharField()
    actor = serializers.IntegerField(source="actor_id", allow_null=True)
    created_at = serializers.DateTimeField()


class PrintJobSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    status = serializers.CharField()
    location = serializers.IntegerField(source="location_id")
    printer = serializers.CharField()
    reference = serializers.CharField()
    copy_number = serializers.IntegerField()
    copy_of = serializers.IntegerField(source="copy_of_id", allow_null=True)
    attempts = serializers.IntegerField()
    error = serializers.CharField()
    payload = serializers.JSONField(help_text="Paper width, columns and the structured lines to print")
    text = serializers.CharField(help_text="The same job as plain text")
    created_by = serializers.IntegerField(source="created_by_id", allow_null=True)
    created_at = serializers.DateTimeField()
    sent_at = serializers.DateTimeField(allow_null=True)
    printed_at = serializers.DateTimeField(allow_null=True)


class PrintJobDetailSerializer(PrintJobSerializer):
    events = PrintJobEventSerializer(source="events.all", many=True)


class PrintJobCreateSerializer(serializers.Serializer):
    # "source" is also an attribute of DRF fields; the metaclass takes the declared field off the class.
    source = serializers.CharField(  # type: ignore[assignment]
        max_length=40, help_text="What to print: bill (a receipt), cash_session"
    )
    id = serializers.IntegerField(min_value=1, max_value=2**62)
    copy = serializers.BooleanField(required=False, default=False, help_text="Print another numbered copy")
    printer = serializers.CharField(required=False, allow_blank=True, max_length=100, default="")
    idempotency_key = serializers.CharField(required=False, allow_blank=True, max_length=120, default="")


class PrintJobStatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=PrintJobStatus.choices)
    error = serializers.CharField(required=False, allow_blank=True, max_length=300, default="")


def _int_param(request: Request, name: str) -> int | None:
    value = request.query_params.get(name, "")
    if value == "":
        return None
    if not value.isdigit() or len(value) > 18:
        raise serializers.ValidationError({name: ["Enter a whole number."]})
    return int(value)


class PrintJobListView(GenericAPIView):
    """``GET /api/v1/print-jobs/`` (newest first; ``after`` lists those queued after a job, oldest first,
    which is how the agent polls) and ``POST`` to print something from a registered source."""

    permission_classes = [CanSeePrintJobs]
    serializer_class = PrintJobSerializer

    @extend_schema(
        parameters=[
            OpenApiParameter("location", int),
            OpenApiParameter("status", str, enum=list(PrintJobStatus.values)),
            OpenApiParameter("after", int, description="Only jobs with a greater id, oldest first"),
        ],
        responses=PrintJobSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        location_id = _int_param(request, "location")
        location = None
        if location_id is not None:
            location = Location.objects.filter(pk=location_id).first()
            if location is None:
                raise serializers.ValidationError({"location": ["This location does not exist."]})
        job_status = request.query_params.get("status", "")
        if job_status and job_status not in PrintJobStatus.values:
            raise serializers.ValidationError({"status": [f"Choose one of {', '.join(PrintJobStatus.values)}."]})
        jobs = selectors.print_jobs(location=location, status=job_status, after_id=_int_param(request, "after"))
        page = self.paginate_queryset(jobs)
        return self.get_paginated_response(PrintJobSerializer(page, many=True).data)

    @extend_schema(request=PrintJobCreateSerializer, responses={201: PrintJobSerializer, 200: PrintJobSerializer})
    def post(self, request: Request) -> Response:
        data = PrintJobCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        source = print_source(v["source"])
        if source is None:
            raise edge_error(EdgeError.UNKNOWN_SOURCE)
        user = acting_user(request)
        if not user.has_perm(perm(source.permission)) or (source.allowed and not source.allowed(v["id"], user)):
            raise PermissionDenied
        try:
            job = source.queue(
                pk=v["id"],
                copy=v["copy"],
                printer=v["printer"],
                idempotency_key=v["idempotency_key"] or None,
                acting_user=user,
            )
        except LookupError:
            raise serializers.ValidationError({"id": ["Nothing with this id exists."]})
        code = status.HTTP_200_OK if job.is_replay else status.HTTP_201_CREATED
        return Response(PrintJobSerializer(job).data, status=code)


class PrintJobDetailView(GenericAPIView):
    """``GET /api/v1/print-jobs/{id}/`` with the job's history of statuses."""

    permission_classes = [CanSeePrintJobs]
    serializer_class = PrintJobDetailSerializer

    def get(self, request: Request, pk: int) -> Response:
        job = get_object_or_404(PrintJob.objects.prefetch_related("events"), pk=pk)
        return Response(PrintJobDetailSerializer(job).data)


class PrintJobStatusView(GenericAPIView):
    """``POST /api/v1/print-jobs/{id}/status/`` ``{"status": "sent|printed|failed|queued|cancelled",
    "error"}``: the agent acknowledges a job. Repeating an acknowledgement is harmless (200, unchanged);
    a move the job cannot make is 409."""

    permission_classes = [CanSeePrintJobs]
    serializer_class = PrintJobStatusSerializer

    @extend_schema(request=PrintJobStatusSerializer, responses=PrintJobSerializer)
    def post(self, request: Request, pk: int) -> Response:
        user = acting_user(request)
        if not user.has_perm(perm("manage_devices")):
            raise PermissionDenied
        job = get_object_or_404(PrintJob, pk=pk)
        data = PrintJobStatusSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        job = services.print_job_mark(
            job=job, status=data.validated_data["status"], error=data.validated_data["error"], acting_user=user
        )
        return Response(PrintJobSerializer(job).data)
