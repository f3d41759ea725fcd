"""Sales report (POS-7) and statement (POS-9) through the API. Thin: check the query, call one selector,
return its figures (money in fen). Both need ``view_reports``."""

from __future__ import annotations

import datetime
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.db import salon_today
from apps.core.errors import ServiceError
from apps.core.models import Location
from apps.core.permissions import HasRolePermission
from apps.pos.selectors import sales as sales_selectors
from apps.pos.selectors import statement as statement_selectors

# "from" is a Python keyword, so the query serializers are built from a dict of fields.
_PERIOD_FIELDS: dict[str, Any] = {
    "from": serializers.DateField(required=False),
    "to": serializers.DateField(required=False),
    "location": serializers.PrimaryKeyRelatedField(queryset=Location.objects.all(), required=False, allow_null=True),
}
SalesQuerySerializer = type(
    "SalesQuerySerializer",
    (serializers.Serializer,),
    {
        "period": serializers.ChoiceField(choices=sales_selectors.PERIODS, required=False, default="day"),
        **_PERIOD_FIELDS,
    },
)
StatementQuerySerializer = type(
    "StatementQuerySerializer",
    (serializers.Serializer,),
    {
        "period": serializers.ChoiceField(
            choices=statement_selectors.STATEMENT_PERIODS, required=False, default="month"
        ),
        "date": serializers.DateField(required=False),
        **_PERIOD_FIELDS,
    },
)

_FIELD_NAMES = {"date_from": "from", "date_to": "to"}


def _api_error(error: ServiceError) -> ServiceError:
    """The selectors name the period's fields as the pages do (date_from, date_to); the API calls them
    from and to."""
    if not error.errors:
        return error
    error.errors = {_FIELD_NAMES.get(field, field): messages for field, messages in error.errors.items()}
    return error


_PARAMETERS = [
    OpenApiParameter("from", OpenApiTypes.DATE, description="First local date"),
    OpenApiParameter("to", OpenApiTypes.DATE, description="Last local date (default: today; at most 366 days)"),
    OpenApiParameter("location", int, description="A location's id; all locations when left out"),
]


class SalesReportView(APIView):
    """``GET /api/v1/reports/sales/?period=day|week|month&from=&to=[&location=]``: the sales figures of the
    period with a row per day, week or month (docs/till-reports.md defines each figure). Without ``from``,
    the period starts with the day, week or month that holds ``to``."""

    permission_classes = [HasRolePermission]
    read_permission = "view_reports"

    @extend_schema(
        parameters=[OpenApiParameter("period", str, enum=list(sales_selectors.PERIODS)), *_PARAMETERS],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request: Request) -> Response:
        query = SalesQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        period = data["period"]
        date_to = data.get("to") or salon_today()
        date_from = data.get("from") or sales_selectors.period_bounds(period, date_to)[0]
        try:
            report = sales_selectors.sales_report(
                date_from=date_from, date_to=date_to, period=period, location=data.get("location")
            )
        except ServiceError as error:
            raise _api_error(error) from None
        return Response(report.as_dict())


class StatementView(APIView):
    """``GET /api/v1/reports/statement/?period=month|quarter|year&date=[&location=]`` or
    ``?period=custom&from=&to=``: income by kind, stored-value top-ups apart, expenses by category and
    the profit (docs/till-reports.md)."""

    permission_classes = [HasRolePermission]
    read_permission = "view_reports"

    @extend_schema(
        parameters=[
            OpenApiParameter("period", str, enum=list(statement_selectors.STATEMENT_PERIODS)),
            OpenApiParameter("date", OpenApiTypes.DATE, description="A date in the month, quarter or year"),
            *_PARAMETERS,
        ],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request: Request) -> Response:
        query = StatementQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        if data["period"] == "custom":
            missing = [name for name in ("from", "to") if not data.get(name)]
            if missing:
                raise serializers.ValidationError({name: [str(_REQUIRED)] for name in missing})
            date_from: datetime.date = data["from"]
            date_to: datetime.date = data["to"]
        else:
            date_from, date_to = statement_selectors.statement_bounds(data["period"], data.get("date") or salon_today())
        try:
            report = statement_selectors.statement(date_from=date_from, date_to=date_to, location=data.get("location"))
        except ServiceError as error:
            raise _api_error(error) from None
        return Response(report.as_dict())


_REQUIRED = serializers.Field.default_error_messages["required"]
