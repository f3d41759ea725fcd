"""GET /api/v1/availability/ (SCH-4, SPEC §4): open slots for one service or a visit of several in
sequence. Thin: check the query's shape, resolve the ids, call ``availability_search``, serialise."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.catalog.models import Service
from apps.core.errors import ServiceError
from apps.core.models import Location, User
from apps.core.permissions import HasRolePermission
from apps.scheduling.availability import CHANNEL_ONLINE, MAX_SERVICES, Slot, availability_search
from apps.scheduling.errors import SchedulingError, scheduling_error


class _IdList(serializers.CharField):
    """``1,2,3`` → [1, 2, 3]."""

    def to_internal_value(self, data: Any) -> list[int]:  # type: ignore[override]
        text = super().to_internal_value(data)
        try:
            ids = [int(part) for part in text.split(",") if part.strip()]
        except ValueError:
            raise serializers.ValidationError(_("Enter service ids separated by commas.")) from None
        if not ids or any(i <= 0 for i in ids):
            raise serializers.ValidationError(_("Enter service ids separated by commas."))
        return ids


class AvailabilityQuery(serializers.Serializer):
    service = serializers.IntegerField(required=False, min_value=1)
    services = _IdList(required=False, max_length=200)
    date = serializers.DateField(required=False)
    date_from = serializers.DateField(required=False)
    date_to = serializers.DateField(required=False)
    staff = serializers.IntegerField(required=False, min_value=1)
    location = serializers.IntegerField(required=False, min_value=1)
    channel = serializers.ChoiceField(choices=["staff", CHANNEL_ONLINE], required=False, default="staff")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        ids = attrs.get("services") or ([attrs["service"]] if "service" in attrs else [])
        if not ids:
            raise serializers.ValidationError({"service": [_("Choose a service.")]})
        if len(ids) > MAX_SERVICES:
            raise serializers.ValidationError({"services": [_("Book at most five services in one visit.")]})
        date_from = attrs.get("date_from") or attrs.get("date")
        date_to = attrs.get("date_to") or attrs.get("date") or date_from
        if date_from is None:
            raise serializers.ValidationError({"date": [_("Enter a date (YYYY-MM-DD).")]})
        attrs.update(service_ids=ids, first=date_from, last=date_to)
        return attrs


def _slot_data(slot: Slot, *, with_segments: bool) -> dict[str, Any]:
    data: dict[str, Any] = {"start": slot.start.isoformat(), "end": slot.end.isoformat(), "staff": slot.staff_id}
    if with_segments:
        data["segments"] = [
            {"service": s.service_id, "staff": s.staff_id, "start": s.start.isoformat(), "end": s.end.isoformat()}
            for s in slot.segments
        ]
    return data


def _resolve(query: dict[str, Any]) -> tuple[Location, list[Service], User | None]:
    if "location" in query:
        location = Location.objects.filter(pk=query["location"], is_active=True).first()
    else:
        location = Location.objects.filter(is_active=True).order_by("id").first()
    if location is None:
        raise scheduling_error(SchedulingError.INACTIVE_LOCATION, field="location")
    found = Service.objects.in_bulk(query["service_ids"])
    if any(i not in found for i in query["service_ids"]):
        raise scheduling_error(SchedulingError.UNKNOWN_SERVICE, field="services" if "services" in query else "service")
    staff = None
    if "staff" in query:
        staff = User.objects.filter(pk=query["staff"], is_active=True).first()
        if staff is None:
            raise scheduling_error(SchedulingError.UNKNOWN_STAFF, field="staff")
    return location, [found[i] for i in query["service_ids"]], staff


class _SegmentOut(serializers.Serializer):
    service = serializers.IntegerField()
    staff = serializers.IntegerField()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()


class _SlotOut(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    staff = serializers.IntegerField(help_text="The technician of the first service")
    segments = _SegmentOut(many=True, required=False, help_text="Only when several services were asked for")


class AvailabilityOut(serializers.Serializer):
    slots = _SlotOut(many=True)


class AvailabilityView(APIView):
    """Open slots: ``?service={id}&date=YYYY-MM-DD[&staff={id}]`` → ``{"slots": [{"start", "end",
    "staff"}]}`` (start and end in the salon's zone; ``staff`` the technician of the first service).
    Also ``services=1,2`` (a visit in sequence; each slot then lists its ``segments``),
    ``date_from``/``date_to`` (at most 31 days), ``location`` (default: the first active one) and
    ``channel=online`` (the online booking limits). Any signed-in staff member of the salon."""

    permission_classes = [HasRolePermission]

    @extend_schema(parameters=[AvailabilityQuery], responses=AvailabilityOut)
    def get(self, request: Request) -> Response:
        query = AvailabilityQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        location, services, staff = _resolve(params)
        try:
            slots = availability_search(
                location=location,
                services=services,
                date_from=params["first"],
                date_to=params["last"],
                staff=staff,
                channel=params["channel"],
            )
        except ServiceError as error:
            if error.field == "service" and "services" in params:
                raise ServiceError(error.code, error.message, status=error.status, field="services") from None
            raise
        with_segments = "services" in params
        return Response({"slots": [_slot_data(slot, with_segments=with_segments) for slot in slots]})
