"""Course cards through the API (LOY-5): a client's cards and the sale of one, a card with its balances
and redemption history, redeeming one session (with the client's code when the salon requires it),
giving a session back, voiding and extending a card."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from apps.catalog.models import CourseCardTemplate, Service
from apps.core.models import Location, User
from apps.core.permissions import HasRolePermission, acting_user
from apps.loyalty import selectors_courses as selectors
from apps.loyalty.api.wallets import CourseCardBalanceSerializer
from apps.loyalty.models import CourseCard, CourseRedemption
from apps.loyalty.selectors import member_client
from apps.loyalty.services import courses as course_services
from apps.loyalty.services._common import Verification, redemption_code_check


class CourseRedemptionSerializer(serializers.ModelSerializer):
    service = serializers.IntegerField(source="balance.service_id", read_only=True)
    service_name = serializers.CharField(source="balance.service.name", read_only=True)

    class Meta:
        model = CourseRedemption
        fields = [
            "id",
            "card",
            "service",
            "service_name",
            "sessions",
            "sessions_left_after",
            "staff",
            "location",
            "reference",
            "reverses",
            "actor",
            "created_at",
        ]


class CourseCardSerializer(serializers.ModelSerializer):
    balances = CourseCardBalanceSerializer(many=True, read_only=True)

    class Meta:
        model = CourseCard
        fields = [
            "id",
            "client",
            "template",
            "package",
            "name",
            "price",
            "sold_at",
            "expires_on",
            "status",
            "reference",
            "balances",
        ]


class CourseCardDetailSerializer(CourseCardSerializer):
    redemptions = CourseRedemptionSerializer(many=True, read_only=True)

    class Meta(CourseCardSerializer.Meta):
        fields = [*CourseCardSerializer.Meta.fields, "redemptions"]


class SaleSerializer(serializers.Serializer):
    template = serializers.PrimaryKeyRelatedField(queryset=CourseCardTemplate.objects.all())
    idempotency_key = serializers.CharField(max_length=90)
    reference = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    price = serializers.IntegerField(
        required=False, allow_null=True, default=None, help_text="Paid (fen); the template's price by default"
    )


class ClientCourseCardsView(GenericAPIView):
    """``/api/v1/clients/{id}/course-cards/``: the client's cards, active first (``take_payments``); POST
    sells one from a template (the till records the payment itself)."""

    permission_classes = [HasRolePermission]
    read_permission = "take_payments"
    required_permission = "take_payments"
    serializer_class = SaleSerializer

    @extend_schema(responses=CourseCardSerializer(many=True))
    def get(self, request: Request, pk: int) -> Response:
        page = self.paginate_queryset(selectors.course_cards_of(member_client(pk)))
        return self.get_paginated_response(CourseCardSerializer(page, many=True).data)

    @extend_schema(responses={201: CourseCardSerializer})
    def post(self, request: Request, pk: int) -> Response:
        client = member_client(pk)
        data = SaleSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        card = course_services.course_card_sell(client=client, acting_user=acting_user(request), **data.validated_data)
        return Response(CourseCardSerializer(selectors.course_card(card.pk)).data, status=status.HTTP_201_CREATED)


def _card(pk: int) -> CourseCard:
    return get_object_or_404(CourseCard.objects.select_related("client"), pk=pk)


class CourseCardDetailView(GenericAPIView):
    """``GET /api/v1/course-cards/{id}/``: the card, its sessions left per service and every session used
    or given back, newest first."""

    permission_classes = [HasRolePermission]
    read_permission = "take_payments"
    serializer_class = CourseCardDetailSerializer

    def get(self, request: Request, pk: int) -> Response:
        card = get_object_or_404(selectors.course_card_with_history(), pk=pk)
        return Response(CourseCardDetailSerializer(card).data)


class RedeemSerializer(serializers.Serializer):
    service = serializers.PrimaryKeyRelatedField(queryset=Service.objects.all())
    idempotency_key = serializers.CharField(max_length=90)
    reference = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    staff = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), required=False, allow_null=True, default=None
    )
    location = serializers.PrimaryKeyRelatedField(
        queryset=Location.objects.all(), required=False, allow_null=True, default=None
    )
    code = serializers.CharField(max_length=12, required=False, allow_blank=True, default="")
    override_reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class CourseCardRedeemView(GenericAPIView):
    """``POST /api/v1/course-cards/{id}/redeem/``: use one session of ``service``. When the salon requires
    a code, send the client's ``code`` (checked, and used up, before the session is taken) or, as a
    manager, an ``override_reason``. Repeating a request with the same ``idempotency_key`` returns the
    first redemption."""

    permission_classes = [HasRolePermission]
    required_permission = "take_payments"
    serializer_class = RedeemSerializer

    @extend_schema(responses={201: CourseRedemptionSerializer})
    def post(self, request: Request, pk: int) -> Response:
        card = _card(pk)
        data = RedeemSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        code, override = values.pop("code").strip(), values.pop("override_reason").strip()
        verification = Verification(override_reason=override)
        # A replay takes nothing, so it needs no second code (the first one was used up).
        replay = CourseRedemption.objects.filter(card=card, idempotency_key=values["idempotency_key"]).exists()
        if code and not replay:
            verification = redemption_code_check(client=card.client, code=code)
        redemption = course_services.course_session_redeem(
            card=card, acting_user=acting_user(request), verification=verification, **values
        )
        return Response(CourseRedemptionSerializer(redemption).data, status=status.HTTP_201_CREATED)


class ReverseSerializer(serializers.Serializer):
    idempotency_key = serializers.CharField(max_length=90)
    reference = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")


class CourseRedemptionReverseView(GenericAPIView):
    """``POST /api/v1/course-redemptions/{id}/reverse/``: give the session back to the card, once
    (``issue_refunds``)."""

    permission_classes = [HasRolePermission]
    required_permission = "issue_refunds"
    serializer_class = ReverseSerializer

    @extend_schema(responses={201: CourseRedemptionSerializer})
    def post(self, request: Request, pk: int) -> Response:
        redemption = get_object_or_404(CourseRedemption, pk=pk)
        data = ReverseSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        reversal = course_services.course_session_reverse(
            redemption=redemption, acting_user=acting_user(request), **data.validated_data
        )
        return Response(CourseRedemptionSerializer(reversal).data, status=status.HTTP_201_CREATED)


class VoidSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200)


class CourseCardVoidView(GenericAPIView):
    """``POST /api/v1/course-cards/{id}/void/``: cancel the card (``issue_refunds``; audited)."""

    permission_classes = [HasRolePermission]
    required_permission = "issue_refunds"
    serializer_class = VoidSerializer

    @extend_schema(responses=CourseCardSerializer)
    def post(self, request: Request, pk: int) -> Response:
        data = VoidSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        card = course_services.course_card_void(card=_card(pk), acting_user=acting_user(request), **data.validated_data)
        return Response(CourseCardSerializer(selectors.course_card(card.pk)).data)


class ExtendSerializer(serializers.Serializer):
    expires_on = serializers.DateField()
    reason = serializers.CharField(max_length=200)


class CourseCardExtendView(GenericAPIView):
    """``POST /api/v1/course-cards/{id}/extend/``: move the expiry later (``adjust_balances``; audited)."""

    permission_classes = [HasRolePermission]
    required_permission = "adjust_balances"
    serializer_class = ExtendSerializer

    @extend_schema(responses=CourseCardSerializer)
    def post(self, request: Request, pk: int) -> Response:
        data = ExtendSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        card = course_services.course_card_extend(
            card=_card(pk), acting_user=acting_user(request), **data.validated_data
        )
        return Response(CourseCardSerializer(selectors.course_card(card.pk)).data)


urlpatterns = [
    path("clients/<int:pk>/course-cards/", ClientCourseCardsView.as_view(), name="api-client-course-cards"),
    path("course-cards/<int:pk>/", CourseCardDetailView.as_view(), name="api-course-card-detail"),
    path("course-cards/<int:pk>/redeem/", CourseCardRedeemView.as_view(), name="api-course-card-redeem"),
    path("course-cards/<int:pk>/void/", CourseCardVoidView.as_view(), name="api-course-card-void"),
    path("course-cards/<int:pk>/extend/", CourseCardExtendView.as_view(), name="api-course-card-extend"),
    path(
        "course-redemptions/<int:pk>/reverse/",
        CourseRedemptionReverseView.as_view(),
        name="api-course-redemption-reverse",
    ),
]
