"""Resources through the API (SCH-3): resource types, rooms/beds/devices with their live status, the
booking rule of a service and the salon's booking settings. Thin: check the shape, call one service,
serialise."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from rest_framework import generics, serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from apps.catalog.models import Service
from apps.core.models import Location
from apps.core.permissions import HasRolePermission, acting_user
from apps.core.roles import perm
from apps.scheduling.models import Resource, ResourceStatus, ResourceType, SchedulingSettings, ServiceBookingRule
from apps.scheduling.selectors.settings import scheduling_settings
from apps.scheduling.services import resources as resource_services
from apps.scheduling.services import settings as settings_services


class ResourceTypeSerializer(serializers.ModelSerializer):
    name = serializers.CharField(max_length=200)
    is_active = serializers.BooleanField(required=False)

    class Meta:
        model = ResourceType
        fields = ["id", "name", "is_active"]
        read_only_fields = ["id"]


class ResourceTypeListView(generics.ListCreateAPIView):
    """``/api/v1/resource-types/``: kinds of resource (美容房, 洗头床, 仪器 …). Anyone signed in reads;
    ``manage_schedule`` adds. Names are unique whatever their case."""

    permission_classes = [HasRolePermission]
    required_permission = "manage_schedule"
    serializer_class = ResourceTypeSerializer
    queryset = ResourceType.objects.order_by("name", "pk")

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = self.get_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        row = resource_services.resource_type_create(name=data.validated_data["name"], acting_user=acting_user(request))
        return Response(self.get_serializer(row).data, status=status.HTTP_201_CREATED)


class ResourceTypeDetailView(generics.RetrieveUpdateAPIView):
    """One resource type: PATCH ``name`` or ``is_active`` (false takes it out of use; nothing is deleted)."""

    permission_classes = [HasRolePermission]
    required_permission = "manage_schedule"
    serializer_class = ResourceTypeSerializer
    queryset = ResourceType.objects.all()
    http_method_names = ["get", "patch", "head", "options"]

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        row = self.get_object()
        data = self.get_serializer(row, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        row = resource_services.resource_type_update(
            resource_type=row, acting_user=acting_user(request), **data.validated_data
        )
        return Response(self.get_serializer(row).data)


class ResourceSerializer(serializers.ModelSerializer):
    location = serializers.PrimaryKeyRelatedField(queryset=Location.objects.all())
    resource_type = serializers.PrimaryKeyRelatedField(queryset=ResourceType.objects.all())
    name = serializers.CharField(max_length=200)
    capacity = serializers.IntegerField(required=False, default=1, help_text="Clients at the same time, 1 to 50")
    sort_order = serializers.IntegerField(required=False, default=0)
    is_active = serializers.BooleanField(required=False)
    status = serializers.ChoiceField(choices=ResourceStatus.choices, required=False)

    class Meta:
        model = Resource
        fields = [
            "id",
            "location",
            "resource_type",
            "name",
            "capacity",
            "sort_order",
            "is_active",
            "status",
            "status_changed_at",
        ]
        read_only_fields = ["id", "status_changed_at"]


class ResourceListView(generics.ListCreateAPIView):
    """``/api/v1/resources/``: rooms, beds, chairs and devices with their live status (``?location=``,
    ``?is_active=true|false``). Anyone signed in reads; ``manage_schedule`` adds."""

    permission_classes = [HasRolePermission]
    required_permission = "manage_schedule"
    serializer_class = ResourceSerializer

    def get_queryset(self) -> QuerySet[Resource]:
        rows = Resource.objects.order_by("location_id", "sort_order", "name", "pk")
        params = self.request.query_params
        if params.get("location", "").isdigit():
            rows = rows.filter(location_id=int(params["location"]))
        active = params.get("is_active", "").lower()
        if active in ("true", "1", "false", "0"):
            rows = rows.filter(is_active=active in ("true", "1"))
        return rows

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = self.get_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        row = resource_services.resource_create(
            location=v["location"],
            resource_type=v["resource_type"],
            name=v["name"],
            capacity=v["capacity"],
            sort_order=v["sort_order"],
            acting_user=acting_user(request),
        )
        return Response(self.get_serializer(row).data, status=status.HTTP_201_CREATED)


class ResourceDetailView(generics.RetrieveUpdateAPIView):
    """One resource. PATCH ``status`` alone (free / occupied / to_clean) is day-board work
    (``book_appointments``); changing anything else needs ``manage_schedule``. The location is fixed."""

    permission_classes = [HasRolePermission]
    required_permission = "book_appointments"
    serializer_class = ResourceSerializer
    queryset = Resource.objects.all()
    http_method_names = ["get", "patch", "head", "options"]

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        row = self.get_object()
        data = self.get_serializer(row, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        fields = {k: v for k, v in data.validated_data.items() if k in request.data}
        fields.pop("location", None)
        new_status = fields.pop("status", None)
        user = acting_user(request)
        if fields and not user.has_perm(perm("manage_schedule")):
            raise PermissionDenied
        if fields:
            row = resource_services.resource_update(resource=row, acting_user=user, **fields)
        if new_status is not None:
            row = resource_services.resource_status_set(resource=row, status=new_status, acting_user=user)
        return Response(self.get_serializer(row).data)


class BookingRuleSerializer(serializers.Serializer):
    service = serializers.IntegerField(read_only=True)
    resource_types = serializers.PrimaryKeyRelatedField(
        queryset=ResourceType.objects.all(), many=True, help_text="One place in each is held"
    )
    deposit_amount = serializers.IntegerField(help_text="Fen; 0: no deposit")
    is_online_bookable = serializers.BooleanField()


class ServiceBookingRuleView(generics.GenericAPIView):
    """``/api/v1/services/{id}/booking-rule/``: what a service needs to be booked. GET by anyone signed in
    (a service without a rule needs no resource, no deposit, and can be booked online); PUT sets it
    (``manage_schedule``)."""

    permission_classes = [HasRolePermission]
    required_permission = "manage_schedule"
    serializer_class = BookingRuleSerializer

    @staticmethod
    def _body(service: Service, rule: ServiceBookingRule | None) -> dict[str, Any]:
        return {
            "service": service.pk,
            "resource_types": sorted(rule.resource_types.values_list("pk", flat=True)) if rule else [],
            "deposit_amount": rule.deposit_amount if rule else 0,
            "is_online_bookable": rule.is_online_bookable if rule else True,
        }

    def get(self, request: Request, pk: int) -> Response:
        service = get_object_or_404(Service, pk=pk)
        return Response(self._body(service, ServiceBookingRule.objects.filter(service=service).first()))

    def put(self, request: Request, pk: int) -> Response:
        service = get_object_or_404(Service, pk=pk)
        data = BookingRuleSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        rule = resource_services.service_booking_rule_set(
            service=service, acting_user=acting_user(request), **data.validated_data
        )
        return Response(self._body(service, rule))


class BookingSettingsSerializer(serializers.ModelSerializer):
    reminder_offsets_minutes = serializers.ListField(
        child=serializers.IntegerField(), help_text="Minutes before the visit, at most 5, each 1 to 10080"
    )
    slot_step_minutes = serializers.IntegerField(help_text="5, 10, 15, 20, 30 or 60")

    class Meta:
        model = SchedulingSettings
        fields = [
            "slot_step_minutes",
            "online_min_notice_minutes",
            "online_max_days_ahead",
            "cancellation_window_hours",
            "reminder_offsets_minutes",
            "remind_staff",
            "risky_no_show_count",
            "risky_deposit_amount",
            "no_show_forfeits_deposit",
            "late_cancel_forfeits_deposit",
            "waitlist_offer_minutes",
            "rotation_requested_keeps_turn",
        ]
        # Ranges are the service's to check, with its messages; the model's bounds would only duplicate them.
        extra_kwargs = {
            field: {"min_value": None, "max_value": None}
            for field in (
                "online_min_notice_minutes",
                "online_max_days_ahead",
                "cancellation_window_hours",
                "risky_no_show_count",
                "risky_deposit_amount",
                "waitlist_offer_minutes",
            )
        }


class BookingSettingsView(generics.GenericAPIView):
    """``/api/v1/booking-settings/``: how the salon takes bookings. GET by anyone signed in; PATCH
    (``manage_schedule``) changes the fields given. Money in fen."""

    permission_classes = [HasRolePermission]
    required_permission = "manage_schedule"
    serializer_class = BookingSettingsSerializer

    def get(self, request: Request) -> Response:
        return Response(BookingSettingsSerializer(scheduling_settings()).data)

    def patch(self, request: Request) -> Response:
        data = BookingSettingsSerializer(scheduling_settings(), data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        row = settings_services.scheduling_settings_update(acting_user=acting_user(request), **data.validated_data)
        return Response(BookingSettingsSerializer(row).data)
