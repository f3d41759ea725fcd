"""Signup on the root domain (SPEC §4) and the salon profile on the salon's domain."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.permissions import HasRolePermission, acting_user
from tenants import selectors, services
from tenants.models import Salon


class SignupRequestSerializer(serializers.Serializer):
    salon_name = serializers.CharField()
    subdomain = serializers.CharField()
    owner_name = serializers.CharField()
    owner_email = serializers.CharField()
    owner_phone = serializers.CharField()
    password = serializers.CharField(trim_whitespace=False)


class SignupView(APIView):
    """Create a salon with its subdomain, owner account and a 14-day trial."""

    permission_classes = [AllowAny]
    authentication_classes: list[type] = []
    throttle_scope = "signup"

    @extend_schema(
        request=SignupRequestSerializer,
        responses={
            201: inline_serializer(
                "SignupResponse",
                {
                    "tenant": serializers.CharField(),
                    "url": serializers.URLField(),
                    "trial_ends": serializers.DateField(),
                },
            )
        },
    )
    def post(self, request: Request) -> Response:
        raw = request.data if isinstance(request.data, dict) else {}
        result = services.salon_signup(raw=dict(raw), language=getattr(request, "LANGUAGE_CODE", "zh-hans"))
        return Response(
            {
                "tenant": result.salon.subdomain,
                "url": services.salon_url(
                    result.salon, scheme=request.scheme or "http", port=services.port_from_host(request.get_host())
                ),
                "trial_ends": result.salon.trial_ends.isoformat() if result.salon.trial_ends else None,
            },
            status=status.HTTP_201_CREATED,
        )


class SubdomainCheckView(APIView):
    """Whether a subdomain can be signed up for right now (advisory; signup decides)."""

    permission_classes = [AllowAny]
    authentication_classes: list[type] = []

    @extend_schema(
        parameters=[OpenApiParameter("subdomain", str, required=True)],
        responses=inline_serializer(
            "SubdomainCheck",
            {
                "subdomain": serializers.CharField(),
                "available": serializers.BooleanField(),
                "reason": serializers.CharField(),
            },
        ),
    )
    def get(self, request: Request) -> Response:
        result = selectors.subdomain_availability(request.query_params.get("subdomain", ""))
        return Response({"subdomain": result.subdomain, "available": result.available, "reason": result.reason})


class SalonProfileSerializer(serializers.ModelSerializer):
    class Meta:
        model = Salon
        fields = ["subdomain", "name", "timezone", "currency", "status", "trial_ends", "logo"]
        read_only_fields = ["subdomain", "status", "trial_ends", "logo"]


class SalonProfileView(APIView):
    """The salon's own profile. Changing it needs the owner's manage_settings permission."""

    permission_classes = [HasRolePermission]
    required_permission = "manage_settings"
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema(responses=SalonProfileSerializer)
    def get(self, request: Request) -> Response:
        return Response(SalonProfileSerializer(request.tenant).data)  # type: ignore[attr-defined]

    @extend_schema(request=SalonProfileSerializer, responses=SalonProfileSerializer)
    def patch(self, request: Request) -> Response:
        data = SalonProfileSerializer(request.tenant, data=request.data, partial=True)  # type: ignore[attr-defined]
        data.is_valid(raise_exception=True)
        v = data.validated_data
        salon = services.salon_profile_update(
            salon=request.tenant,
            acting_user=acting_user(request),
            name=v.get("name"),  # type: ignore[attr-defined,arg-type]
            timezone_name=v.get("timezone"),
            currency=v.get("currency"),
            logo=request.FILES.get("logo"),
        )
        return Response(SalonProfileSerializer(salon).data)
