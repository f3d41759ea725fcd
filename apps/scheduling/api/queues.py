"""The waitlist (SCH-9), the walk-in queue and the rotation (SCH-11) through the API. Thin: check the
shape, call one service, serialise. Everything needs ``book_appointments``, reads included."""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.db import salon_today
from apps.core.models import Location, User
from apps.core.permissions import HasRolePermission, acting_user
from apps.crm.models import Client
from apps.scheduling.errors import MESSAGES, SchedulingError
from apps.scheduling.models import RotationEntry, WaitlistStatus, WalkIn, WalkInStatus
from apps.scheduling.selectors import queues as selectors
from apps.scheduling.services import rotation, waitlist, walkins
from apps.scheduling.services.queue_common import services_checked

# --- output ---------------------------------------------------------------------------------------


class OfferSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    staff = serializers.ListField(child=serializers.IntegerField(), source="staff_ids")
    status = serializers.CharField()
    expires_at = serializers.DateTimeField()
    answered_at = serializers.DateTimeField(allow_null=True)


class WaitlistEntrySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    client = serializers.IntegerField(source="client_id")
    client_name = serializers.CharField(source="client.name")
    location = serializers.IntegerField(source="location_id")
    services = serializers.ListField(child=serializers.IntegerField(), source="service_ids")
    staff = serializers.IntegerField(source="staff_id", allow_null=True)
    date = serializers.DateField()
    earliest = serializers.TimeField(format="%H:%M")
    latest = serializers.TimeField(format="%H:%M")
    status = serializers.CharField()
    appointment = serializers.IntegerField(source="appointment_id", allow_null=True)
    notes = serializers.CharField()
    created_at = serializers.DateTimeField()
    offers = OfferSerializer(source="offers.all", many=True)


class WalkInSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    location = serializers.IntegerField(source="location_id")
    client = serializers.IntegerField(source="client_id", allow_null=True)
    name = serializers.CharField()
    services = serializers.ListField(child=serializers.IntegerField(), source="service_ids")
    requested_staff = serializers.IntegerField(source="requested_staff_id", allow_null=True)
    status = serializers.CharField()
    assigned_staff = serializers.IntegerField(source="assigned_staff_id", allow_null=True)
    appointment = serializers.IntegerField(source="appointment_id", allow_null=True)
    created_at = serializers.DateTimeField()
    assigned_at = serializers.DateTimeField(allow_null=True)


class RotationCardSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    staff = serializers.IntegerField(source="staff_id")
    staff_name = serializers.CharField(source="staff.name")
    position = serializers.IntegerField()
    status = serializers.CharField()
    turns = serializers.IntegerField()
    requested_turns = serializers.IntegerField()
    skips = serializers.IntegerField()


# --- input ----------------------------------------------------------------------------------------


class WaitlistCreateSerializer(serializers.Serializer):
    client = serializers.IntegerField(min_value=1, max_value=2**62)
    location = serializers.IntegerField(min_value=1, max_value=2**62, required=False)
    services = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=2**62), max_length=10)
    staff = serializers.IntegerField(min_value=1, max_value=2**62, required=False, allow_null=True)
    date = serializers.DateField()
    earliest = serializers.TimeField()
    latest = serializers.TimeField()
    notes = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")


class WalkInCreateSerializer(serializers.Serializer):
    client = serializers.IntegerField(min_value=1, max_value=2**62, required=False, allow_null=True)
    name = serializers.CharField(required=False, allow_blank=True, max_length=100, default="")
    location = serializers.IntegerField(min_value=1, max_value=2**62, required=False)
    services = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=2**62), max_length=10)
    requested_staff = serializers.IntegerField(min_value=1, max_value=2**62, required=False, allow_null=True)


class AssignSerializer(serializers.Serializer):
    staff = serializers.IntegerField(
        min_value=1, max_value=2**62, required=False, allow_null=True, help_text="A technician chosen by hand"
    )
    requested = serializers.BooleanField(
        required=False, default=False, help_text="Give the walk-in the technician they asked for (点钟)"
    )


class SkipSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")


class RotationDaySerializer(serializers.Serializer):
    location = serializers.IntegerField(min_value=1, max_value=2**62, required=False)
    date = serializers.DateField(required=False)
    staff = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**62), required=False, max_length=200
    )


def _bad(field: str, message: Any) -> serializers.ValidationError:
    return serializers.ValidationError({field: [str(message)]})


def _location(pk: Any) -> Location:
    if pk not in (None, ""):
        try:
            found = Location.objects.filter(pk=int(pk)).first()
        except (TypeError, ValueError):
            found = None
        if found is None:
            raise _bad("location", "This location does not exist.")
        return found
    found = Location.objects.filter(is_active=True).order_by("pk").first()
    if found is None:
        raise _bad("location", "This location does not exist.")
    return found


def _client(pk: int | None) -> Client | None:
    if pk is None:
        return None
    found = Client.objects.filter(pk=pk, is_active=True).first()
    if found is None:
        raise _bad("client", "This client does not exist.")
    return found


def _staff(pk: int | None, field: str = "staff") -> User | None:
    if pk is None:
        return None
    found = User.objects.filter(pk=pk).first()
    if found is None:
        raise _bad(field, MESSAGES[SchedulingError.UNKNOWN_STAFF])
    return found


def _date(value: Any, field: str = "date") -> datetime.date:
    if value in (None, ""):
        return salon_today()
    try:
        return datetime.date.fromisoformat(str(value))
    except ValueError as exc:
        raise _bad(field, "Enter a date as YYYY-MM-DD.") from exc


class _QueueView(GenericAPIView):
    permission_classes = [HasRolePermission]
    required_permission = "book_appointments"
    read_permission = "book_appointments"


# --- waitlist -------------------------------------------------------------------------------------


class WaitlistListView(_QueueView):
    """``GET /api/v1/waitlist/`` (filters ``location``, ``date``, ``status``, ``client``) and ``POST`` to put
    a client on the waitlist."""

    serializer_class = WaitlistEntrySerializer

    @extend_schema(
        parameters=[
            OpenApiParameter("location", int),
            OpenApiParameter("date", str, description="YYYY-MM-DD"),
            OpenApiParameter("status", str, enum=list(WaitlistStatus.values)),
            OpenApiParameter("client", int),
        ],
        responses=WaitlistEntrySerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        entries = selectors.waitlist_entries(
            location=_location(params["location"]) if params.get("location") else None,
            date=_date(params["date"]) if params.get("date") else None,
        )
        if params.get("status") in WaitlistStatus.values:
            entries = entries.filter(status=params["status"])
        if str(params.get("client", "")).isdigit():
            entries = entries.filter(client_id=int(params["client"]))
        page = self.paginate_queryset(entries)
        return self.get_paginated_response(WaitlistEntrySerializer(page, many=True).data)

    @extend_schema(request=WaitlistCreateSerializer, responses={201: WaitlistEntrySerializer})
    def post(self, request: Request) -> Response:
        data = WaitlistCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        entry = waitlist.waitlist_join(
            client=_client(v["client"]),  # type: ignore[arg-type]
            location=_location(v.get("location")),
            services=v["services"],
            date=v["date"],
            earliest=v["earliest"],
            latest=v["latest"],
            staff=_staff(v.get("staff")),
            notes=v["notes"],
            acting_user=acting_user(request),
        )
        return Response(
            WaitlistEntrySerializer(selectors.waitlist_entries().get(pk=entry.pk)).data, status=status.HTTP_201_CREATED
        )


class WaitlistDetailView(_QueueView):
    """``GET`` one entry with its offers; ``DELETE`` takes the client off the waitlist (the entry stays,
    cancelled)."""

    serializer_class = WaitlistEntrySerializer

    def get_queryset(self) -> QuerySet[Any]:
        return selectors.waitlist_entries()

    def get(self, request: Request, pk: int) -> Response:
        return Response(WaitlistEntrySerializer(self.get_object()).data)

    def delete(self, request: Request, pk: int) -> Response:
        waitlist.waitlist_cancel(entry=self.get_object(), acting_user=acting_user(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- walk-ins -------------------------------------------------------------------------------------


class WalkInListView(_QueueView):
    """``GET /api/v1/walk-ins/`` (``location``; ``date``, default today: those still waiting and those of
    that day) and ``POST`` to add one to the queue."""

    serializer_class = WalkInSerializer

    @extend_schema(
        parameters=[
            OpenApiParameter("location", int),
            OpenApiParameter("date", str, description="YYYY-MM-DD"),
            OpenApiParameter("status", str, enum=list(WalkInStatus.values)),
        ],
        responses=WalkInSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        queue = selectors.walk_in_queue(location=_location(params.get("location")), day=_date(params.get("date")))
        if params.get("status") in WalkInStatus.values:
            queue = queue.filter(status=params["status"])
        page = self.paginate_queryset(queue)
        return self.get_paginated_response(WalkInSerializer(page, many=True).data)

    @extend_schema(request=WalkInCreateSerializer, responses={201: WalkInSerializer})
    def post(self, request: Request) -> Response:
        data = WalkInCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        walk_in = walkins.walk_in_add(
            location=_location(v.get("location")),
            services=v["services"],
            client=_client(v.get("client")),
            name=v["name"],
            requested_staff=_staff(v.get("requested_staff"), "requested_staff"),
            acting_user=acting_user(request),
        )
        return Response(WalkInSerializer(walk_in).data, status=status.HTTP_201_CREATED)


class WalkInAssignView(_QueueView):
    """``POST /api/v1/walk-ins/{id}/assign/``: ``{}`` gives the next technician by rotation,
    ``{"requested": true}`` the one the client asked for, ``{"staff": id}`` one chosen by hand. Books a
    visit from now; a collision is 409."""

    serializer_class = WalkInSerializer

    @extend_schema(request=AssignSerializer, responses=WalkInSerializer)
    def post(self, request: Request, pk: int) -> Response:
        walk_in = get_object_or_404(WalkIn.objects.select_related("requested_staff"), pk=pk)
        data = AssignSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        staff = _staff(v.get("staff"))
        if v["requested"]:
            if walk_in.requested_staff is None:
                raise _bad("requested", "This walk-in asked for nobody.")
            staff = walk_in.requested_staff
        done = walkins.walk_in_assign(walk_in=walk_in, staff=staff, acting_user=acting_user(request))
        return Response(WalkInSerializer(done).data)


class WalkInLeaveView(_QueueView):
    """``POST /api/v1/walk-ins/{id}/left/``: the walk-in left before being served."""

    serializer_class = WalkInSerializer

    @extend_schema(request=None, responses=WalkInSerializer)
    def post(self, request: Request, pk: int) -> Response:
        walk_in = get_object_or_404(WalkIn, pk=pk)
        return Response(WalkInSerializer(walkins.walk_in_leave(walk_in=walk_in, acting_user=acting_user(request))).data)


# --- rotation -------------------------------------------------------------------------------------


def _rotation_body(location: Location, day: datetime.date, cards: list[RotationEntry], nxt: Any) -> dict[str, Any]:
    return {
        "location": location.pk,
        "date": day.isoformat(),
        "next": RotationCardSerializer(nxt).data if nxt is not None else None,
        "cards": RotationCardSerializer(cards, many=True).data,
    }


class RotationView(_QueueView):
    """``GET /api/v1/rotation/?location=&date=[&service=…]``: the day's cards in order, and with
    ``service`` (repeatable, in visit order) who is next for those services now. ``POST`` builds the
    day's rotation from the roster (``staff``: an order to start with); safe to repeat."""

    serializer_class = RotationCardSerializer
    pagination_class = None

    @extend_schema(
        parameters=[
            OpenApiParameter("location", int),
            OpenApiParameter("date", str, description="YYYY-MM-DD, default today"),
            OpenApiParameter("service", int, many=True),
        ]
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        location, day = _location(params.get("location")), _date(params.get("date"))
        cards = rotation.rotation_cards(location=location, date=day)
        service_ids = [int(v) for v in params.getlist("service") if v.isdigit()]
        nxt = None
        if service_ids:
            nxt = rotation.rotation_next(location=location, services=services_checked(service_ids))
        return Response(_rotation_body(location, day, cards, nxt))

    @extend_schema(request=RotationDaySerializer)
    def post(self, request: Request) -> Response:
        data = RotationDaySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        location, day = _location(v.get("location")), v.get("date") or salon_today()
        order = [_staff(pk) for pk in v["staff"]] if "staff" in v else None
        cards = rotation.rotation_build(
            location=location,
            date=day,
            staff_order=order,  # type: ignore[arg-type]
            acting_user=acting_user(request),
        )
        return Response(_rotation_body(location, day, cards, None))


class RotationReorderView(_QueueView):
    """``POST /api/v1/rotation/reorder/`` ``{location, date, staff: [ids first to last]}``."""

    serializer_class = RotationCardSerializer

    @extend_schema(request=RotationDaySerializer)
    def post(self, request: Request) -> Response:
        data = RotationDaySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        if "staff" not in v:
            raise _bad("staff", "Give the technicians in their new order.")
        location, day = _location(v.get("location")), v.get("date") or salon_today()
        cards = rotation.rotation_reorder(
            location=location, date=day, staff_order=v["staff"], acting_user=acting_user(request)
        )
        return Response(_rotation_body(location, day, cards, None))


class RotationCardActionView(_QueueView):
    """``POST /api/v1/rotation/{card}/skip/`` (``{"reason"}``), ``…/away/``, ``…/back/``."""

    serializer_class = RotationCardSerializer
    card_action = ""

    @extend_schema(request=SkipSerializer, responses=RotationCardSerializer)
    def post(self, request: Request, pk: int) -> Response:
        card = get_object_or_404(RotationEntry.objects.select_related("location", "staff"), pk=pk)
        user = acting_user(request)
        if self.card_action == "skip":
            data = SkipSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            card = rotation.rotation_skip(card=card, reason=data.validated_data["reason"], acting_user=user)
        elif self.card_action == "away":
            card = rotation.rotation_away(card=card, acting_user=user)
        else:
            card = rotation.rotation_back(card=card, acting_user=user)
        return Response(RotationCardSerializer(RotationEntry.objects.select_related("staff").get(pk=card.pk)).data)
