"""REST API of the core app (SPEC §4). Thin: validate shape, call a service, serialise."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core import services
from apps.core.db import current_schema
from apps.core.models import Location, User
from apps.core.permissions import HasRolePermission, acting_user
from apps.core.roles import Role


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(help_text="Username, e-mail or phone")
    password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False)


class TokenView(APIView):
    """Exchange a staff member's credentials for a Bearer token valid on this salon's domain only."""

    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []
    throttle_scope = "auth"

    @extend_schema(
        request=TokenRequestSerializer, responses=inline_serializer("TokenResponse", {"token": serializers.CharField()})
    )
    def post(self, request: Request) -> Response:
        data = TokenRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = authenticate(
            request._request, username=data.validated_data["username"], password=data.validated_data["password"]
        )
        if user is None:
            return Response(
                {"non_field_errors": [_("Unable to sign in with these credentials.")]},
                status=status.HTTP_400_BAD_REQUEST,
            )
        token, _created = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})


class MetaView(APIView):
    """Which salon this address serves, its time zone and currency, and the server time."""

    permission_classes = [AllowAny]

    @extend_schema(
        responses=inline_serializer(
            "Meta",
            {
                "api_version": serializers.CharField(),
                "salon": serializers.CharField(allow_null=True),
                "timezone": serializers.CharField(),
                "currency": serializers.CharField(),
                "server_time": serializers.DateTimeField(),
            },
        )
    )
    def get(self, request: Request) -> Response:
        tenant = request.tenant  # type: ignore[attr-defined]
        public = getattr(tenant, "is_public", False)
        return Response(
            {
                "api_version": "v1",
                "salon": None if public else tenant.subdomain,
                "timezone": tenant.timezone,
                "currency": tenant.currency,
                "server_time": timezone.now().isoformat(),
                "schema_ready": current_schema() == tenant.schema_name,
                "languages": [code for code, _name in settings.LANGUAGES],
            }
        )


class LocationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Location
        fields = ["id", "name", "address", "phone", "is_active"]
        read_only_fields = ["id"]


class StaffSerializer(serializers.ModelSerializer):
    locations = serializers.PrimaryKeyRelatedField(many=True, queryset=Location.objects.all(), required=False)
    role = serializers.ChoiceField(choices=Role.choices)
    password = serializers.CharField(write_only=True, required=False, trim_whitespace=False)

    class Meta:
        model = User
        fields = ["id", "username", "name", "email", "phone", "role", "language", "locations", "is_active", "password"]
        read_only_fields = ["id", "username", "language", "is_active"]


class MeView(APIView):
    @extend_schema(responses=StaffSerializer)
    def get(self, request: Request) -> Response:
        body = dict(StaffSerializer(request.user).data)
        body["permissions"] = sorted(
            p.split(".", 1)[1] for p in request.user.get_all_permissions() if p.startswith("core.")
        )
        return Response(body)


class LocationListView(GenericAPIView):
    permission_classes = [HasRolePermission]
    required_permission = "manage_settings"
    serializer_class = LocationSerializer

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return Location.objects.order_by("pk")

    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(LocationSerializer(page, many=True).data)

    def post(self, request: Request) -> Response:
        data = LocationSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        location = services.location_create(
            name=v["name"],
            address=v.get("address", ""),
            phone=v.get("phone", ""),
            acting_user=acting_user(request),
        )  # type: ignore[arg-type]
        return Response(LocationSerializer(location).data, status=status.HTTP_201_CREATED)


class LocationDetailView(GenericAPIView):
    permission_classes = [HasRolePermission]
    required_permission = "manage_settings"
    serializer_class = LocationSerializer

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return Location.objects.all()

    def get(self, request: Request, pk: int) -> Response:
        return Response(LocationSerializer(get_object_or_404(Location, pk=pk)).data)

    def patch(self, request: Request, pk: int) -> Response:
        location = get_object_or_404(Location, pk=pk)
        data = LocationSerializer(location, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        location = services.location_update(
            location=location,
            acting_user=acting_user(request),
            **data.validated_data,
        )
        return Response(LocationSerializer(location).data)
