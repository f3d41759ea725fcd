"""Rosters through the API (SCH-2, SPEC §4 ``/api/v1/shifts/``): concrete working periods expanded from
the roster, one-off shifts, weekly patterns and time off. Thin: check the shape, call one service,
serialise."""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.db import salon_timezone, salon_today
from apps.core.models import Location, User
from apps.core.permissions import HasRolePermission, acting_user
from apps.scheduling.errors import SchedulingError, scheduling_error
from apps.scheduling.models import ShiftPattern, TimeOff, TimeOffKind
from apps.scheduling.roster import roster_periods
from apps.scheduling.services import rosters as roster_services

RANGE_DAYS_MAX = 31


class ShiftSerializer(serializers.Serializer):
    staff = serializers.PrimaryKeyRelatedField(queryset=User.objects.all())
    location = serializers.PrimaryKeyRelatedField(queryset=Location.objects.all())
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()


class ShiftOutSerializer(serializers.Serializer):
    staff = serializers.IntegerField()
    location = serializers.IntegerField()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()


class ShiftQuerySerializer(serializers.Serializer):
    date_from = serializers.DateField(required=False)
    to = serializers.DateField(required=False)
    staff = serializers.PrimaryKeyRelatedField(queryset=User.objects.all(), required=False)
    location = serializers.PrimaryKeyRelatedField(queryset=Location.objects.all(), required=False)


class ShiftListView(generics.GenericAPIView):
    """``/api/v1/shifts/``: GET the working periods the roster gives (weekly patterns, replaced on a date
    by that date's exceptions) between ``?from=`` and ``?to=`` (dates, at most 31 days; this week by
    default), optionally of one ``?staff=`` or at one ``?location=``; time off is not taken out. POST
    ``{staff, location, start, end}`` adds a one-off working period on top of that day's hours
    (``manage_schedule``)."""

    permission_classes = [HasRolePermission]
    required_permission = "manage_schedule"
    serializer_class = ShiftSerializer

    @extend_schema(
        parameters=[
            OpenApiParameter("from", datetime.date, description="First date (default: today)"),
            OpenApiParameter("to", datetime.date, description="Last date, at most 31 days after from"),
            OpenApiParameter("staff", int),
            OpenApiParameter("location", int),
        ],
        responses=ShiftOutSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        raw = {key: value for key, value in request.query_params.items() if key in ("to", "staff", "location")}
        if "from" in request.query_params:
            raw["date_from"] = request.query_params["from"]
        query = ShiftQuerySerializer(data=raw)
        if not query.is_valid():
            errors = dict(query.errors)
            if "date_from" in errors:
                errors["from"] = errors.pop("date_from")
            raise serializers.ValidationError(errors)
        params = query.validated_data
        date_from = params.get("date_from") or salon_today()
        date_to = params.get("to") or date_from + datetime.timedelta(days=6)
        if date_to < date_from:
            raise scheduling_error(SchedulingError.END_BEFORE_START, field="to")
        if (date_to - date_from).days >= RANGE_DAYS_MAX:
            raise scheduling_error(SchedulingError.RANGE_TOO_LONG, field="to")
        staff = User.objects.filter(is_active=True)
        if "staff" in params:
            staff = staff.filter(pk=params["staff"].pk)
        location = params.get("location")
        tz = salon_timezone()
        periods = roster_periods(
            staff_ids=list(staff.values_list("pk", flat=True)),
            date_from=date_from,
            date_to=date_to,
            tz=tz,
            location_id=location.pk if location is not None else None,
        )
        rows = sorted(
            (
                {
                    "staff": staff_id,
                    "location": p.location_id,
                    "start": p.start.astimezone(tz),
                    "end": p.end.astimezone(tz),
                }
                for staff_id, found in periods.items()
                for p in found
            ),
            key=lambda row: (row["start"], row["staff"]),
        )
        page = self.paginate_queryset(rows)  # type: ignore[arg-type]
        data = ShiftOutSerializer(page if page is not None else rows, many=True).data
        return self.get_paginated_response(data) if page is not None else Response(data)

    @extend_schema(request=ShiftSerializer, responses={201: ShiftOutSerializer})
    def post(self, request: Request) -> Response:
        data = ShiftSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        roster_services.shift_add(
            staff=v["staff"], location=v["location"], start=v["start"], end=v["end"], acting_user=acting_user(request)
        )
        tz = salon_timezone()
        body = {
            "staff": v["staff"].pk,
            "location": v["location"].pk,
            "start": v["start"].astimezone(tz),
            "end": v["end"].astimezone(tz),
        }
        return Response(ShiftOutSerializer(body).data, status=status.HTTP_201_CREATED)


class ShiftPatternSerializer(serializers.ModelSerializer):
    staff = serializers.PrimaryKeyRelatedField(queryset=User.objects.all())
    location = serializers.PrimaryKeyRelatedField(queryset=Location.objects.all())
    weekday = serializers.IntegerField(help_text="0 is Monday, 6 is Sunday")
    valid_from = serializers.DateField(required=False, help_text="Default: today")

    class Meta:
        model = ShiftPattern
        fields = ["id", "staff", "location", "weekday", "start_time", "end_time", "valid_from", "valid_until"]
        read_only_fields = ["id"]


class ShiftPatternListView(generics.ListCreateAPIView):
    """``/api/v1/shift-patterns/``: weekly working periods (filters ``?staff=``, ``?location=``,
    ``?on=YYYY-MM-DD`` for those in force that date). POST adds one period (``manage_schedule``); it may
    not overlap another period of the person on that weekday, at any location."""

    permission_classes = [HasRolePermission]
    required_permission = "manage_schedule"
    serializer_class = ShiftPatternSerializer

    def get_queryset(self) -> QuerySet[ShiftPattern]:
        rows = ShiftPattern.objects.order_by("staff_id", "weekday", "start_time", "pk")
        params = self.request.query_params
        for key in ("staff", "location"):
            if params.get(key, "").isdigit():
                rows = rows.filter(**{f"{key}_id": int(params[key])})
        try:
            on = datetime.date.fromisoformat(params.get("on", ""))
        except ValueError:
            return rows
        return rows.filter(valid_from__lte=on).exclude(valid_until__lt=on)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = self.get_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        pattern = roster_services.shift_pattern_add(
            staff=v["staff"],
            location=v["location"],
            weekday=v["weekday"],
            start_time=v["start_time"],
            end_time=v["end_time"],
            valid_from=v.get("valid_from") or salon_today(),
            valid_until=v.get("valid_until"),
            acting_user=acting_user(request),
        )
        return Response(self.get_serializer(pattern).data, status=status.HTTP_201_CREATED)


class ShiftPatternDetailView(generics.RetrieveDestroyAPIView):
    """One weekly period. DELETE stops it from today: one already in force ends yesterday (past rosters
    stay as they were), one not started yet is deleted."""

    permission_classes = [HasRolePermission]
    required_permission = "manage_schedule"
    serializer_class = ShiftPatternSerializer
    queryset = ShiftPattern.objects.all()

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        roster_services.shift_pattern_remove(pattern=self.get_object(), acting_user=acting_user(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class TimeOffSerializer(serializers.ModelSerializer):
    staff = serializers.PrimaryKeyRelatedField(queryset=User.objects.all())
    kind = serializers.ChoiceField(choices=TimeOffKind.choices, default=TimeOffKind.LEAVE)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)

    class Meta:
        model = TimeOff
        fields = ["id", "staff", "start", "end", "kind", "note"]
        read_only_fields = ["id"]


class TimeOffListView(generics.ListCreateAPIView):
    """``/api/v1/time-off/``: time off that has not ended (``?staff=``; ``?all=true`` for past ones too),
    read by those who book (``book_appointments``); POST adds (``manage_schedule``)."""

    permission_classes = [HasRolePermission]
    read_permission = "book_appointments"
    required_permission = "manage_schedule"
    serializer_class = TimeOffSerializer

    def get_queryset(self) -> QuerySet[TimeOff]:
        rows = TimeOff.objects.order_by("start", "pk")
        params = self.request.query_params
        if params.get("all", "").lower() not in ("true", "1"):
            rows = rows.filter(end__gt=timezone.now())
        if params.get("staff", "").isdigit():
            rows = rows.filter(staff_id=int(params["staff"]))
        return rows

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = self.get_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        row = roster_services.time_off_add(acting_user=acting_user(request), **data.validated_data)
        return Response(self.get_serializer(row).data, status=status.HTTP_201_CREATED)


class TimeOffDetailView(generics.RetrieveDestroyAPIView):
    permission_classes = [HasRolePermission]
    read_permission = "book_appointments"
    required_permission = "manage_schedule"
    serializer_class = TimeOffSerializer
    queryset = TimeOff.objects.all()

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        roster_services.time_off_delete(time_off=self.get_object(), acting_user=acting_user(request))
        return Response(status=status.HTTP_204_NO_CONTENT)
