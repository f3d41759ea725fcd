"""Coupons through the API (SPEC §4, LOY-6): templates with their statistics and bulk issue, the rules
that issue coupons, a client's coupons, the best coupons for a draft bill, redemption and void.

Anyone signed in reads templates and rules; writing them, issuing and voiding need ``manage_loyalty``;
a client's coupons, the best combination and redemption are till work (``take_payments``). DELETE of a
template or a rule deactivates it: coupons already issued keep pointing at it."""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from django.urls import path
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from apps.catalog.models import Product, Service
from apps.core.permissions import HasRolePermission, acting_user
from apps.crm.models import Client, MembershipTier, Tag
from apps.loyalty import selectors_coupons as selectors
from apps.loyalty.models import (
    Coupon,
    CouponIssueRule,
    CouponKind,
    CouponRuleTrigger,
    CouponSource,
    CouponTemplate,
)
from apps.loyalty.selectors import member_client
from apps.loyalty.services import coupon_rules as rule_services
from apps.loyalty.services import coupon_templates as template_services
from apps.loyalty.services import coupons as coupon_services
from apps.loyalty.services.coupon_pricing import MAX_LINES, CouponOption, DraftLine, best_combination, coupon_quote

# --- templates ---------------------------------------------------------------------------------


class CouponTemplateSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(max_length=100)
    kind = serializers.ChoiceField(choices=CouponKind.choices)
    value = serializers.IntegerField(
        required=False,
        default=0,
        help_text="Money off: fen off. Percentage, product discount: percent off (1-99). "
        "Service trial: the price paid for one session (fen). Gift: unused.",
    )
    gift = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    min_spend = serializers.IntegerField(required=False, default=0, help_text="fen")
    max_discount = serializers.IntegerField(required=False, allow_null=True, default=None, help_text="fen")
    eligible_services = serializers.PrimaryKeyRelatedField(
        many=True, queryset=Service.objects.all(), required=False, default=list
    )
    eligible_products = serializers.PrimaryKeyRelatedField(
        many=True, queryset=Product.objects.all(), required=False, default=list
    )
    valid_from = serializers.DateField(required=False, allow_null=True, default=None)
    valid_until = serializers.DateField(required=False, allow_null=True, default=None)
    valid_days = serializers.IntegerField(required=False, allow_null=True, default=None)
    one_per_bill = serializers.BooleanField(required=False, default=True)
    stackable = serializers.BooleanField(required=False, default=False)
    max_issued = serializers.IntegerField(required=False, allow_null=True, default=None)
    issued_count = serializers.IntegerField(read_only=True)
    is_active = serializers.BooleanField(required=False, default=True)
    description = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


def _templates() -> Any:
    return CouponTemplate.objects.prefetch_related("eligible_services", "eligible_products").order_by("-id")


class CouponTemplateListView(GenericAPIView):
    """``/api/v1/coupon-templates/``: ``?is_active=true`` lists only those still issued."""

    permission_classes = [HasRolePermission]
    required_permission = "manage_loyalty"
    serializer_class = CouponTemplateSerializer
    queryset = CouponTemplate.objects.all()

    @extend_schema(operation_id="coupon_templates_list")
    def get(self, request: Request) -> Response:
        templates = _templates()
        if request.query_params.get("is_active") in ("true", "false"):
            templates = templates.filter(is_active=request.query_params["is_active"] == "true")
        page = self.paginate_queryset(templates)
        return self.get_paginated_response(CouponTemplateSerializer(page, many=True).data)

    def post(self, request: Request) -> Response:
        data = CouponTemplateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        template = template_services.coupon_template_create(acting_user=acting_user(request), **data.validated_data)
        return Response(CouponTemplateSerializer(template).data, status=status.HTTP_201_CREATED)


class CouponTemplateDetailView(GenericAPIView):
    permission_classes = [HasRolePermission]
    required_permission = "manage_loyalty"
    serializer_class = CouponTemplateSerializer
    queryset = CouponTemplate.objects.all()

    def get(self, request: Request, pk: int) -> Response:
        return Response(CouponTemplateSerializer(get_object_or_404(_templates(), pk=pk)).data)

    def patch(self, request: Request, pk: int) -> Response:
        template = get_object_or_404(CouponTemplate, pk=pk)
        data = CouponTemplateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        template = template_services.coupon_template_update(
            template=template, acting_user=acting_user(request), **data.validated_data
        )
        return Response(CouponTemplateSerializer(template).data)

    def put(self, request: Request, pk: int) -> Response:
        return self.patch(request, pk)

    def delete(self, request: Request, pk: int) -> Response:
        template = get_object_or_404(CouponTemplate, pk=pk)
        template_services.coupon_template_update(template=template, is_active=False, acting_user=acting_user(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class CouponStatsSerializer(serializers.Serializer):
    issued = serializers.IntegerField()
    redeemed = serializers.IntegerField()
    voided = serializers.IntegerField()
    expired_unused = serializers.IntegerField()
    redemption_rate = serializers.DecimalField(max_digits=5, decimal_places=1, help_text="percent of issued")
    total_discount = serializers.IntegerField(help_text="fen")


class CouponTemplateStatsView(GenericAPIView):
    """``GET /api/v1/coupon-templates/{id}/stats/``: issued, redeemed, voided, expired unused, the
    redemption rate and the discount given (``manage_loyalty``)."""

    permission_classes = [HasRolePermission]
    read_permission = "manage_loyalty"
    serializer_class = CouponStatsSerializer

    def get(self, request: Request, pk: int) -> Response:
        template = get_object_or_404(CouponTemplate, pk=pk)
        return Response(CouponStatsSerializer(selectors.coupon_template_stats(template)).data)


class BulkIssueSerializer(serializers.Serializer):
    clients = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False, max_length=20000)
    tag = serializers.PrimaryKeyRelatedField(queryset=Tag.objects.all(), required=False)
    batch_key = serializers.CharField(
        max_length=40, help_text="Names this issue: resubmitting it issues nothing twice."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("clients" in attrs) == ("tag" in attrs):
            raise serializers.ValidationError({"clients": ["Send either a list of clients or a tag."]})
        return attrs


class CouponTemplateIssueView(GenericAPIView):
    """``POST /api/v1/coupon-templates/{id}/issue/``: one coupon to each listed client, or to every active
    client carrying a tag. Returns how many were issued and how many were skipped (inactive clients and
    those who already got one under ``batch_key``)."""

    permission_classes = [HasRolePermission]
    required_permission = "manage_loyalty"
    serializer_class = BulkIssueSerializer

    @extend_schema(
        responses=inline_serializer(
            "CouponBulkIssue", {"issued": serializers.IntegerField(), "skipped": serializers.IntegerField()}
        )
    )
    def post(self, request: Request, pk: int) -> Response:
        template = get_object_or_404(CouponTemplate, pk=pk)
        data = BulkIssueSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        tag = data.validated_data.get("tag")
        recipients = selectors.active_clients_tagged(tag) if tag else sorted(set(data.validated_data["clients"]))
        issued = coupon_services.coupons_issue_bulk(
            template=template,
            clients=recipients,
            acting_user=acting_user(request),
            batch_key=data.validated_data["batch_key"],
        )
        return Response({"issued": issued, "skipped": len(recipients) - issued})


# --- rules -------------------------------------------------------------------------------------


class CouponRuleSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    template = serializers.PrimaryKeyRelatedField(queryset=CouponTemplate.objects.all())
    trigger = serializers.ChoiceField(choices=CouponRuleTrigger.choices)
    tier = serializers.PrimaryKeyRelatedField(
        queryset=MembershipTier.objects.all(), required=False, allow_null=True, default=None
    )
    min_top_up = serializers.IntegerField(required=False, default=0, help_text="fen; top-up rules only")
    is_active = serializers.BooleanField(required=False, default=True)


class CouponRuleListView(GenericAPIView):
    """``/api/v1/coupon-rules/``: ``?template={id}`` lists one template's rules."""

    permission_classes = [HasRolePermission]
    required_permission = "manage_loyalty"
    serializer_class = CouponRuleSerializer
    queryset = CouponIssueRule.objects.all()

    @extend_schema(operation_id="coupon_rules_list")
    def get(self, request: Request) -> Response:
        rules = selectors.coupon_rules()
        template = request.query_params.get("template", "")
        if template.isdigit():
            rules = rules.filter(template_id=int(template))
        page = self.paginate_queryset(rules)
        return self.get_paginated_response(CouponRuleSerializer(page, many=True).data)

    def post(self, request: Request) -> Response:
        data = CouponRuleSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        rule = rule_services.coupon_rule_create(acting_user=acting_user(request), **data.validated_data)
        return Response(CouponRuleSerializer(rule).data, status=status.HTTP_201_CREATED)


class CouponRuleDetailView(GenericAPIView):
    """A rule's template cannot change: add a rule for the other template instead."""

    permission_classes = [HasRolePermission]
    required_permission = "manage_loyalty"
    serializer_class = CouponRuleSerializer
    queryset = CouponIssueRule.objects.all()

    def get(self, request: Request, pk: int) -> Response:
        return Response(CouponRuleSerializer(get_object_or_404(CouponIssueRule, pk=pk)).data)

    def patch(self, request: Request, pk: int) -> Response:
        rule = get_object_or_404(CouponIssueRule, pk=pk)
        data = CouponRuleSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        changes = {k: v for k, v in data.validated_data.items() if k != "template"}
        rule = rule_services.coupon_rule_update(rule=rule, acting_user=acting_user(request), **changes)
        return Response(CouponRuleSerializer(rule).data)

    def put(self, request: Request, pk: int) -> Response:
        return self.patch(request, pk)

    def delete(self, request: Request, pk: int) -> Response:
        rule = get_object_or_404(CouponIssueRule, pk=pk)
        rule_services.coupon_rule_update(rule=rule, is_active=False, acting_user=acting_user(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- a client's coupons ------------------------------------------------------------------------


class CouponSerializer(serializers.ModelSerializer):
    template_name = serializers.CharField(source="template.name", read_only=True)
    kind = serializers.CharField(source="template.kind", read_only=True)
    gift = serializers.CharField(source="template.gift", read_only=True)

    class Meta:
        model = Coupon
        fields = [
            "id",
            "code",
            "client",
            "template",
            "template_name",
            "kind",
            "gift",
            "status",
            "source",
            "valid_from",
            "valid_until",
            "issued_at",
            "redeemed_at",
            "redeemed_reference",
            "discount",
        ]
        read_only_fields = fields


class CouponIssueSerializer(serializers.Serializer):
    template = serializers.PrimaryKeyRelatedField(queryset=CouponTemplate.objects.all())
    issue_key = serializers.CharField(max_length=90, help_text="Names this issue: a replay returns the same coupon.")


class ClientCouponsView(GenericAPIView):
    """``GET /api/v1/clients/{id}/coupons/?status=available|expired|redeemed|voided``: the client's
    coupons (``take_payments``). ``POST`` gives the client one coupon (``manage_loyalty``)."""

    permission_classes = [HasRolePermission]
    read_permission = "take_payments"
    required_permission = "manage_loyalty"
    serializer_class = CouponSerializer

    def get(self, request: Request, pk: int) -> Response:
        client = member_client(pk)
        state = request.query_params.get("status") or None
        if state is not None and state not in selectors.COUPON_STATES:
            raise serializers.ValidationError({"status": [f"One of: {', '.join(selectors.COUPON_STATES)}."]})
        page = self.paginate_queryset(selectors.client_coupons(client, state=state))
        return self.get_paginated_response(CouponSerializer(page, many=True).data)

    @extend_schema(request=CouponIssueSerializer, responses=CouponSerializer)
    def post(self, request: Request, pk: int) -> Response:
        client = member_client(pk)
        data = CouponIssueSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        coupon = coupon_services.coupon_issue(
            template=data.validated_data["template"],
            client=client,
            source=CouponSource.MANUAL,
            issue_key=f"api:{data.validated_data['issue_key']}",
            acting_user=acting_user(request),
        )
        return Response(CouponSerializer(coupon).data, status=status.HTTP_201_CREATED)


class DraftLineSerializer(serializers.Serializer):
    service = serializers.IntegerField(required=False, min_value=1)
    product = serializers.IntegerField(required=False, min_value=1)
    amount = serializers.IntegerField(min_value=0, help_text="The line total in fen, after price rules")
    quantity = serializers.IntegerField(min_value=1, max_value=10_000, required=False, default=1)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "service" in attrs and "product" in attrs:
            raise serializers.ValidationError({"product": ["A line is a service or a product, not both."]})
        return attrs


def _draft_lines(lines: list[dict[str, Any]]) -> list[DraftLine]:
    def line(data: dict[str, Any]) -> DraftLine:
        for kind in ("service", "product"):
            if kind in data:
                return DraftLine(kind, data[kind], data["amount"], data["quantity"])
        return DraftLine("other", None, data["amount"], data["quantity"])

    return [line(data) for data in lines]


class BillSerializer(serializers.Serializer):
    lines = DraftLineSerializer(many=True)

    def validate_lines(self, lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if len(lines) > MAX_LINES:
            raise serializers.ValidationError(f"At most {MAX_LINES} lines.")
        return lines


def _option(option: CouponOption) -> dict[str, Any]:
    reason = option.reason_if_not_applicable
    return {
        "coupon": CouponSerializer(option.coupon).data,
        "discount": option.discount,
        "applicable": option.applicable,
        "reason": {"code": reason.value, "message": option.reason_message} if reason else None,
    }


class ClientCouponsBestView(GenericAPIView):
    """``POST /api/v1/clients/{id}/coupons/best/``: for a draft bill, each of the client's unused coupons
    with what it takes off or why it cannot be used, and the best combination with its total."""

    permission_classes = [HasRolePermission]
    required_permission = "take_payments"
    serializer_class = BillSerializer

    @extend_schema(
        responses=inline_serializer(
            "CouponBest",
            {
                "subtotal": serializers.IntegerField(),
                "options": serializers.ListField(child=serializers.DictField()),
                "best": inline_serializer(
                    "CouponBestCombination",
                    {
                        "coupons": serializers.ListField(child=serializers.IntegerField()),
                        "discount": serializers.IntegerField(),
                    },
                ),
            },
        )
    )
    def post(self, request: Request, pk: int) -> Response:
        client = member_client(pk)
        data = BillSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        lines = _draft_lines(data.validated_data["lines"])
        options = coupon_quote(client=client, lines=lines)
        subtotal = sum(line.amount for line in lines)
        coupons, discount = best_combination(options, subtotal)
        return Response(
            {
                "subtotal": subtotal,
                "options": [_option(option) for option in options],
                "best": {"coupons": [coupon.pk for coupon in coupons], "discount": discount},
            }
        )


# --- redeeming and voiding ---------------------------------------------------------------------


class RedeemSerializer(BillSerializer):
    client = serializers.PrimaryKeyRelatedField(queryset=Client.objects.filter(is_active=True))
    reference = serializers.CharField(max_length=90, help_text="The bill: a replay with it returns the same coupon.")
    other_coupons = serializers.PrimaryKeyRelatedField(
        many=True, queryset=Coupon.objects.all(), required=False, default=list
    )


class CouponRedeemView(GenericAPIView):
    """``POST /api/v1/coupons/{id}/redeem/``: use the coupon on a bill; every condition is checked again."""

    permission_classes = [HasRolePermission]
    required_permission = "take_payments"
    serializer_class = RedeemSerializer

    @extend_schema(responses=CouponSerializer)
    def post(self, request: Request, pk: int) -> Response:
        coupon = get_object_or_404(Coupon, pk=pk)
        data = RedeemSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        coupon = coupon_services.coupon_redeem(
            coupon=coupon,
            client=data.validated_data["client"],
            lines=_draft_lines(data.validated_data["lines"]),
            reference=data.validated_data["reference"],
            other_coupons=data.validated_data["other_coupons"],
            acting_user=acting_user(request),
        )
        return Response(CouponSerializer(coupon).data)


class VoidSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200)


class CouponVoidView(GenericAPIView):
    """``POST /api/v1/coupons/{id}/void/``: take an unused coupon away, with a reason (audited)."""

    permission_classes = [HasRolePermission]
    required_permission = "manage_loyalty"
    serializer_class = VoidSerializer

    @extend_schema(responses=CouponSerializer)
    def post(self, request: Request, pk: int) -> Response:
        coupon = get_object_or_404(Coupon, pk=pk)
        data = VoidSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        coupon = coupon_services.coupon_void(
            coupon=coupon, reason=data.validated_data["reason"], acting_user=acting_user(request)
        )
        return Response(CouponSerializer(coupon).data)


urlpatterns = [
    path("coupon-templates/", CouponTemplateListView.as_view(), name="api-coupon-template-list"),
    path("coupon-templates/<int:pk>/", CouponTemplateDetailView.as_view(), name="api-coupon-template-detail"),
    path("coupon-templates/<int:pk>/stats/", CouponTemplateStatsView.as_view(), name="api-coupon-template-stats"),
    path("coupon-templates/<int:pk>/issue/", CouponTemplateIssueView.as_view(), name="api-coupon-template-issue"),
    path("coupon-rules/", CouponRuleListView.as_view(), name="api-coupon-rule-list"),
    path("coupon-rules/<int:pk>/", CouponRuleDetailView.as_view(), name="api-coupon-rule-detail"),
    path("clients/<int:pk>/coupons/", ClientCouponsView.as_view(), name="api-client-coupons"),
    path("clients/<int:pk>/coupons/best/", ClientCouponsBestView.as_view(), name="api-client-coupons-best"),
    path("coupons/<int:pk>/redeem/", CouponRedeemView.as_view(), name="api-coupon-redeem"),
    path("coupons/<int:pk>/void/", CouponVoidView.as_view(), name="api-coupon-void"),
]
