"""Cash sessions through the API (POS-5). Thin: check the shape, call one service, serialise.

Opening, pay-ins and pay-outs, closing and printing need ``take_payments``. A session's figures (the
handover report) are for those with ``view_reports`` and for the cashier who opened it; the list shows
others only their own sessions."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.models import Location
from apps.core.money import MAX_AMOUNT
from apps.core.permissions import acting_user
from apps.core.roles import perm
from apps.edge.api import PrintJobSerializer
from apps.pos.models import CashMovementKind, CashSession, CashSessionStatus
from apps.pos.selectors import cash as selectors
from apps.pos.services import cash as services

# --- output ---------------------------------------------------------------------------------------


class CashMovementSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    session = serializers.IntegerField(source="session_id")
    kind = serializers.CharField()
    amount = serializers.IntegerField()
    reason = serializers.CharField()
    created_by = serializers.IntegerField(source="created_by_id")
    created_at = serializers.DateTimeField()


class TenderFiguresSerializer(serializers.Serializer):
    method = serializers.CharField()
    count = serializers.IntegerField()
    taken = serializers.IntegerField()
    refunded = serializers.IntegerField()
    expected = serializers.IntegerField()
    counted = serializers.IntegerField(allow_null=True)
    difference = serializers.IntegerField(allow_null=True)


class ReportSerializer(serializers.Serializer):
    opening_float = serializers.IntegerField(source="figures.opening_float")
    cash = TenderFiguresSerializer(source="figures.cash")
    tenders = TenderFiguresSerializer(source="figures.others", many=True, help_text="Tenders other than cash")
    pay_ins = serializers.IntegerField(source="figures.pay_ins")
    pay_outs = serializers.IntegerField(source="figures.pay_outs")
    expected_cash = serializers.IntegerField()
    takings = serializers.IntegerField(source="figures.takings")
    bills_count = serializers.IntegerField(source="figures.bills_count")
    bills_total = serializers.IntegerField(source="figures.bills_total")
    movements = CashMovementSerializer(many=True)


class CashSessionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    location = serializers.IntegerField(source="location_id")
    status = serializers.CharField()
    opening_float = serializers.IntegerField()
    opened_by = serializers.IntegerField(source="opened_by_id")
    opened_at = serializers.DateTimeField()
    opening_note = serializers.CharField()
    closed_by = serializers.IntegerField(source="closed_by_id", allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)
    expected_cash = serializers.IntegerField(allow_null=True, help_text="Kept at closing; null while open")
    counted_cash = serializers.IntegerField(allow_null=True)
    cash_difference = serializers.IntegerField(allow_null=True, help_text="counted − expected")
    closing_note = serializers.CharField()


# --- input ----------------------------------------------------------------------------------------


def _money(**kwargs: Any) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=0, max_value=MAX_AMOUNT, **kwargs)


class OpenSerializer(serializers.Serializer):
    location = serializers.IntegerField(min_value=1, max_value=2**62)
    opening_float = _money(help_text="Cash in the drawer at the start, in fen")
    note = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")
    idempotency_key = serializers.CharField(required=False, allow_blank=True, max_length=120, default="")


class MovementSerializer(serializers.Serializer):
    amount = serializers.IntegerField(min_value=1, max_value=MAX_AMOUNT, help_text="In fen")
    reason = serializers.CharField(max_length=200)
    idempotency_key = serializers.CharField(required=False, allow_blank=True, max_length=120, default="")


class CloseSerializer(serializers.Serializer):
    counted_cash = _money(help_text="Cash counted in the drawer, in fen")
    counted = serializers.DictField(
        child=_money(),
        required=False,
        default=dict,
        help_text='What other tenders\' statements show, by method, e.g. {"wechat": 12800}',
    )
    note = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")


class PrintSerializer(serializers.Serializer):
    copy = serializers.BooleanField(required=False, default=False)
    idempotency_key = serializers.CharField(required=False, allow_blank=True, max_length=120, default="")


# --- views ----------------------------------------------------------------------------------------


class CashPermission(BasePermission):
    """Writes need ``take_payments``; reads ``take_payments`` or ``view_reports``."""

    def has_permission(self, request: Any, view: Any) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        if request.method == "GET":
            return bool(user.has_perm(perm("take_payments")) or user.has_perm(perm("view_reports")))
        return bool(user.has_perm(perm("take_payments")))


def _detail(session: CashSession) -> dict[str, Any]:
    report = selectors.handover_report(session)
    return {**CashSessionSerializer(session).data, "report": ReportSerializer(report).data}


def _location(pk: Any) -> Location:
    location = Location.objects.filter(pk=pk).first()
    if location is None:
        raise serializers.ValidationError({"location": ["This location does not exist."]})
    return location


class _SessionView(GenericAPIView):
    permission_classes = [CashPermission]
    serializer_class: Any = CashSessionSerializer

    def _session(self, pk: int) -> CashSession:
        session = selectors.cash_session(pk)
        if session is None:
            raise Http404
        return session

    def _visible(self, request: Request, pk: int) -> CashSession:
        session = self._session(pk)
        if not selectors.cash_session_visible_to(session, acting_user(request)):
            raise PermissionDenied
        return session


class CashSessionListView(_SessionView):
    """``GET /api/v1/cash-sessions/`` (newest first; ``location``, ``status``) and ``POST`` to open one:
    ``{"location", "opening_float"}`` → 201; 409 when a session is already open there."""

    @extend_schema(
        parameters=[
            OpenApiParameter("location", int),
            OpenApiParameter("status", str, enum=list(CashSessionStatus.values)),
        ],
        responses=CashSessionSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        location = None
        if params.get("location"):
            if not params["location"].isdigit():
                raise serializers.ValidationError({"location": ["Enter a whole number."]})
            location = _location(int(params["location"]))
        session_status = params.get("status", "")
        if session_status and session_status not in CashSessionStatus.values:
            raise serializers.ValidationError({"status": ["Choose open or closed."]})
        sessions = selectors.cash_sessions(location=location, status=session_status, user=acting_user(request))
        page = self.paginate_queryset(sessions)
        return self.get_paginated_response(CashSessionSerializer(page, many=True).data)

    @extend_schema(request=OpenSerializer, responses={201: CashSessionSerializer})
    def post(self, request: Request) -> Response:
        data = OpenSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        session = services.cash_session_open(
            location=_location(v["location"]),
            opening_float=v["opening_float"],
            note=v["note"],
            idempotency_key=v["idempotency_key"] or None,
            acting_user=acting_user(request),
        )
        code = status.HTTP_200_OK if session.is_replay else status.HTTP_201_CREATED
        return Response(_detail(session), status=code)


class CashSessionCurrentView(_SessionView):
    """``GET /api/v1/cash-sessions/current/?location=``: the open session there with its figures so far
    (``report`` is null for someone who may not see them); 404 when none is open."""

    @extend_schema(parameters=[OpenApiParameter("location", int, required=True)])
    def get(self, request: Request) -> Response:
        value = request.query_params.get("location", "")
        if not value.isdigit():
            raise serializers.ValidationError({"location": ["Enter a whole number."]})
        found = selectors.cash_session_open_at(_location(int(value)))
        if found is None:
            raise Http404
        session = self._session(found.pk)
        if not selectors.cash_session_visible_to(session, acting_user(request)):
            # a colleague at the same drawer gets the session (to record pay-ins and pay-outs), not its figures
            return Response({**CashSessionSerializer(session).data, "report": None})
        return Response(_detail(session))


class CashSessionDetailView(_SessionView):
    """``GET /api/v1/cash-sessions/{id}/``: the session with its handover report."""

    def get(self, request: Request, pk: int) -> Response:
        return Response(_detail(self._visible(request, pk)))


class CashMovementView(_SessionView):
    """``POST /api/v1/cash-sessions/{id}/pay-in/`` and ``…/pay-out/`` ``{"amount", "reason"}`` → 201; 409 when
    the session is closed; 400 for a pay-out above the cash the drawer should hold."""

    kind = CashMovementKind.PAY_IN
    serializer_class = MovementSerializer

    @extend_schema(request=MovementSerializer, responses={201: CashMovementSerializer})
    def post(self, request: Request, pk: int) -> Response:
        session = self._session(pk)
        data = MovementSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        movement = services.cash_movement_record(
            session=session,
            kind=self.kind,
            amount=v["amount"],
            reason=v["reason"],
            idempotency_key=v["idempotency_key"] or None,
            acting_user=acting_user(request),
        )
        code = status.HTTP_200_OK if movement.is_replay else status.HTTP_201_CREATED
        return Response(CashMovementSerializer(movement).data, status=code)


class CashSessionCloseView(_SessionView):
    """``POST /api/v1/cash-sessions/{id}/close/`` ``{"counted_cash", "counted": {"wechat": …}, "note"}`` →
    200 with the handover report; 409 when it is already closed."""

    serializer_class = CloseSerializer

    @extend_schema(request=CloseSerializer, responses=CashSessionSerializer)
    def post(self, request: Request, pk: int) -> Response:
        session = self._session(pk)
        data = CloseSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        closed = services.cash_session_close(
            session=session,
            counted_cash=v["counted_cash"],
            counted=v["counted"],
            note=v["note"],
            acting_user=acting_user(request),
        )
        return Response(_detail(selectors.cash_session(closed.pk) or closed))


class CashSessionPrintView(_SessionView):
    """``POST /api/v1/cash-sessions/{id}/print/``: queue the handover report for the printer."""

    serializer_class = PrintSerializer

    @extend_schema(request=PrintSerializer, responses={201: PrintJobSerializer, 200: PrintJobSerializer})
    def post(self, request: Request, pk: int) -> Response:
        session = self._visible(request, pk)
        data = PrintSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        job = services.cash_session_print(
            session=session,
            copy=data.validated_data["copy"],
            idempotency_key=data.validated_data["idempotency_key"] or None,
            acting_user=acting_user(request),
        )
        code = status.HTTP_200_OK if job.is_replay else status.HTTP_201_CREATED
        return Response(PrintJobSerializer(job).data, status=code)
