"""Member cards through the API (LOY-4): a client's cards and issuing one, a card and its status changes
(loss report, freeze, unfreeze, reissue, cancel), and finding a card by its number (a swipe at the
front desk opens the client)."""

from __future__ import annotations

from typing import Any, ClassVar

from django.shortcuts import get_object_or_404
from django.urls import path
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.permissions import HasRolePermission, acting_user
from apps.loyalty import selectors_cards
from apps.loyalty.models import CardStatus, CardType, MemberCard
from apps.loyalty.selectors import member_client
from apps.loyalty.services import cards as card_services


class MemberCardSerializer(serializers.ModelSerializer):
    client_name = serializers.CharField(source="client.name", read_only=True)

    class Meta:
        model = MemberCard
        fields = [
            "id",
            "client",
            "client_name",
            "number",
            "card_type",
            "status",
            "issued_at",
            "expires_on",
            "status_changed_at",
            "status_reason",
            "replaced_by",
            "issued_by",
        ]
        read_only_fields = fields


class IssueSerializer(serializers.Serializer):
    number = serializers.CharField(
        max_length=64, required=False, allow_blank=True, default="", help_text="Empty: a 10-digit number is generated"
    )
    card_type = serializers.ChoiceField(choices=CardType.choices, default=CardType.PHYSICAL)
    expires_on = serializers.DateField(required=False, allow_null=True, default=None)


class ClientCardsView(GenericAPIView):
    """``/api/v1/clients/{id}/cards/``: the cards the client has held, newest first; POST issues one."""

    permission_classes = [HasRolePermission]
    read_permission = "take_payments"
    required_permission = "take_payments"
    serializer_class = MemberCardSerializer

    def get(self, request: Request, pk: int) -> Response:
        page = self.paginate_queryset(selectors_cards.client_cards(member_client(pk)).select_related("client"))
        return self.get_paginated_response(MemberCardSerializer(page, many=True).data)

    @extend_schema(request=IssueSerializer, responses={201: MemberCardSerializer})
    def post(self, request: Request, pk: int) -> Response:
        client = member_client(pk)
        data = IssueSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        card = card_services.member_card_issue(client=client, acting_user=acting_user(request), **data.validated_data)
        return Response(MemberCardSerializer(card).data, status=status.HTTP_201_CREATED)


class MemberCardListView(GenericAPIView):
    """``GET /api/v1/member-cards/?number=``: the card with that number (as typed or swiped, spaces and
    case ignored), whatever its status, with its client; ``?status=`` lists cards by status."""

    permission_classes = [HasRolePermission]
    read_permission = "take_payments"
    serializer_class = MemberCardSerializer

    @extend_schema(
        parameters=[
            OpenApiParameter("number", str, description="Card number"),
            OpenApiParameter("status", str, enum=CardStatus.values),
        ]
    )
    def get(self, request: Request) -> Response:
        found = selectors_cards.member_cards(
            number=request.query_params.get("number", ""), status=request.query_params.get("status", "")
        )
        page = self.paginate_queryset(found)
        return self.get_paginated_response(MemberCardSerializer(page, many=True).data)


class MemberCardDetailView(GenericAPIView):
    """``GET /api/v1/member-cards/{id}/``."""

    permission_classes = [HasRolePermission]
    read_permission = "take_payments"
    serializer_class = MemberCardSerializer

    def get(self, request: Request, pk: int) -> Response:
        card = get_object_or_404(MemberCard.objects.select_related("client"), pk=pk)
        return Response(MemberCardSerializer(card).data)


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class ReissueSerializer(ReasonSerializer):
    number = serializers.CharField(
        max_length=64, required=False, allow_blank=True, default="", help_text="Empty: a 10-digit number is generated"
    )


class CardChangeView(GenericAPIView):
    """POST a status change of a card; each names its service and the permission it needs."""

    permission_classes = [HasRolePermission]
    serializer_class = ReasonSerializer
    service: ClassVar[Any]
    created = False

    def post(self, request: Request, pk: int) -> Response:
        card = get_object_or_404(MemberCard.objects.select_related("client"), pk=pk)
        data = self.serializer_class(data=request.data)
        data.is_valid(raise_exception=True)
        result = type(self).service(card=card, acting_user=acting_user(request), **data.validated_data)
        return Response(
            MemberCardSerializer(result).data, status=status.HTTP_201_CREATED if self.created else status.HTTP_200_OK
        )


class ReportLostView(CardChangeView):
    """``POST /api/v1/member-cards/{id}/report-lost/`` (挂失): stored value and points are blocked at once."""

    required_permission = "take_payments"
    service = card_services.member_card_report_lost

    @extend_schema(request=ReasonSerializer, responses=MemberCardSerializer)
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)


class FreezeView(CardChangeView):
    """``POST /api/v1/member-cards/{id}/freeze/``."""

    required_permission = "take_payments"
    service = card_services.member_card_freeze

    @extend_schema(request=ReasonSerializer, responses=MemberCardSerializer)
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)


class UnfreezeView(CardChangeView):
    """``POST /api/v1/member-cards/{id}/unfreeze/``: a frozen card, or a lost one found again, is active."""

    required_permission = "manage_loyalty"
    service = card_services.member_card_unfreeze

    @extend_schema(request=ReasonSerializer, responses=MemberCardSerializer)
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)


class ReissueView(CardChangeView):
    """``POST /api/v1/member-cards/{id}/reissue/`` (补办): returns the new card (201); the balance follows it."""

    required_permission = "manage_loyalty"
    serializer_class = ReissueSerializer
    service = card_services.member_card_reissue
    created = True

    @extend_schema(request=ReissueSerializer, responses={201: MemberCardSerializer})
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)


class CancelView(CardChangeView):
    """``POST /api/v1/member-cards/{id}/cancel/``: the client is left without a card."""

    required_permission = "manage_loyalty"
    service = card_services.member_card_cancel

    @extend_schema(request=ReasonSerializer, responses=MemberCardSerializer)
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)


urlpatterns = [
    path("clients/<int:pk>/cards/", ClientCardsView.as_view(), name="api-client-cards"),
    path("member-cards/", MemberCardListView.as_view(), name="api-member-card-list"),
    path("member-cards/<int:pk>/", MemberCardDetailView.as_view(), name="api-member-card-detail"),
    path("member-cards/<int:pk>/report-lost/", ReportLostView.as_view(), name="api-member-card-report-lost"),
    path("member-cards/<int:pk>/freeze/", FreezeView.as_view(), name="api-member-card-freeze"),
    path("member-cards/<int:pk>/unfreeze/", UnfreezeView.as_view(), name="api-member-card-unfreeze"),
    path("member-cards/<int:pk>/reissue/", ReissueView.as_view(), name="api-member-card-reissue"),
    path("member-cards/<int:pk>/cancel/", CancelView.as_view(), name="api-member-card-cancel"),
]
