"""REST API of booking reports (SCH-12) and booking suggestions (SCH-13). Thin: check the input, call
one selector, return its figures."""

from __future__ import annotations

import datetime

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.db import salon_today
from apps.core.models import Location
from apps.core.permissions import HasRolePermission
from apps.crm.models import Client
from apps.scheduling.selectors.reports import booking_report
from apps.scheduling.selectors.suggestions import client_suggestions


class ReportQuerySerializer(serializers.Serializer):
    date_from = serializers.DateField(required=False)
    date_to = serializers.DateField(required=False)
    location = serializers.PrimaryKeyRelatedField(queryset=Location.objects.all(), required=False, allow_null=True)


class BookingReportView(APIView):
    """``GET /api/v1/reports/bookings/?date_from=&date_to=[&location=]``: the figures of the booking
    report page (docs/scheduling.md defines each one)."""

    permission_classes = [HasRolePermission]
    read_permission = "view_reports"

    @extend_schema(
        parameters=[
            OpenApiParameter("date_from", OpenApiTypes.DATE, description="First local date (default: date_to − 27)"),
            OpenApiParameter("date_to", OpenApiTypes.DATE, description="Last local date (default: today; ≤ 366 days)"),
            OpenApiParameter("location", int, description="A location's id; all locations when left out"),
        ],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request: Request) -> Response:
        query = ReportQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        # Without dates: the four weeks up to today, as on the page.
        date_to = query.validated_data.get("date_to") or salon_today()
        date_from = query.validated_data.get("date_from") or date_to - datetime.timedelta(days=27)
        report = booking_report(date_from=date_from, date_to=date_to, location=query.validated_data.get("location"))
        return Response(report.as_dict())


class ClientSuggestionsView(APIView):
    """``GET /api/v1/clients/{id}/suggestions/``: technicians, most-booked services and services due
    again for a client, each with its reason."""

    permission_classes = [HasRolePermission]
    read_permission = "book_appointments"

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, pk: int) -> Response:
        client = get_object_or_404(Client, pk=pk, is_active=True)
        return Response(client_suggestions(client=client).as_dict())
