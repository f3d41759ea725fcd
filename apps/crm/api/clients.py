"""REST API: clients, tags, tiers, history, merges and personal data (SPEC §4 `/api/v1/clients/`).

Thin: the serializers check shapes, the services keep the rules. Phones and ID numbers are
masked for roles without ``view_client_contact``.
"""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from django.urls import path
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.models import Location, User
from apps.core.permissions import HasRolePermission, acting_user
from apps.core.roles import perm
from apps.crm import selectors
from apps.crm.errors import MESSAGES, CrmError
from apps.crm.models import (
    Client,
    ClientMerge,
    Gender,
    MembershipTier,
    PurchaseKind,
    PurchaseLine,
    PurchaseSource,
    SkinType,
    Source,
    Tag,
    TagRule,
)
from apps.crm.services import clients as client_services
from apps.crm.services import merge as merge_services
from apps.crm.services import privacy
from apps.crm.services import tags as tag_services


def can_see_contact(request: Any) -> bool:
    return bool(request.user.has_perm(perm("view_client_contact")))


class TagBriefSerializer(serializers.ModelSerializer):
    automatic = serializers.BooleanField(source="is_automatic", read_only=True)

    class Meta:
        model = Tag
        fields = ["id", "name", "color", "automatic"]


class ClientSerializer(serializers.ModelSerializer):
    """A client. ``tags`` reads as objects and is written as a list of tag ids (manual tags only)."""

    phone = serializers.CharField(required=False, allow_blank=True, max_length=30)
    phone_alt = serializers.CharField(required=False, allow_blank=True, max_length=30)
    id_number = serializers.CharField(required=False, allow_blank=True, max_length=30)
    gender = serializers.ChoiceField(choices=Gender.choices, required=False, allow_blank=True)
    source = serializers.ChoiceField(  # type: ignore[assignment]  # the model field, not DRF's Field.source
        choices=Source.choices, required=False, allow_blank=True
    )
    skin_type = serializers.ChoiceField(choices=SkinType.choices, required=False, allow_blank=True)
    tags = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False, write_only=True)
    referrer = serializers.PrimaryKeyRelatedField(
        queryset=Client.objects.filter(is_active=True), required=False, allow_null=True
    )
    preferred_staff = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), required=False, allow_null=True
    )
    home_location = serializers.PrimaryKeyRelatedField(queryset=Location.objects.all(), required=False, allow_null=True)
    tier = serializers.PrimaryKeyRelatedField(queryset=MembershipTier.objects.all(), required=False, allow_null=True)
    has_alert = serializers.BooleanField(read_only=True)
    lunar_birthday = serializers.SerializerMethodField()

    class Meta:
        model = Client
        fields = [
            "id",
            "name",
            "phone",
            "phone_alt",
            "gender",
            "birthday",
            "birthday_is_lunar",
            "lunar_birthday",
            "anniversary",
            "tags",
            "notes",
            "id_number",
            "wechat_id",
            "email",
            "occupation",
            "address",
            "source",
            "referrer",
            "preferred_staff",
            "home_location",
            "card_number",
            "tier",
            "skin_type",
            "allergies",
            "contraindications",
            "taboos",
            "has_alert",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]

    def get_lunar_birthday(self, client: Client) -> dict[str, Any] | None:
        if not client.lunar_birthday_month:
            return None
        return {
            "month": client.lunar_birthday_month,
            "day": client.lunar_birthday_day,
            "is_leap_month": client.lunar_birthday_is_leap_month,
        }

    def validate_tags(self, value: list[int]) -> list[Tag]:
        found = {t.pk: t for t in Tag.objects.filter(pk__in=value)}
        if len(found) != len(set(value)):
            raise serializers.ValidationError(str(MESSAGES[CrmError.UNKNOWN_TAG]))
        return [found[pk] for pk in dict.fromkeys(value)]

    def to_representation(self, client: Client) -> dict[str, Any]:
        data = super().to_representation(client)
        data["tags"] = [TagBriefSerializer(ct.tag).data for ct in client.client_tags.all()]
        request = self.context.get("request")
        if request is not None and not can_see_contact(request):
            data["phone"] = client.phone_masked
            data["phone_alt"] = client.phone_alt_masked
            data["id_number"] = client.id_number_masked
        return data


class ClientListView(GenericAPIView):
    """Clients, newest first. ``?search=`` finds by name prefix, whole phone, last four digits,
    pinyin initials or card number; ``?tag=``, ``?tier=``, ``?source=``, ``?alert=1`` filter."""

    permission_classes = [HasRolePermission]
    required_permission = "manage_clients"
    serializer_class = ClientSerializer

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return selectors.client_list_filtered(self.request.query_params)

    @extend_schema(
        parameters=[
            OpenApiParameter("search", str),
            OpenApiParameter("tag", int),
            OpenApiParameter("tier", int),
            OpenApiParameter("source", str),
            OpenApiParameter("alert", bool),
        ]
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(ClientSerializer(page, many=True, context={"request": request}).data)

    def post(self, request: Request) -> Response:
        data = ClientSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        client = client_services.client_create(acting_user=acting_user(request), tags=fields.pop("tags", ()), **fields)
        return Response(
            ClientSerializer(selectors.client_get(pk=client.pk), context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )


class ClientDetailView(GenericAPIView):
    """Read, change or erase one client. DELETE erases the client's personal data on request
    (SEC-4): the record stays de-identified so sales figures hold; it is audited."""

    permission_classes = [HasRolePermission]
    required_permission = "manage_clients"
    serializer_class = ClientSerializer

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return Client.objects.filter(is_active=True)

    def _client(self, pk: int) -> Client:
        client = selectors.client_get(pk=pk)
        if client is None:
            from django.http import Http404

            raise Http404
        return client

    def get(self, request: Request, pk: int) -> Response:
        return Response(ClientSerializer(self._client(pk), context={"request": request}).data)

    def patch(self, request: Request, pk: int) -> Response:
        client = self._client(pk)
        data = ClientSerializer(client, data=request.data, partial=True, context={"request": request})
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        tags = fields.pop("tags", None)
        client_services.client_update(client=client, acting_user=acting_user(request), tags=tags, **fields)
        return Response(ClientSerializer(self._client(pk), context={"request": request}).data)

    def put(self, request: Request, pk: int) -> Response:
        return self.patch(request, pk)

    def delete(self, request: Request, pk: int) -> Response:
        client = self._client(pk)
        reason = request.data.get("reason", "") if isinstance(request.data, dict) else ""
        privacy.client_erase(client=client, acting_user=acting_user(request), reason=str(reason))
        return Response(status=status.HTTP_204_NO_CONTENT)


class ClientSummaryView(GenericAPIView):
    permission_classes = [HasRolePermission]

    @extend_schema(
        responses=inline_serializer(
            "ClientSummary",
            {
                "total_spend": serializers.IntegerField(),
                "visits": serializers.IntegerField(),
                "average_ticket": serializers.IntegerField(),
                "first_visit": serializers.DateTimeField(allow_null=True),
                "last_visit": serializers.DateTimeField(allow_null=True),
                "median_days_between_visits": serializers.FloatField(allow_null=True),
                "referrals": serializers.IntegerField(),
                "next_birthday": serializers.DateField(allow_null=True),
            },
        )
    )
    def get(self, request: Request, pk: int) -> Response:
        client = get_object_or_404(Client, pk=pk, is_active=True)
        summary = selectors.client_summary(client=client)
        nb = client_services.client_next_birthday(client)
        return Response(
            {
                "total_spend": summary.total_spend,
                "visits": summary.visits,
                "average_ticket": summary.average_ticket,
                "first_visit": summary.first_visit,
                "last_visit": summary.last_visit,
                "median_days_between_visits": summary.median_days_between_visits,
                "referrals": summary.referrals,
                "next_birthday": nb,
            }
        )


class PurchaseSerializer(serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=PurchaseKind.choices, default=PurchaseKind.SERVICE)
    amount = serializers.IntegerField(min_value=-(10**12), max_value=10**12)
    quantity = serializers.IntegerField(min_value=1, max_value=100000, default=1)
    staff = serializers.PrimaryKeyRelatedField(queryset=User.objects.all(), required=False, allow_null=True)
    location = serializers.PrimaryKeyRelatedField(queryset=Location.objects.all(), required=False, allow_null=True)
    reference = serializers.CharField(required=False, allow_blank=True, max_length=100)

    class Meta:
        model = PurchaseLine
        fields = [
            "id",
            "occurred_at",
            "kind",
            "item_name",
            "quantity",
            "amount",
            "staff",
            "staff_name",
            "tender",
            "location",
            "visit_reference",
            "reference",
            "source",
            "note",
        ]
        read_only_fields = ["id", "source", "staff_name"]


class ClientPurchasesView(GenericAPIView):
    """A client's consumption history (``?date_from=&date_to=&amount_min=&amount_max=&staff=&kind=``).
    POST records a past purchase by hand (history brought from a previous system); ``reference``
    makes it idempotent. Sales at the till are recorded by the till itself."""

    permission_classes = [HasRolePermission]
    required_permission = "manage_clients"
    serializer_class = PurchaseSerializer

    def get_queryset(self):  # type: ignore[no-untyped-def]
        client = get_object_or_404(Client, pk=self.kwargs["pk"], is_active=True)
        return selectors.client_purchases(client=client, params=self.request.query_params)

    def get(self, request: Request, pk: int) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(PurchaseSerializer(page, many=True).data)

    def post(self, request: Request, pk: int) -> Response:
        client = get_object_or_404(Client, pk=pk, is_active=True)
        data = PurchaseSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        line = client_services.purchase_record(client=client, source=PurchaseSource.MANUAL, **data.validated_data)
        return Response(PurchaseSerializer(line).data, status=status.HTTP_201_CREATED)


class PersonalDataView(GenericAPIView):
    """Everything held about one client as JSON (a PIPL request). Audited."""

    permission_classes = [HasRolePermission]
    read_permission = "export_data"

    @extend_schema(responses=inline_serializer("PersonalData", {"profile": serializers.DictField()}))
    def get(self, request: Request, pk: int) -> Response:
        client = get_object_or_404(Client, pk=pk, erased_at__isnull=True)
        return Response(privacy.client_personal_data(client=client, acting_user=acting_user(request)))


class MergeRequestSerializer(serializers.Serializer):
    other = serializers.PrimaryKeyRelatedField(queryset=Client.objects.filter(is_active=True))


class MergeSerializer(serializers.ModelSerializer):
    class Meta:
        model = ClientMerge
        fields = ["id", "survivor", "merged", "moved", "merged_at", "merged_by", "reversed_at", "reversed_by"]


class ClientMergeView(GenericAPIView):
    """Merge ``other`` into this client (CRM-12); the answer is the merge record, which can be undone."""

    permission_classes = [HasRolePermission]
    required_permission = "manage_clients"
    serializer_class = MergeRequestSerializer

    @extend_schema(responses={201: MergeSerializer})
    def post(self, request: Request, pk: int) -> Response:
        survivor = get_object_or_404(Client, pk=pk, is_active=True)
        data = MergeRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        record = merge_services.client_merge(
            survivor=survivor, merged=data.validated_data["other"], acting_user=acting_user(request)
        )
        return Response(MergeSerializer(record).data, status=status.HTTP_201_CREATED)


class MergeUndoView(GenericAPIView):
    permission_classes = [HasRolePermission]
    required_permission = "manage_clients"
    serializer_class = MergeSerializer

    @extend_schema(request=None, responses=MergeSerializer)
    def post(self, request: Request, pk: int) -> Response:
        record = get_object_or_404(ClientMerge, pk=pk)
        merge_services.client_merge_undo(merge=record, acting_user=acting_user(request))
        record.refresh_from_db()
        return Response(MergeSerializer(record).data)


class BulkTagSerializer(serializers.Serializer):
    clients = serializers.ListField(child=serializers.IntegerField(min_value=1), min_length=1, max_length=5000)
    tag = serializers.PrimaryKeyRelatedField(queryset=Tag.objects.all())
    action = serializers.ChoiceField(choices=[("add", "add"), ("remove", "remove")], default="add")


class BulkTagView(GenericAPIView):
    """Give or remove a manual tag for many clients at once (a list selection)."""

    permission_classes = [HasRolePermission]
    required_permission = "manage_clients"
    serializer_class = BulkTagSerializer

    @extend_schema(responses=inline_serializer("BulkTagResult", {"changed": serializers.IntegerField()}))
    def post(self, request: Request) -> Response:
        data = BulkTagSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        service = tag_services.clients_tag if v["action"] == "add" else tag_services.clients_untag
        changed = service(client_ids=v["clients"], tag=v["tag"], acting_user=acting_user(request))
        return Response({"changed": changed})


class TagSerializer(serializers.ModelSerializer):
    rule = serializers.ChoiceField(choices=TagRule.choices, required=False, allow_blank=True, default="")
    automatic = serializers.BooleanField(source="is_automatic", read_only=True)
    client_count = serializers.IntegerField(read_only=True, default=None)

    class Meta:
        model = Tag
        fields = [
            "id",
            "name",
            "color",
            "description",
            "rule",
            "rule_amount",
            "rule_count",
            "rule_months",
            "rule_days",
            "automatic",
            "client_count",
            "recomputed_at",
        ]
        read_only_fields = ["id", "recomputed_at"]
        extra_kwargs = {
            "rule_amount": {"min_value": 1, "max_value": 10**12},
            "rule_count": {"min_value": 1, "max_value": 10000},
            "rule_months": {"min_value": 1, "max_value": 120},
            "rule_days": {"min_value": 1, "max_value": 3650},
            "color": {"default": "#2563eb"},
        }


def _tag_params(v: dict[str, Any]) -> dict[str, Any]:
    return {k: v.get(k) for k in ("rule_amount", "rule_count", "rule_months", "rule_days")}


class TagListView(GenericAPIView):
    permission_classes = [HasRolePermission]
    required_permission = "manage_clients"
    serializer_class = TagSerializer

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return selectors.tag_list().order_by("name")

    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(TagSerializer(page, many=True).data)

    def post(self, request: Request) -> Response:
        data = TagSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        tag = tag_services.tag_create(
            name=v["name"],
            color=v.get("color", "#2563eb"),
            description=v.get("description", ""),
            rule=v.get("rule", ""),
            acting_user=acting_user(request),
            **_tag_params(v),
        )
        return Response(TagSerializer(selectors.tag_list().get(pk=tag.pk)).data, status=status.HTTP_201_CREATED)


class TagDetailView(GenericAPIView):
    permission_classes = [HasRolePermission]
    required_permission = "manage_clients"
    serializer_class = TagSerializer

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return selectors.tag_list()

    def get(self, request: Request, pk: int) -> Response:
        return Response(TagSerializer(get_object_or_404(self.get_queryset(), pk=pk)).data)

    def patch(self, request: Request, pk: int) -> Response:
        tag = get_object_or_404(Tag, pk=pk)
        data = TagSerializer(tag, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        v = {**TagSerializer(tag).data, **data.validated_data}
        tag_services.tag_update(
            tag=tag,
            name=v["name"],
            color=v["color"],
            description=v.get("description") or "",
            rule=v.get("rule") or "",
            acting_user=acting_user(request),
            **_tag_params(v),
        )
        return Response(TagSerializer(get_object_or_404(self.get_queryset(), pk=pk)).data)

    def delete(self, request: Request, pk: int) -> Response:
        tag_services.tag_delete(tag=get_object_or_404(Tag, pk=pk), acting_user=acting_user(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class TagRecomputeView(GenericAPIView):
    """Re-apply an automatic tag's rule now (it is also recomputed every night)."""

    permission_classes = [HasRolePermission]
    required_permission = "manage_clients"
    serializer_class = TagSerializer

    @extend_schema(
        request=None,
        responses=inline_serializer(
            "TagRecompute", {"added": serializers.IntegerField(), "removed": serializers.IntegerField()}
        ),
    )
    def post(self, request: Request, pk: int) -> Response:
        added, removed = tag_services.tag_rule_apply(tag=get_object_or_404(Tag, pk=pk))
        return Response({"added": added, "removed": removed})


class TierSerializer(serializers.ModelSerializer):
    rank = serializers.IntegerField(min_value=0, max_value=1000)

    class Meta:
        model = MembershipTier
        fields = ["id", "name", "rank", "color"]
        read_only_fields = ["id"]
        extra_kwargs = {"color": {"default": "#8c6d1f"}}


class TierListView(GenericAPIView):
    permission_classes = [HasRolePermission]
    required_permission = "manage_catalog"
    serializer_class = TierSerializer

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return MembershipTier.objects.order_by("rank")

    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(TierSerializer(page, many=True).data)

    def post(self, request: Request) -> Response:
        data = TierSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        tier = tag_services.tier_create(acting_user=acting_user(request), **data.validated_data)
        return Response(TierSerializer(tier).data, status=status.HTTP_201_CREATED)


class TierDetailView(GenericAPIView):
    permission_classes = [HasRolePermission]
    required_permission = "manage_catalog"
    serializer_class = TierSerializer

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return MembershipTier.objects.all()

    def get(self, request: Request, pk: int) -> Response:
        return Response(TierSerializer(get_object_or_404(MembershipTier, pk=pk)).data)

    def patch(self, request: Request, pk: int) -> Response:
        tier = get_object_or_404(MembershipTier, pk=pk)
        data = TierSerializer(tier, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        v = {"name": tier.name, "rank": tier.rank, "color": tier.color, **data.validated_data}
        tier = tag_services.tier_update(tier=tier, acting_user=acting_user(request), **v)
        return Response(TierSerializer(tier).data)

    def delete(self, request: Request, pk: int) -> Response:
        tag_services.tier_delete(tier=get_object_or_404(MembershipTier, pk=pk), acting_user=acting_user(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


urlpatterns = [
    path("clients/", ClientListView.as_view(), name="api-client-list"),
    path("clients/bulk-tag/", BulkTagView.as_view(), name="api-client-bulk-tag"),
    path("clients/<int:pk>/", ClientDetailView.as_view(), name="api-client-detail"),
    path("clients/<int:pk>/summary/", ClientSummaryView.as_view(), name="api-client-summary"),
    path("clients/<int:pk>/purchases/", ClientPurchasesView.as_view(), name="api-client-purchases"),
    path("clients/<int:pk>/personal-data/", PersonalDataView.as_view(), name="api-client-personal-data"),
    path("clients/<int:pk>/merge/", ClientMergeView.as_view(), name="api-client-merge"),
    path("client-merges/<int:pk>/undo/", MergeUndoView.as_view(), name="api-client-merge-undo"),
    path("tags/", TagListView.as_view(), name="api-tag-list"),
    path("tags/<int:pk>/", TagDetailView.as_view(), name="api-tag-detail"),
    path("tags/<int:pk>/recompute/", TagRecomputeView.as_view(), name="api-tag-recompute"),
    path("tiers/", TierListView.as_view(), name="api-tier-list"),
    path("tiers/<int:pk>/", TierDetailView.as_view(), name="api-tier-detail"),
]
