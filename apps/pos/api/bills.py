"""The orders API (SPEC §4): bills and their lines, coupons, payment, refunds and voids, the till's
settings, and top-ups sold through the till. Thin: validate the shape, call one service, answer the bill.

Money is integer fen. Errors are ``{"field": ["message"]}`` or ``{"detail", "code"}``; nothing is written
when one is answered."""

from __future__ import annotations

import uuid
from typing import Any

from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import path
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from apps.catalog.models import CourseCardTemplate, Package, Product, Service
from apps.core.errors import ServiceError
from apps.core.models import Location, User
from apps.core.money import MAX_AMOUNT
from apps.core.permissions import HasRolePermission, acting_user
from apps.crm.models import Client
from apps.loyalty.api.wallets import wallet_body
from apps.loyalty.models import Coupon, CourseCard
from apps.loyalty.services._common import Verification, redemption_code_check
from apps.payments.selectors import notify_url
from apps.pos.api.gateway_tenders import gateway_pay_response, top_up_response
from apps.pos.models import (
    Bill,
    BillCoupon,
    BillKind,
    BillLine,
    PosSettings,
    ReceiptWidth,
    Refund,
    Tender,
    TenderMethod,
)
from apps.pos.selectors import bills as selectors
from apps.pos.services import bill_coupons, checkout, refunds, till_settings, top_ups
from apps.pos.services import bills as services
from apps.scheduling.models import Appointment, Resource
from apps.scheduling.selectors.deposits import deposit_held

IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="Names this operation (1–60 characters): a retry with the same key returns the first result. "
    "Without it each request is a new operation.",
)


def _key(request: Request) -> str:
    return request.headers.get("Idempotency-Key") or f"api-{uuid.uuid4().hex}"


# --- answers --------------------------------------------------------------------------------------------


def _line_body(line: BillLine) -> dict[str, Any]:
    return {
        "id": line.pk,
        "kind": line.kind,
        "service": line.service_id,
        "product": line.product_id,
        "package": line.package_id,
        "course_card": line.course_template_id,
        "name": line.name,
        "quantity": line.quantity,
        "list_price": line.list_price,
        "unit_price": line.unit_price,
        "price_rule": line.price_rule,
        "is_manual_price": line.is_manual_price,
        "price_reason": line.price_reason,
        "discount": line.discount,
        "amount": line.amount,
        "staff": [
            {"staff": s.staff_id, "name": s.staff.name, "share": s.share, "is_requested": s.is_requested}
            for s in line.staff_shares.all()
        ],
        "guest": line.guest_id,
        "guest_label": line.guest_label,
        "notes": line.notes,
        "top_up_bonus": line.top_up_bonus,
        "issued_course_card": line.course_card_id,
        "refunded_quantity": line.refunded_quantity,
        "refunded_amount": line.refunded_amount,
    }


def _tender_body(tender: Tender) -> dict[str, Any]:
    return {
        "id": tender.pk,
        "method": tender.method,
        "amount": tender.amount,
        "status": tender.status,
        "tendered": tender.tendered,
        "change": tender.change,
        "points": tender.points,
        "course_card": tender.course_card_id,
        "line": tender.bill_line_id,
        "deposit": tender.deposit_id,
        "refunded_amount": tender.refunded_amount,
        "failure_message": tender.failure_message,
    }


def _deposit_held(bill: Bill) -> int:
    """The booking deposit an open bill's visit holds (what a ``deposit`` tender may apply), in fen."""
    if bill.status != "open" or bill.appointment_id is None:
        return 0
    held = deposit_held(bill.appointment_id)
    return held.amount if held is not None else 0


def bill_body(bill: Bill, *, lines: list[BillLine], tenders: list[Tender], coupons: list[BillCoupon]) -> dict[str, Any]:
    return {
        "id": bill.pk,
        "number": bill.number,
        "status": bill.status,
        "kind": bill.kind,
        "location": bill.location_id,
        "client": bill.client_id,
        "client_name": bill.client.name if bill.client_id and bill.client is not None else "",
        "appointment": bill.appointment_id,
        "room": bill.room_id,
        "tier": bill.tier_id,
        "guest_count": bill.guest_count,
        "notes": bill.notes,
        "subtotal": bill.subtotal,
        "discount_total": bill.discount_total,
        "total": bill.total,
        "paid_total": bill.paid_total,
        "due": bill.total - bill.paid_total if bill.status == "open" else 0,
        "deposit_held": _deposit_held(bill),
        "change_given": bill.change_given,
        "refunded_total": bill.refunded_total,
        "opened_at": bill.opened_at,
        "paid_at": bill.paid_at,
        "void_reason": bill.void_reason,
        "lines": [_line_body(line) for line in lines],
        "coupons": [
            {"coupon": c.coupon_id, "code": c.coupon.code, "name": c.coupon.template.name, "discount": c.discount}
            for c in coupons
        ],
        "tenders": [_tender_body(t) for t in tenders],
    }


def refund_body(refund: Refund) -> dict[str, Any]:
    """A refund with its lines and where each part of the money went (a WeChat Pay / Alipay part with the
    gateway's outcome: pending, succeeded, or failed with its reason until sent again or given in cash)."""
    return {
        "id": refund.pk,
        "amount": refund.amount,
        "reason": refund.reason,
        "created_at": refund.created_at,
        "lines": [{"line": rl.bill_line_id, "quantity": rl.quantity, "amount": rl.amount} for rl in refund.lines.all()],
        "tenders": [
            {
                "part": part.pk,
                "tender": part.tender_id,
                "method": part.tender.method,
                "amount": part.amount,
                "status": part.status,
                "failure_message": part.failure_message,
                "attempts": part.attempts,
                "given_in_cash_at": part.given_in_cash_at,
            }
            for part in refund.tender_parts.all()
        ],
    }


def _detail_body(pk: int) -> dict[str, Any]:
    bill = selectors.bill_detail(pk)
    body = bill_body(
        bill, lines=list(bill.lines.all()), tenders=list(bill.tenders.all()), coupons=list(bill.coupons.all())
    )
    return {**body, "refunds": [refund_body(refund) for refund in bill.refunds.all()]}


class OrderStaffShareBody(serializers.Serializer):
    staff = serializers.IntegerField()
    name = serializers.CharField()
    share = serializers.IntegerField(help_text="Basis points: 6000 is 60%")
    is_requested = serializers.BooleanField(help_text="点钟: the client asked for this technician")


class OrderLineBody(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=["service", "product", "package", "course_card", "top_up"])
    service = serializers.IntegerField(allow_null=True)
    product = serializers.IntegerField(allow_null=True)
    package = serializers.IntegerField(allow_null=True)
    course_card = serializers.IntegerField(allow_null=True, help_text="The course-card template sold")
    name = serializers.CharField()
    quantity = serializers.IntegerField()
    list_price = serializers.IntegerField()
    unit_price = serializers.IntegerField()
    price_rule = serializers.CharField()
    is_manual_price = serializers.BooleanField()
    price_reason = serializers.CharField()
    discount = serializers.IntegerField()
    amount = serializers.IntegerField()
    staff = OrderStaffShareBody(many=True)
    guest = serializers.IntegerField(allow_null=True)
    guest_label = serializers.CharField()
    notes = serializers.CharField()
    top_up_bonus = serializers.IntegerField()
    issued_course_card = serializers.IntegerField(
        allow_null=True, help_text="Once paid: a course-card line's card, or a package line's package card"
    )
    refunded_quantity = serializers.IntegerField()
    refunded_amount = serializers.IntegerField()


class OrderTenderBody(serializers.Serializer):
    id = serializers.IntegerField()
    method = serializers.ChoiceField(choices=TenderMethod.choices)
    amount = serializers.IntegerField()
    status = serializers.CharField()
    tendered = serializers.IntegerField()
    change = serializers.IntegerField()
    points = serializers.IntegerField()
    course_card = serializers.IntegerField(allow_null=True)
    line = serializers.IntegerField(allow_null=True)
    deposit = serializers.IntegerField(allow_null=True, help_text="The booking deposit a `deposit` tender applied")
    refunded_amount = serializers.IntegerField()


class OrderRefundPartBody(serializers.Serializer):
    part = serializers.IntegerField()
    tender = serializers.IntegerField()
    method = serializers.CharField()
    amount = serializers.IntegerField()
    status = serializers.ChoiceField(choices=["pending", "succeeded", "failed"])
    failure_message = serializers.CharField()
    attempts = serializers.IntegerField(help_text="Refund numbers used at the gateway (sent again: one more)")
    given_in_cash_at = serializers.DateTimeField(
        allow_null=True, help_text="A part the gateway refused, given back in cash out of the drawer"
    )


class OrderRefundBody(serializers.Serializer):
    id = serializers.IntegerField()
    amount = serializers.IntegerField()
    reason = serializers.CharField()
    created_at = serializers.DateTimeField()
    lines = serializers.ListField(child=serializers.DictField())
    tenders = OrderRefundPartBody(many=True)


class OrderBody(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField(help_text="YYYYMMDD-NNNN, per salon day")
    status = serializers.ChoiceField(choices=["open", "paid", "voided", "refunded"])
    kind = serializers.ChoiceField(choices=BillKind.choices)
    location = serializers.IntegerField()
    client = serializers.IntegerField(allow_null=True)
    client_name = serializers.CharField()
    appointment = serializers.IntegerField(allow_null=True)
    room = serializers.IntegerField(allow_null=True)
    tier = serializers.IntegerField(allow_null=True)
    guest_count = serializers.IntegerField()
    notes = serializers.CharField()
    subtotal = serializers.IntegerField()
    discount_total = serializers.IntegerField()
    total = serializers.IntegerField()
    paid_total = serializers.IntegerField()
    due = serializers.IntegerField()
    deposit_held = serializers.IntegerField(
        help_text="The booking deposit held for the bill's visit: pay it with a `deposit` tender (fen)"
    )
    change_given = serializers.IntegerField()
    refunded_total = serializers.IntegerField()
    opened_at = serializers.DateTimeField()
    paid_at = serializers.DateTimeField(allow_null=True)
    void_reason = serializers.CharField()
    lines = OrderLineBody(many=True)
    coupons = inline_serializer(
        "OrderCouponBody",
        {
            "coupon": serializers.IntegerField(),
            "code": serializers.CharField(),
            "name": serializers.CharField(),
            "discount": serializers.IntegerField(),
        },
        many=True,
    )
    tenders = OrderTenderBody(many=True)
    refunds = OrderRefundBody(many=True, required=False, help_text="Of one order (not in lists)")


# --- input ----------------------------------------------------------------------------------------------


@extend_schema_field(
    {
        "oneOf": [
            {"type": "integer", "description": "A staff member's id: 100% of the line"},
            {
                "type": "array",
                "items": {
                    "oneOf": [
                        {"type": "integer"},
                        {
                            "type": "object",
                            "properties": {
                                "staff": {"type": "integer"},
                                "share": {"type": "integer", "description": "basis points, 6000 = 60%"},
                                "is_requested": {"type": "boolean"},
                            },
                            "required": ["staff"],
                        },
                    ]
                },
            },
        ]
    }
)
class StaffField(serializers.Field):
    """A staff member's id (100%), or a list of ``{"staff", "share", "is_requested"}`` (shares in basis
    points adding up to 10000; a list without shares is split evenly)."""

    default_error_messages = {"invalid": "Give a staff id, or a list of {staff, share}."}

    def to_internal_value(self, data: Any) -> list[tuple[int, int | None, bool]]:
        if isinstance(data, int) and not isinstance(data, bool):
            return [(data, None, False)]
        if not isinstance(data, list) or len(data) > services.MAX_STAFF_PER_LINE:
            self.fail("invalid")
        parsed: list[tuple[int, int | None, bool]] = []
        for item in data:
            if isinstance(item, int) and not isinstance(item, bool):
                parsed.append((item, None, False))
                continue
            if not isinstance(item, dict):
                self.fail("invalid")
            staff, share = item.get("staff"), item.get("share")
            if not isinstance(staff, int) or isinstance(staff, bool):
                self.fail("invalid")
            if share is not None and (not isinstance(share, int) or isinstance(share, bool)):
                self.fail("invalid")
            parsed.append((staff, share, bool(item.get("is_requested", False))))
        return parsed

    def to_representation(self, value: Any) -> Any:
        return value


def _staff_shares(parsed: list[tuple[int, int | None, bool]], *, field: str = "staff") -> list[services.StaffShare]:
    users = {u.pk: u for u in User.objects.filter(pk__in=[pk for pk, _s, _r in parsed], is_active=True)}
    if len(users) != len({pk for pk, _s, _r in parsed}):
        raise ValidationError({field: ["Choose active staff members."]})
    if all(share is None for _pk, share, _r in parsed):
        requested = [users[pk] for pk, _s, wanted in parsed if wanted]
        return services.shares_even([users[pk] for pk, _s, _r in parsed], requested=requested)
    if any(share is None for _pk, share, _r in parsed):
        raise ValidationError({field: ["Give every staff member a share, or none."]})
    return [services.StaffShare(users[pk], share or 0, wanted) for pk, share, wanted in parsed]


class OrderLineInput(serializers.Serializer):
    service = serializers.PrimaryKeyRelatedField(queryset=Service.objects.all(), required=False)
    product = serializers.PrimaryKeyRelatedField(queryset=Product.objects.all(), required=False)
    package = serializers.PrimaryKeyRelatedField(queryset=Package.objects.all(), required=False)
    course_card = serializers.PrimaryKeyRelatedField(
        queryset=CourseCardTemplate.objects.all(), required=False, help_text="A course-card template to sell"
    )
    top_up = serializers.IntegerField(required=False, min_value=1, max_value=MAX_AMOUNT, help_text="fen")
    quantity = serializers.IntegerField(required=False, default=1, min_value=1, max_value=services.MAX_QUANTITY)
    staff = StaffField(required=False)
    price = serializers.IntegerField(
        required=False, allow_null=True, help_text="Unit price by hand (fen)", min_value=0, max_value=MAX_AMOUNT
    )
    price_reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    guest = serializers.PrimaryKeyRelatedField(queryset=Client.objects.filter(is_active=True), required=False)
    guest_label = serializers.CharField(required=False, allow_blank=True, default="", max_length=60)
    notes = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        given = [name for name in ("service", "product", "package", "course_card", "top_up") if name in attrs]
        if len(given) != 1:
            raise ValidationError({"item": ["Give exactly one of service, product, package, course_card or top_up."]})
        return attrs


def _line_kwargs(data: dict[str, Any]) -> dict[str, Any]:
    item = data.get("service") or data.get("product") or data.get("package") or data.get("course_card")
    kwargs: dict[str, Any] = {
        "item": item,
        "top_up_amount": data.get("top_up"),
        "quantity": data["quantity"],
        "staff": _staff_shares(data["staff"]) if data.get("staff") else [],
        "price": data.get("price"),
        "price_reason": data.get("price_reason", ""),
        "guest": data.get("guest"),
        "guest_label": data.get("guest_label", ""),
        "notes": data.get("notes", ""),
    }
    return kwargs


class OrderCreateInput(serializers.Serializer):
    client = serializers.PrimaryKeyRelatedField(
        queryset=Client.objects.filter(is_active=True), required=False, allow_null=True, help_text="Empty: a walk-in"
    )
    appointment = serializers.PrimaryKeyRelatedField(
        queryset=Appointment.objects.all(), required=False, allow_null=True, help_text="A finished visit to check out"
    )
    location = serializers.PrimaryKeyRelatedField(
        queryset=Location.objects.filter(is_active=True), required=False, allow_null=True
    )
    kind = serializers.ChoiceField(choices=BillKind.choices, required=False, default=BillKind.STANDARD)
    room = serializers.PrimaryKeyRelatedField(queryset=Resource.objects.all(), required=False, allow_null=True)
    guest_count = serializers.IntegerField(required=False, default=1, min_value=1, max_value=50)
    notes = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    lines = OrderLineInput(many=True, required=False, default=list)


class OrderUpdateInput(serializers.Serializer):
    notes = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    guest_count = serializers.IntegerField(required=False, min_value=1, max_value=50)
    room = serializers.PrimaryKeyRelatedField(queryset=Resource.objects.all(), required=False, allow_null=True)


class OrderLineUpdateInput(serializers.Serializer):
    quantity = serializers.IntegerField(required=False, min_value=1, max_value=services.MAX_QUANTITY)
    staff = StaffField(required=False)
    price = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=MAX_AMOUNT)
    price_reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    guest = serializers.PrimaryKeyRelatedField(
        queryset=Client.objects.filter(is_active=True), required=False, allow_null=True
    )
    guest_label = serializers.CharField(required=False, allow_blank=True, max_length=60)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=200)


class OrderPaymentInput(serializers.Serializer):
    method = serializers.ChoiceField(choices=TenderMethod.choices)
    amount = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=MAX_AMOUNT)
    tendered = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=MAX_AMOUNT, help_text="Cash handed over (fen)"
    )
    points = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=1_000_000_000)
    course_card = serializers.PrimaryKeyRelatedField(
        queryset=CourseCard.objects.all(), required=False, allow_null=True, help_text="The client's course card"
    )
    line = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, help_text="The service line a session pays"
    )
    code = serializers.CharField(
        required=False, allow_blank=True, max_length=12, help_text="The client's one-time code"
    )
    override_reason = serializers.CharField(
        required=False, allow_blank=True, max_length=200, help_text="A manager skips the code (audited)"
    )
    auth_code = serializers.CharField(
        required=False, allow_blank=True, max_length=40, help_text="WeChat Pay / Alipay: the client's payment code"
    )
    qr = serializers.BooleanField(
        required=False, default=False, help_text="WeChat Pay / Alipay: show a QR code for the client to scan"
    )


class OrderPayInput(serializers.Serializer):
    payments = OrderPaymentInput(many=True, allow_empty=True)


class OrderRefundLineInput(serializers.Serializer):
    line = serializers.IntegerField(min_value=1)
    quantity = serializers.IntegerField(min_value=1, max_value=services.MAX_QUANTITY)


class OrderRefundInput(serializers.Serializer):
    lines = OrderRefundLineInput(many=True, required=False, default=list)
    amount = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=MAX_AMOUNT)
    reason = serializers.CharField(max_length=200)


class OrderVoidInput(serializers.Serializer):
    reason = serializers.CharField(max_length=200)


# --- views ----------------------------------------------------------------------------------------------


def _bill(pk: int) -> Bill:
    return get_object_or_404(Bill, pk=pk)


class OrderListView(GenericAPIView):
    """``/api/v1/orders/``: bills newest first (``?status=open|paid|voided|refunded``, ``client``,
    ``location``, ``date=YYYY-MM-DD`` the salon day opened); POST opens one, with its lines, in one go."""

    permission_classes = [HasRolePermission]
    read_permission = "take_payments"
    required_permission = "take_payments"
    serializer_class = OrderCreateInput

    @extend_schema(
        parameters=[
            OpenApiParameter("status", str, enum=["open", "paid", "voided", "refunded"]),
            OpenApiParameter("client", int),
            OpenApiParameter("location", int),
            OpenApiParameter("date", str, description="YYYY-MM-DD, the salon's day"),
        ],
        responses=OrderBody(many=True),
    )
    def get(self, request: Request) -> Response:
        try:
            bills = selectors.bill_list(params=request.query_params)
        except ValueError as exc:
            raise ValidationError({str(exc): ["Enter a valid value."]}) from exc
        page = self.paginate_queryset(selectors.with_lines(bills))
        return self.get_paginated_response(
            [
                bill_body(b, lines=list(b.lines.all()), tenders=list(b.tenders.all()), coupons=list(b.coupons.all()))
                for b in page or []
            ]
        )

    @extend_schema(request=OrderCreateInput, responses={201: OrderBody})
    def post(self, request: Request) -> Response:
        data = OrderCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        user = acting_user(request)
        with transaction.atomic():  # the bill and all its lines, or nothing
            bill = services.bill_open(
                location=values.get("location") or top_ups.till_location(user),
                client=values.get("client"),
                appointment=values.get("appointment"),
                kind=values["kind"],
                room=values.get("room"),
                notes=values["notes"],
                guest_count=values["guest_count"],
                acting_user=user,
                idempotency_key=request.headers.get("Idempotency-Key"),
            )
            if not getattr(bill, "opened_now", False):
                # The visit's live bill, or the bill this key opened before: answered as it is.
                return Response(_detail_body(bill.pk), status=status.HTTP_200_OK)
            for index, line in enumerate(values["lines"]):
                try:
                    services.bill_line_add(bill=bill, acting_user=user, **_line_kwargs(line))
                except ServiceError as error:
                    raise ValidationError({"lines": {str(index): error.as_dict()}}) from error  # type: ignore[dict-item]
                except ValidationError as error:  # staff that are not active staff members
                    raise ValidationError({"lines": {str(index): error.detail}}) from error  # type: ignore[dict-item]
        return Response(_detail_body(bill.pk), status=status.HTTP_201_CREATED)


class OrderDetailView(GenericAPIView):
    """``/api/v1/orders/{id}/``: the bill with its lines, coupons and tenders; PATCH its notes, guests or room."""

    permission_classes = [HasRolePermission]
    read_permission = "take_payments"
    required_permission = "take_payments"
    serializer_class = OrderUpdateInput

    @extend_schema(responses=OrderBody)
    def get(self, request: Request, pk: int) -> Response:
        return Response(_detail_body(pk))

    @extend_schema(request=OrderUpdateInput, responses=OrderBody)
    def patch(self, request: Request, pk: int) -> Response:
        data = OrderUpdateInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        services.bill_update(bill=_bill(pk), acting_user=acting_user(request), **data.validated_data)
        return Response(_detail_body(pk))


class OrderLinesView(GenericAPIView):
    """``POST /api/v1/orders/{id}/lines/``: add a line to an open bill."""

    permission_classes = [HasRolePermission]
    required_permission = "take_payments"
    serializer_class = OrderLineInput

    @extend_schema(request=OrderLineInput, responses={201: OrderBody})
    def post(self, request: Request, pk: int) -> Response:
        data = OrderLineInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.bill_line_add(bill=_bill(pk), acting_user=acting_user(request), **_line_kwargs(data.validated_data))
        return Response(_detail_body(pk), status=status.HTTP_201_CREATED)


class OrderLineView(GenericAPIView):
    """``/api/v1/orders/{id}/lines/{line}/``: PATCH a line (quantity, staff and shares, price by hand with
    ``price_reason``, guest, note); DELETE takes it off."""

    permission_classes = [HasRolePermission]
    required_permission = "take_payments"
    serializer_class = OrderLineUpdateInput

    def _line(self, pk: int, line_pk: int) -> BillLine:
        return get_object_or_404(BillLine, pk=line_pk, bill_id=pk)

    @extend_schema(request=OrderLineUpdateInput, responses=OrderBody)
    def patch(self, request: Request, pk: int, line_pk: int) -> Response:
        line = self._line(pk, line_pk)
        data = OrderLineUpdateInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        if "staff" in values:
            values["staff"] = _staff_shares(values["staff"])
        if "price" not in values:
            values.pop("price_reason", None)
        services.bill_line_update(line=line, acting_user=acting_user(request), **values)
        return Response(_detail_body(pk))

    @extend_schema(responses=OrderBody)
    def delete(self, request: Request, pk: int, line_pk: int) -> Response:
        services.bill_line_remove(line=self._line(pk, line_pk), acting_user=acting_user(request))
        return Response(_detail_body(pk))


def _tender_requests(bill: Bill, payments: list[dict[str, Any]], *, key: str) -> list[checkout.TenderRequest]:
    """The payments as tenders; one-time codes are checked here, before the payment's transaction (a wrong
    code counts as an attempt even when the payment is refused), except on a replay of a payment ``key``
    already took: the code it carried is used up and the payment is answered as it was."""
    replay = any(p.get("code") for p in payments) and selectors.payment_taken(bill.pk, key)
    requests = []
    line_ids = {p["line"] for p in payments if p.get("line")}
    lines = {line.pk: line for line in BillLine.objects.filter(bill=bill, pk__in=line_ids)} if line_ids else {}
    for index, payment in enumerate(payments):
        verification = None
        if payment.get("code") and not replay:
            if bill.client is None:
                raise ValidationError({"payments": {str(index): {"code": ["This bill has no client."]}}})
            verification = redemption_code_check(client=bill.client, code=payment["code"])
        elif payment.get("override_reason"):
            verification = Verification(override_reason=payment["override_reason"])
        line = None
        if payment.get("line"):
            line = lines.get(payment["line"])
            if line is None:
                raise ValidationError({"payments": {str(index): {"line": ["This line is not on this bill."]}}})
        requests.append(
            checkout.TenderRequest(
                method=payment["method"],
                amount=payment.get("amount"),
                tendered=payment.get("tendered"),
                points=payment.get("points"),
                course_card=payment.get("course_card"),
                bill_line=line,
                verification=verification,
            )
        )
    return requests


class OrderPayView(GenericAPIView):
    """``POST /api/v1/orders/{id}/pay/`` ``{"payments": [{"method", "amount", …}]}``: pay what is due, split
    across tenders, all or nothing. Cash may carry ``tendered`` (change is given); points may give ``points``
    instead of ``amount``; a course-card session names the ``course_card`` and the service ``line``; stored
    value, points and sessions take the client's one-time ``code`` when the salon requires it."""

    permission_classes = [HasRolePermission]
    required_permission = "take_payments"
    serializer_class = OrderPayInput

    @extend_schema(request=OrderPayInput, responses=OrderBody, parameters=[IDEMPOTENCY_HEADER])
    def post(self, request: Request, pk: int) -> Response:
        data = OrderPayInput(data=request.data)
        data.is_valid(raise_exception=True)
        payments = data.validated_data["payments"]
        if any(p["method"] in checkout.GATEWAYS for p in payments):
            return gateway_pay_response(request, pk, payments)
        if any(p.get("code") or p.get("line") for p in payments):
            bill = get_object_or_404(Bill.objects.select_related("client"), pk=pk)
        else:
            bill = Bill(pk=pk)  # bill_pay reads and locks it: no read before (the checkout's hot path)
        key = _key(request)
        tenders = _tender_requests(bill, payments, key=key)
        try:
            payment = checkout.bill_pay(
                bill=bill, tenders=tenders, idempotency_key=key, acting_user=acting_user(request)
            )
        except Bill.DoesNotExist as exc:
            raise Http404 from exc
        paid = payment.bill
        if payment.is_replay or paid.paid_total != sum(t.amount for t in payment.tenders):
            return Response(_detail_body(pk))
        coupons = (
            list(BillCoupon.objects.filter(bill=paid).select_related("coupon__template")) if paid.discount_total else []
        )
        body = bill_body(paid, lines=payment.lines, tenders=payment.tenders, coupons=coupons)
        return Response({**body, "refunds": []})  # paid just now: nothing refunded yet


class OrderRefundView(GenericAPIView):
    """``POST /api/v1/orders/{id}/refund/`` ``{"lines": [{"line", "quantity"}] | "amount", "reason"}``
    (``issue_refunds``): back to the tenders that paid, never above what was paid."""

    permission_classes = [HasRolePermission]
    required_permission = "issue_refunds"
    serializer_class = OrderRefundInput

    @extend_schema(
        request=OrderRefundInput,
        parameters=[IDEMPOTENCY_HEADER],
        responses={
            201: inline_serializer(
                "OrderRefundAnswer",
                {
                    "id": serializers.IntegerField(),
                    "amount": serializers.IntegerField(),
                    "reason": serializers.CharField(),
                    "created_at": serializers.DateTimeField(),
                    "lines": serializers.ListField(child=serializers.DictField()),
                    "tenders": OrderRefundPartBody(many=True),
                    "order": OrderBody(),
                },
            )
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        bill = _bill(pk)
        data = OrderRefundInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        wanted = values["lines"]
        lines = {line.pk: line for line in BillLine.objects.filter(bill=bill, pk__in=[w["line"] for w in wanted])}
        if any(w["line"] not in lines for w in wanted):
            raise ValidationError({"lines": ["This line is not on this bill."]})
        refund = refunds.bill_refund(
            bill=bill,
            reason=values["reason"],
            idempotency_key=_key(request),
            acting_user=acting_user(request),
            lines=[refunds.RefundLineRequest(lines[w["line"]], w["quantity"]) for w in wanted],
            amount=values.get("amount"),
        )
        order = _detail_body(pk)
        body = next(r for r in order["refunds"] if r["id"] == refund.pk)
        return Response({**body, "order": order}, status=status.HTTP_201_CREATED)


class OrderVoidView(GenericAPIView):
    """``POST /api/v1/orders/{id}/void/`` ``{"reason"}`` (``issue_refunds``): void an open bill; what a payment
    that stopped half-way took goes back to each tender first."""

    permission_classes = [HasRolePermission]
    required_permission = "issue_refunds"
    serializer_class = OrderVoidInput

    @extend_schema(request=OrderVoidInput, responses=OrderBody)
    def post(self, request: Request, pk: int) -> Response:
        data = OrderVoidInput(data=request.data)
        data.is_valid(raise_exception=True)
        refunds.bill_void(bill=_bill(pk), reason=data.validated_data["reason"], acting_user=acting_user(request))
        return Response(_detail_body(pk))


class OrderCouponApplyInput(serializers.Serializer):
    coupon = serializers.PrimaryKeyRelatedField(queryset=Coupon.objects.all(), required=False)
    best = serializers.BooleanField(required=False, default=False, help_text="Apply loyalty's best combination")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if bool(attrs.get("coupon")) == bool(attrs.get("best")):
            raise ValidationError({"coupon": ["Give a coupon, or best: true."]})
        return attrs


class OrderCouponsView(GenericAPIView):
    """``/api/v1/orders/{id}/coupons/``: GET the client's coupons with what each takes off this bill (or
    why not) and the best combination; POST ``{"coupon"}`` or ``{"best": true}`` applies."""

    permission_classes = [HasRolePermission]
    read_permission = "take_payments"
    required_permission = "take_payments"
    serializer_class = OrderCouponApplyInput

    @extend_schema(
        responses=inline_serializer(
            "OrderCouponAdvice",
            {
                "options": serializers.ListField(child=serializers.DictField()),
                "best": serializers.DictField(),
                "applied": serializers.ListField(child=serializers.DictField()),
            },
        )
    )
    def get(self, request: Request, pk: int) -> Response:
        bill = get_object_or_404(Bill.objects.select_related("client"), pk=pk)
        advice = bill_coupons.bill_coupon_suggest(bill=bill)
        applied = BillCoupon.objects.filter(bill=bill).select_related("coupon__template").order_by("id")
        return Response(
            {
                "options": [
                    {
                        "coupon": o.coupon.pk,
                        "code": o.coupon.code,
                        "name": o.coupon.template.name,
                        "discount": o.discount,
                        "applicable": o.applicable,
                        "reason": o.reason_message,
                        "valid_until": o.coupon.valid_until,
                    }
                    for o in advice.options
                ],
                "best": {"coupons": [c.pk for c in advice.best], "discount": advice.best_discount},
                "applied": [{"coupon": c.coupon_id, "code": c.coupon.code, "discount": c.discount} for c in applied],
            }
        )

    @extend_schema(request=OrderCouponApplyInput, responses=OrderBody)
    def post(self, request: Request, pk: int) -> Response:
        data = OrderCouponApplyInput(data=request.data)
        data.is_valid(raise_exception=True)
        bill = _bill(pk)
        if data.validated_data.get("best"):
            bill_coupons.bill_coupons_apply_best(bill=bill, acting_user=acting_user(request))
        else:
            bill_coupons.bill_coupon_apply(
                bill=bill, coupon=data.validated_data["coupon"], acting_user=acting_user(request)
            )
        return Response(_detail_body(pk))


class OrderCouponView(GenericAPIView):
    """``DELETE /api/v1/orders/{id}/coupons/{coupon}/``: take a coupon off the bill."""

    permission_classes = [HasRolePermission]
    required_permission = "take_payments"

    @extend_schema(responses=OrderBody)
    def delete(self, request: Request, pk: int, coupon_pk: int) -> Response:
        coupon = get_object_or_404(Coupon, pk=coupon_pk)
        bill_coupons.bill_coupon_remove(bill=_bill(pk), coupon=coupon, acting_user=acting_user(request))
        return Response(_detail_body(pk))


class TillSettingsSerializer(serializers.ModelSerializer):
    receipt_width = serializers.ChoiceField(choices=ReceiptWidth.choices, required=False)

    class Meta:
        model = PosSettings
        exclude = ["id", "updated_at"]


class TillSettingsView(GenericAPIView):
    """``/api/v1/till-settings/``: the tenders the salon takes and the receipt's look; read by anyone who
    takes payments, changed with ``manage_settings``."""

    permission_classes = [HasRolePermission]
    read_permission = "take_payments"
    required_permission = "manage_settings"
    serializer_class = TillSettingsSerializer

    def get(self, request: Request) -> Response:
        return Response(TillSettingsSerializer(selectors.pos_settings()).data)

    def patch(self, request: Request) -> Response:
        data = TillSettingsSerializer(selectors.pos_settings(), data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        row = till_settings.pos_settings_update(acting_user=acting_user(request), **data.validated_data)
        return Response(TillSettingsSerializer(row).data)


class TopUpSaleInput(serializers.Serializer):
    amount = serializers.IntegerField(min_value=1, max_value=MAX_AMOUNT, help_text="fen")
    method = serializers.ChoiceField(choices=TenderMethod.choices, help_text="cash, wechat or alipay")
    location = serializers.PrimaryKeyRelatedField(
        queryset=Location.objects.filter(is_active=True), required=False, allow_null=True
    )
    auth_code = serializers.CharField(
        required=False, allow_blank=True, max_length=40, help_text="WeChat Pay / Alipay: the client's payment code"
    )
    qr = serializers.BooleanField(
        required=False, default=False, help_text="WeChat Pay / Alipay: show a QR code for the client to scan"
    )


class TopUpView(GenericAPIView):
    """``POST /api/v1/clients/{id}/top-ups/`` ``{amount, method, auth_code?, qr?}``: sold through the till as a
    one-line bill paid by ``method``, with the salon's top-up rule; answers the wallet as ``GET …/wallet/``
    does, plus ``order``. WeChat Pay / Alipay carry the client's payment code (``auth_code``) or ``qr: true``
    and are answered as the order's gateway payments are (``gateway_tenders.top_up_response``): ``201`` paid,
    ``202`` while the client confirms or scans (the wallet not yet credited), ``400 gateway_payment_failed``
    when the gateway refused (the order voided, nothing credited)."""

    permission_classes = [HasRolePermission]
    required_permission = "take_payments"
    serializer_class = TopUpSaleInput

    @extend_schema(request=TopUpSaleInput, parameters=[IDEMPOTENCY_HEADER], responses={201: dict, 202: dict})
    def post(self, request: Request, pk: int) -> Response:
        from apps.loyalty.selectors import member_client

        client = member_client(pk)
        data = TopUpSaleInput(data=request.data)
        data.is_valid(raise_exception=True)
        method = data.validated_data["method"]
        qr = bool(data.validated_data.get("qr")) and method in checkout.GATEWAYS
        sale = top_ups.top_up_sell(
            client=client,
            amount=data.validated_data["amount"],
            method=method,
            location=data.validated_data.get("location"),
            idempotency_key=_key(request),
            acting_user=acting_user(request),
            auth_code=data.validated_data.get("auth_code") or "",
            qr=qr,
            notify_url=notify_url(request, method) if qr else "",
        )
        if sale.gateway is not None:
            return top_up_response(client, sale.gateway)
        return Response({**wallet_body(client), "order": sale.bill.pk}, status=status.HTTP_201_CREATED)


urlpatterns = [
    path("orders/", OrderListView.as_view(), name="api-order-list"),
    path("orders/<int:pk>/", OrderDetailView.as_view(), name="api-order-detail"),
    path("orders/<int:pk>/lines/", OrderLinesView.as_view(), name="api-order-lines"),
    path("orders/<int:pk>/lines/<int:line_pk>/", OrderLineView.as_view(), name="api-order-line"),
    path("orders/<int:pk>/pay/", OrderPayView.as_view(), name="api-order-pay"),
    path("orders/<int:pk>/refund/", OrderRefundView.as_view(), name="api-order-refund"),
    path("orders/<int:pk>/void/", OrderVoidView.as_view(), name="api-order-void"),
    path("orders/<int:pk>/coupons/", OrderCouponsView.as_view(), name="api-order-coupons"),
    path("orders/<int:pk>/coupons/<int:coupon_pk>/", OrderCouponView.as_view(), name="api-order-coupon"),
    path("till-settings/", TillSettingsView.as_view(), name="api-till-settings"),
    path("clients/<int:pk>/top-ups/", TopUpView.as_view(), name="api-client-top-ups"),
]
