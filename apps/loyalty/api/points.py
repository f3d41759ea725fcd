"""Points through the API (LOY-2): a client's balance, open lots with their expiry and the ledger;
redemption (behind the salon's redemption-code rule, LOY-8), check-in and adjustments; and sending the
client the one-time code that authorises a deduction."""

from __future__ import annotations

from django.conf import settings
from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.permissions import HasRolePermission, acting_user
from apps.loyalty import selectors, selectors_points
from apps.loyalty.models import PointsEntry, PointsLot
from apps.loyalty.selectors import member_client
from apps.loyalty.services import _common
from apps.loyalty.services import points as points_services


class PointsEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = PointsEntry
        fields = [
            "id",
            "kind",
            "points",
            "balance_after",
            "description",
            "reference",
            "reverses",
            "actor",
            "created_at",
        ]
        read_only_fields = fields


class PointsLotSerializer(serializers.ModelSerializer):
    class Meta:
        model = PointsLot
        fields = ["id", "earned_on", "expires_on", "points", "remaining"]
        read_only_fields = fields


class ClientPointsView(GenericAPIView):
    """``GET /api/v1/clients/{id}/points/``: the balance, the lots with points left (oldest first, with
    their expiry dates), and the ledger, newest first, paginated."""

    permission_classes = [HasRolePermission]
    read_permission = "take_payments"
    serializer_class = PointsEntrySerializer

    @extend_schema(
        responses=inline_serializer(
            "ClientPoints",
            {
                "balance": serializers.IntegerField(),
                "value": serializers.IntegerField(help_text="What the balance takes off a bill (fen)"),
                "lots": PointsLotSerializer(many=True),
                "next_expiry": inline_serializer(
                    "PointsNextExpiry",
                    {"on": serializers.DateField(), "points": serializers.IntegerField()},
                    allow_null=True,
                ),
                "count": serializers.IntegerField(),
                "next": serializers.URLField(allow_null=True),
                "previous": serializers.URLField(allow_null=True),
                "results": PointsEntrySerializer(many=True),
            },
        )
    )
    def get(self, request: Request, pk: int) -> Response:
        client = member_client(pk)
        balance = selectors.account_header(client).points
        page = self.paginate_queryset(selectors_points.points_entries(client))
        ledger = self.get_paginated_response(PointsEntrySerializer(page, many=True).data).data
        lots = list(selectors_points.points_lots_open(client))
        soonest = selectors_points.points_next_expiry(lots)
        return Response(
            {
                "balance": balance,
                "value": points_services.points_value(balance),
                "lots": PointsLotSerializer(lots, many=True).data,
                "next_expiry": {"on": soonest.on, "points": soonest.points} if soonest else None,
                **ledger,
            }
        )


class RedeemSerializer(serializers.Serializer):
    points = serializers.IntegerField()
    description = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        default="",
        help_text="What the points buy: a service, a product, a gift (money off describes itself)",
    )
    idempotency_key = serializers.CharField(max_length=90)
    reference = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    money_off = serializers.BooleanField(
        default=False, help_text="Redeem as money off a bill; the response's value is what to take off (fen)"
    )
    code = serializers.CharField(max_length=12, required=False, allow_blank=True, default="")
    override_reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class RedeemView(GenericAPIView):
    """``POST /api/v1/clients/{id}/points/redeem/``. When the salon requires a code, send one first
    (``POST /api/v1/clients/{id}/redemption-code/``) and pass it as ``code``, or a manager passes
    ``override_reason`` (audited)."""

    permission_classes = [HasRolePermission]
    required_permission = "take_payments"
    serializer_class = RedeemSerializer

    @extend_schema(
        request=RedeemSerializer,
        responses={
            201: inline_serializer(
                "PointsRedemption",
                {
                    "entry": PointsEntrySerializer(),
                    "value": serializers.IntegerField(allow_null=True, help_text="Money off (fen), when money_off"),
                },
            )
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        client = member_client(pk)
        data = RedeemSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        verification = None
        replay = PointsEntry.objects.filter(idempotency_key=values["idempotency_key"]).exists()
        if values["code"].strip() and not replay:
            # Checked (and used up) before the redemption's own transaction, so that a wrong guess stays
            # counted; a replay of a redemption already made needs no new code.
            verification = _common.redemption_code_check(client=client, code=values["code"])
        elif values["override_reason"].strip():
            verification = _common.Verification(override_reason=values["override_reason"])
        common = {
            "client": client,
            "points": values["points"],
            "reference": values["reference"],
            "idempotency_key": values["idempotency_key"],
            "acting_user": acting_user(request),
            "verification": verification,
        }
        if values["money_off"]:
            result = points_services.points_redeem_for_money(**common)
            entry, value = result.entry, result.value
        else:
            entry, value = points_services.points_redeem(description=values["description"], **common), None
        return Response({"entry": PointsEntrySerializer(entry).data, "value": value}, status=status.HTTP_201_CREATED)


class CheckInView(GenericAPIView):
    """``POST /api/v1/clients/{id}/points/check-in/``: the salon's check-in points, once a day (409 after)."""

    permission_classes = [HasRolePermission]
    required_permission = "take_payments"
    serializer_class = PointsEntrySerializer

    @extend_schema(request=None, responses={201: PointsEntrySerializer})
    def post(self, request: Request, pk: int) -> Response:
        entry = points_services.points_check_in(client=member_client(pk), acting_user=acting_user(request))
        return Response(PointsEntrySerializer(entry).data, status=status.HTTP_201_CREATED)


class PointsAdjustSerializer(serializers.Serializer):
    points = serializers.IntegerField(help_text="Negative to take points away")
    reason = serializers.CharField(max_length=200)
    idempotency_key = serializers.CharField(max_length=90)


class PointsAdjustView(GenericAPIView):
    """``POST /api/v1/clients/{id}/points/adjustments/``: a correction by hand (``adjust_balances``), audited."""

    permission_classes = [HasRolePermission]
    required_permission = "adjust_balances"
    serializer_class = PointsAdjustSerializer

    @extend_schema(request=PointsAdjustSerializer, responses={201: PointsEntrySerializer})
    def post(self, request: Request, pk: int) -> Response:
        client = member_client(pk)
        data = PointsAdjustSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        entry = points_services.points_adjust(client=client, acting_user=acting_user(request), **data.validated_data)
        return Response(PointsEntrySerializer(entry).data, status=status.HTTP_201_CREATED)


class RedemptionCodeView(GenericAPIView):
    """``POST /api/v1/clients/{id}/redemption-code/``: text the client a one-time code that authorises
    one deduction of stored value, points or course sessions (202; 429 when asked again too soon)."""

    permission_classes = [HasRolePermission]
    required_permission = "take_payments"

    @extend_schema(
        request=None,
        responses={
            202: inline_serializer(
                "RedemptionCodeSent",
                {"detail": serializers.CharField(), "expires_in": serializers.IntegerField(help_text="Seconds")},
            )
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        _common.redemption_code_send(client=member_client(pk))
        return Response(
            {"detail": _("A code was sent to the client's phone."), "expires_in": settings.ONE_TIME_CODE_TTL_SECONDS},
            status=status.HTTP_202_ACCEPTED,
        )


urlpatterns = [
    path("clients/<int:pk>/points/", ClientPointsView.as_view(), name="api-client-points"),
    path("clients/<int:pk>/points/redeem/", RedeemView.as_view(), name="api-client-points-redeem"),
    path("clients/<int:pk>/points/check-in/", CheckInView.as_view(), name="api-client-points-check-in"),
    path("clients/<int:pk>/points/adjustments/", PointsAdjustView.as_view(), name="api-client-points-adjust"),
    path("clients/<int:pk>/redemption-code/", RedemptionCodeView.as_view(), name="api-client-redemption-code"),
]
