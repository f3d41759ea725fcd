"""Appointments through the API (SPEC §4): list with filters, book (one service: ``client, service, staff,
start[, end]``; several: ``lines: [{service, staff}]``), read, move (PATCH ``start[, staff]``), the
lifecycle actions, and a client's booking record. Thin: parse, check permission, call one service.
A collision with another booking is ``409 {"detail", "code", "conflict": {...}}``."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from apps.catalog.models import Service
from apps.core.db import salon_timezone
from apps.core.models import Location, User
from apps.core.permissions import HasRolePermission, acting_user
from apps.core.roles import perm
from apps.crm.models import Client
from apps.scheduling.models import Appointment, AppointmentChannel, ClientBookingProfile
from apps.scheduling.selectors.appointments import (
    STATUS_VALUES,
    appointments_loaded,
    appointments_visible_to,
    day_bounds,
)
from apps.scheduling.services import booking

# --- output ---------------------------------------------------------------------------------------------


class HoldSerializer(serializers.Serializer):
    resource = serializers.IntegerField(source="resource_id")
    resource_name = serializers.CharField(source="resource.name")
    place = serializers.IntegerField()


class LineSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    service = serializers.IntegerField(source="service_id")
    service_name = serializers.CharField(source="service.name")
    staff = serializers.IntegerField(source="staff_id")
    staff_name = serializers.CharField(source="staff.name")
    is_requested = serializers.BooleanField()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    busy_until = serializers.DateTimeField()
    price = serializers.IntegerField()
    resources = HoldSerializer(source="resource_holds.all", many=True)


class DepositSerializer(serializers.Serializer):
    amount = serializers.IntegerField()
    method = serializers.CharField()
    status = serializers.CharField()


class AppointmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    client = serializers.IntegerField(source="client_id")
    client_name = serializers.CharField(source="client.name")
    location = serializers.IntegerField(source="location_id")
    service = serializers.SerializerMethodField(help_text="The first line's service")
    staff = serializers.SerializerMethodField(help_text="The first line's technician")
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    status = serializers.CharField()
    channel = serializers.CharField()
    notes = serializers.CharField()
    lines = serializers.SerializerMethodField()
    deposit = serializers.SerializerMethodField()
    is_late_cancellation = serializers.BooleanField()
    reschedule_count = serializers.IntegerField()
    cancel_reason = serializers.CharField()
    created_at = serializers.DateTimeField()
    confirmed_at = serializers.DateTimeField(allow_null=True)
    arrived_at = serializers.DateTimeField(allow_null=True)
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    cancelled_at = serializers.DateTimeField(allow_null=True)

    def _lines(self, visit: Appointment) -> list[Any]:
        return list(visit.lines.all())

    def get_service(self, visit: Appointment) -> int | None:
        lines = self._lines(visit)
        return lines[0].service_id if lines else None

    def get_staff(self, visit: Appointment) -> int | None:
        lines = self._lines(visit)
        return lines[0].staff_id if lines else None

    def get_lines(self, visit: Appointment) -> Any:
        return LineSerializer(self._lines(visit), many=True).data

    def get_deposit(self, visit: Appointment) -> Any:
        deposit = getattr(visit, "deposit", None)
        return DepositSerializer(deposit).data if deposit is not None else None


def _reloaded(visit: Appointment) -> Appointment:
    return appointments_loaded().get(pk=visit.pk)


# --- input ------------------------------------------------------------------------------------------------


class LineInputSerializer(serializers.Serializer):
    service = serializers.IntegerField(min_value=1, max_value=2**62)
    staff = serializers.IntegerField(min_value=1, max_value=2**62, required=False, allow_null=True)
    is_requested = serializers.BooleanField(required=False, default=False)


class AppointmentCreateSerializer(serializers.Serializer):
    client = serializers.IntegerField(min_value=1, max_value=2**62)
    service = serializers.IntegerField(min_value=1, max_value=2**62, required=False)
    staff = serializers.IntegerField(min_value=1, max_value=2**62, required=False, allow_null=True)
    lines = LineInputSerializer(many=True, required=False)
    start = serializers.DateTimeField()
    end = serializers.DateTimeField(required=False, allow_null=True)
    location = serializers.IntegerField(min_value=1, max_value=2**62, required=False)
    channel = serializers.ChoiceField(
        choices=[AppointmentChannel.STAFF, AppointmentChannel.PHONE, AppointmentChannel.API], default="api"
    )
    notes = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")
    deposit_method = serializers.ChoiceField(
        choices=["stored_value", "desk"], required=False, allow_null=True, allow_blank=True
    )
    is_requested = serializers.BooleanField(required=False, default=False)
    status = serializers.CharField(required=False, help_text="Ignored: a new appointment is always booked")
    idempotency_key = serializers.CharField(required=False, max_length=80, allow_blank=True)


class AppointmentMoveSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    staff = serializers.IntegerField(min_value=1, max_value=2**62, required=False, allow_null=True)
    lines = LineInputSerializer(many=True, required=False)


class CancelSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")


def _bad(field: str, message: str) -> serializers.ValidationError:
    return serializers.ValidationError({field: [message]})


def _service(pk: int) -> Service:
    service = Service.objects.filter(pk=pk).first()
    if service is None:
        raise _bad("service", str(_msg_unknown_service()))
    return service


def _msg_unknown_service() -> Any:
    from apps.scheduling.errors import MESSAGES, SchedulingError

    return MESSAGES[SchedulingError.UNKNOWN_SERVICE]


def _staff(pk: int | None, field: str = "staff") -> User | None:
    if pk is None:
        return None
    user = User.objects.filter(pk=pk).first()
    if user is None:
        from apps.scheduling.errors import MESSAGES, SchedulingError

        raise _bad(field, str(MESSAGES[SchedulingError.UNKNOWN_STAFF]))
    return user


def _line_requests(data: dict[str, Any]) -> list[booking.LineRequest]:
    if data.get("lines"):
        return [
            booking.LineRequest(_service(row["service"]), _staff(row.get("staff")), row.get("is_requested", False))
            for row in data["lines"]
        ]
    if data.get("service") is None:
        raise _bad("service", "Give a service, or lines.")
    return [
        booking.LineRequest(_service(data["service"]), _staff(data.get("staff")), bool(data.get("is_requested", False)))
    ]


def _location(pk: int | None) -> Location:
    if pk is not None:
        location = Location.objects.filter(pk=pk).first()
        if location is None:
            raise _bad("location", "This location does not exist.")
        return location
    location = Location.objects.filter(is_active=True).order_by("id").first()
    if location is None:
        raise _bad("location", "This location does not exist.")
    return location


def _local_start(value: datetime.datetime) -> datetime.datetime:
    # DRF reads a time without an offset in the active zone (the salon's, set by the middleware); be
    # explicit so a request outside that middleware reads it the same way.
    if timezone.is_naive(value):
        return timezone.make_aware(value, salon_timezone())
    return value


def _visit_end(start: datetime.datetime, lines: list[booking.LineRequest]) -> datetime.datetime:
    at = start
    end = start
    for line in lines:
        end = at + datetime.timedelta(minutes=line.service.duration_minutes)
        at = end + datetime.timedelta(minutes=line.service.buffer_minutes)
    return end


class AppointmentListView(GenericAPIView):
    """``GET /api/v1/appointments/`` (filters ``date``, ``date_from``/``date_to`` in the salon's calendar,
    ``staff``, ``client``, ``status``, ``location``) and ``POST`` to book (``Idempotency-Key`` header)."""

    permission_classes = [HasRolePermission]
    required_permission = "book_appointments"
    serializer_class = AppointmentSerializer

    @extend_schema(
        parameters=[
            OpenApiParameter("date", str, description="YYYY-MM-DD (salon's calendar)"),
            OpenApiParameter("date_from", str),
            OpenApiParameter("date_to", str),
            OpenApiParameter("staff", int),
            OpenApiParameter("client", int),
            OpenApiParameter("status", str, enum=list(STATUS_VALUES)),
            OpenApiParameter("location", int),
        ],
        responses=AppointmentSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        user = acting_user(request)
        if not (user.has_perm(perm("book_appointments")) or user.has_perm(perm("view_own_schedule"))):
            raise PermissionDenied
        visits = appointments_visible_to(user)
        params = request.query_params
        if params.get("date"):
            day = _date(params["date"], "date")
            visits = _between(visits, day, day)
        elif params.get("date_from") or params.get("date_to"):
            day_from = _date(params.get("date_from") or "", "date_from") if params.get("date_from") else None
            day_to = _date(params.get("date_to") or "", "date_to") if params.get("date_to") else None
            if day_from and day_to and day_to < day_from:
                raise _bad("date_to", "The end date must not be before the start date.")
            visits = _between(visits, day_from, day_to)
        for name, lookup in (("staff", "lines__staff_id"), ("client", "client_id"), ("location", "location_id")):
            if params.get(name):
                visits = visits.filter(**{lookup: _whole(params[name], name)})
        if params.get("staff"):
            visits = visits.distinct()
        if params.get("status"):
            if params["status"] not in STATUS_VALUES:
                raise _bad("status", f"One of: {', '.join(STATUS_VALUES)}.")
            visits = visits.filter(status=params["status"])
        page = self.paginate_queryset(visits)
        return self.get_paginated_response(AppointmentSerializer(page, many=True).data)

    @extend_schema(request=AppointmentCreateSerializer, responses={201: AppointmentSerializer})
    def post(self, request: Request) -> Response:
        data = AppointmentCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        client = Client.objects.filter(pk=values["client"]).first()
        if client is None:
            raise _bad("client", "This client does not exist.")
        lines = _line_requests(values)
        start = _local_start(values["start"])
        if values.get("end") is not None and _local_start(values["end"]) != _visit_end(start, lines):
            raise _bad("end", "The end must be the start plus the services' duration.")
        key = request.headers.get("Idempotency-Key") or values.get("idempotency_key") or None
        visit = booking.appointment_book(
            client=client,
            location=_location(values.get("location")),
            start=start,
            lines=lines,
            channel=values["channel"],
            acting_user=acting_user(request),
            notes=values.get("notes", ""),
            idempotency_key=key,
            deposit_method=values.get("deposit_method") or None,
        )
        # A new visit comes back with its lines, holds and deposit attached; a replay is read like any other.
        return Response(AppointmentSerializer(visit).data, status=status.HTTP_201_CREATED)


def _date(value: str, field: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise _bad(field, "Enter a date as YYYY-MM-DD.") from None


def _whole(value: str, field: str) -> int:
    if not value.isdigit() or len(value) > 18:
        raise _bad(field, "Enter a whole number.")
    return int(value)


def _between(
    visits: QuerySet[Appointment], day_from: datetime.date | None, day_to: datetime.date | None
) -> QuerySet[Appointment]:
    if day_from is not None:
        visits = visits.filter(start__gte=day_bounds(day_from, day_from)[0])
    if day_to is not None:
        visits = visits.filter(start__lt=day_bounds(day_to, day_to)[1])
    return visits


def _visit(request: Request, pk: int) -> Appointment:
    return get_object_or_404(appointments_visible_to(acting_user(request)), pk=pk)


class AppointmentDetailView(GenericAPIView):
    """``GET /api/v1/appointments/{id}/``; ``PATCH`` with ``start`` (and ``staff`` or ``lines``) moves it."""

    permission_classes = [HasRolePermission]
    required_permission = "book_appointments"
    serializer_class = AppointmentSerializer

    def get(self, request: Request, pk: int) -> Response:
        return Response(AppointmentSerializer(_visit(request, pk)).data)

    @extend_schema(request=AppointmentMoveSerializer, responses=AppointmentSerializer)
    def patch(self, request: Request, pk: int) -> Response:
        visit = _visit(request, pk)
        data = AppointmentMoveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        lines: list[booking.LineRequest] | None = None
        if values.get("lines"):
            lines = _line_requests(values)
        elif "staff" in values:
            staff = _staff(values["staff"])
            lines = [booking.LineRequest(line.service, staff, line.is_requested) for line in visit.lines.all()]
        moved = booking.appointment_reschedule(
            appointment=visit, start=_local_start(values["start"]), lines=lines, acting_user=acting_user(request)
        )
        return Response(AppointmentSerializer(_reloaded(moved)).data)


def _action(name: str, call: Callable[..., Appointment], *, own_lines: bool = False) -> type[GenericAPIView]:
    class ActionView(GenericAPIView):
        permission_classes = [HasRolePermission]
        # Starting and finishing (上钟/下钟) are open to technicians; the service checks it is their visit.
        required_permission = None if own_lines else "book_appointments"
        serializer_class = AppointmentSerializer

        @extend_schema(
            request=CancelSerializer if name == "cancel" else None, responses=AppointmentSerializer, operation_id=None
        )
        def post(self, request: Request, pk: int) -> Response:
            user = acting_user(request)
            if own_lines and not (user.has_perm(perm("book_appointments")) or user.has_perm(perm("view_own_schedule"))):
                raise PermissionDenied
            visit = _visit(request, pk)
            kwargs: dict[str, Any] = {}
            if name == "cancel":
                data = CancelSerializer(data=request.data)
                data.is_valid(raise_exception=True)
                kwargs["reason"] = data.validated_data["reason"]
            moved = call(appointment=visit, acting_user=user, **kwargs)
            return Response(AppointmentSerializer(_reloaded(moved)).data)

    ActionView.__name__ = ActionView.__qualname__ = f"Appointment{name.title().replace('-', '')}View"
    ActionView.__doc__ = f"``POST /api/v1/appointments/{{id}}/{name}/``"
    return ActionView


AppointmentConfirmView = _action("confirm", booking.appointment_confirm)
AppointmentArriveView = _action("arrive", booking.appointment_arrive)
AppointmentStartView = _action("start", booking.appointment_start, own_lines=True)
AppointmentFinishView = _action("finish", booking.appointment_finish, own_lines=True)
AppointmentCancelView = _action("cancel", booking.appointment_cancel)
AppointmentNoShowView = _action("no-show", booking.appointment_no_show)


class BookingProfileSerializer(serializers.Serializer):
    client = serializers.IntegerField(source="client_id", read_only=True)
    no_show_count = serializers.IntegerField(read_only=True)
    late_cancel_count = serializers.IntegerField(read_only=True)
    is_blocked = serializers.BooleanField(required=False)
    blocked_reason = serializers.CharField(required=False, allow_blank=True, max_length=200)
    blocked_at = serializers.DateTimeField(read_only=True, allow_null=True)
    requires_deposit = serializers.BooleanField(required=False)


class BookingProfileView(GenericAPIView):
    """``GET/PATCH /api/v1/clients/{id}/booking-profile/``: no-shows, late cancellations, the block list
    and the "always take a deposit" flag (changing them needs ``manage_clients``)."""

    permission_classes = [HasRolePermission]
    read_permission = "book_appointments"
    required_permission = "manage_clients"
    serializer_class = BookingProfileSerializer

    def get(self, request: Request, pk: int) -> Response:
        client = get_object_or_404(Client, pk=pk)
        profile = ClientBookingProfile.objects.filter(client=client).first() or ClientBookingProfile(client=client)
        return Response(BookingProfileSerializer(profile).data)

    def patch(self, request: Request, pk: int) -> Response:
        client = get_object_or_404(Client, pk=pk)
        data = BookingProfileSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        profile = booking.client_booking_profile_update(
            client=client, acting_user=acting_user(request), **data.validated_data
        )
        return Response(BookingProfileSerializer(profile).data)
