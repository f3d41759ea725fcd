"""REST API: a client's timeline and complaints (CRM-5), follow-ups (CRM-6).

Thin: validate the shape, call one service, serialise. Any signed-in staff member may call
these routes; who may do what to a complaint or someone else's follow-up is the services'
rule (a refusal is a 403 with ``detail``).
"""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from django.urls import path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.db import salon_today
from apps.core.models import User
from apps.core.permissions import HasRolePermission, acting_user
from apps.core.roles import perm
from apps.crm import selectors_interactions as selectors
from apps.crm.models import (
    Channel,
    Client,
    ComplaintStatus,
    FollowUp,
    FollowUpStatus,
    Interaction,
    InteractionKind,
)
from apps.crm.services import interactions as services

# --- serializers --------------------------------------------------------------------------------


class InteractionSerializer(serializers.ModelSerializer):
    recorded_by_name = serializers.CharField(source="recorded_by.name", read_only=True, default="")
    owner_name = serializers.CharField(source="owner.name", read_only=True, default="")

    class Meta:
        model = Interaction
        fields = [
            "id",
            "client",
            "kind",
            "channel",
            "summary",
            "body",
            "rating",
            "occurred_at",
            "recorded_by",
            "recorded_by_name",
            "status",
            "owner",
            "owner_name",
            "resolution",
            "resolved_at",
            "resolved_by",
            "created_at",
        ]
        read_only_fields = fields


class InteractionCreateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=InteractionKind.choices)
    channel = serializers.ChoiceField(choices=Channel.choices, default=Channel.IN_PERSON)
    summary = serializers.CharField(max_length=200)
    body = serializers.CharField(required=False, allow_blank=True, default="")
    rating = serializers.IntegerField(required=False, allow_null=True, default=None)
    occurred_at = serializers.DateTimeField(required=False, allow_null=True, default=None)


class InteractionUpdateSerializer(serializers.Serializer):
    summary = serializers.CharField(max_length=200, required=False)
    body = serializers.CharField(required=False, allow_blank=True)


class TransitionSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=ComplaintStatus.choices)
    owner = serializers.PrimaryKeyRelatedField(queryset=User.objects.all(), required=False, allow_null=True)
    resolution = serializers.CharField(required=False, allow_blank=True, default="")


class FollowUpSerializer(serializers.ModelSerializer):
    client_name = serializers.CharField(source="client.name", read_only=True)
    client_phone = serializers.SerializerMethodField(help_text="Masked unless the role may see client contacts.")
    assigned_to_name = serializers.CharField(source="assigned_to.name", read_only=True)
    is_overdue = serializers.SerializerMethodField()

    class Meta:
        model = FollowUp
        fields = [
            "id",
            "client",
            "client_name",
            "client_phone",
            "assigned_to",
            "assigned_to_name",
            "due_date",
            "is_overdue",
            "purpose",
            "channel",
            "status",
            "outcome",
            "completed_at",
            "completed_by",
            "reminded_at",
            "created_by",
            "created_at",
        ]
        read_only_fields = fields

    def get_client_phone(self, obj: FollowUp) -> str:
        return obj.client.phone if self.context.get("see_phone") else obj.client.phone_masked

    def get_is_overdue(self, obj: FollowUp) -> bool:
        return obj.status == FollowUpStatus.OPEN and obj.due_date < self.context["today"]


class FollowUpCreateSerializer(serializers.Serializer):
    client = serializers.PrimaryKeyRelatedField(queryset=Client.objects.all())
    assigned_to = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.all(), required=False, help_text="Defaults to the signed-in staff member."
    )
    due_date = serializers.DateField()
    purpose = serializers.CharField(max_length=200)
    channel = serializers.ChoiceField(choices=Channel.choices, default=Channel.PHONE)


class FollowUpUpdateSerializer(serializers.Serializer):
    assigned_to = serializers.PrimaryKeyRelatedField(queryset=User.objects.all(), required=False)
    due_date = serializers.DateField(required=False)
    purpose = serializers.CharField(max_length=200, required=False)
    channel = serializers.ChoiceField(choices=Channel.choices, required=False)
    status = serializers.ChoiceField(
        choices=[(FollowUpStatus.CANCELLED.value, FollowUpStatus.CANCELLED.label)],
        required=False,
        help_text="Only 'cancelled' (complete through /complete/); not combined with other changes.",
    )
    outcome = serializers.CharField(required=False, allow_blank=True, help_text="The reason when cancelling.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "status" in attrs and set(attrs) - {"status", "outcome"}:
            raise serializers.ValidationError({"status": [_("Cancel a follow-up without changing it as well.")]})
        if "outcome" in attrs and "status" not in attrs:
            raise serializers.ValidationError({"outcome": [_("Record an outcome by completing the follow-up.")]})
        return attrs


class FollowUpCompleteSerializer(serializers.Serializer):
    outcome = serializers.CharField(allow_blank=True)
    record_interaction = serializers.BooleanField(
        default=False, help_text="Also put the outcome on the client's timeline as a communication."
    )


class FollowUpFilterSerializer(serializers.Serializer):
    assigned_to = serializers.CharField(required=False, help_text="'me' or a staff id (managers only).")
    due = serializers.ChoiceField(choices=["today", "overdue"], required=False)
    status = serializers.ChoiceField(choices=FollowUpStatus.choices, required=False)
    client = serializers.IntegerField(required=False, min_value=1)

    def validate_assigned_to(self, value: str) -> str:
        if value != "me" and not value.isdigit():
            raise serializers.ValidationError(_("Use 'me' or a staff id."))
        return value


# --- views --------------------------------------------------------------------------------------


class ClientInteractionListView(GenericAPIView):
    """A client's timeline, newest first (``?kind=`` narrows it), and recording a new entry."""

    permission_classes = [HasRolePermission]
    serializer_class = InteractionSerializer

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return selectors.interaction_list()

    @extend_schema(
        parameters=[OpenApiParameter("kind", OpenApiTypes.STR, enum=InteractionKind.values)],
        responses=InteractionSerializer(many=True),
    )
    def get(self, request: Request, pk: int) -> Response:
        client = get_object_or_404(Client, pk=pk)
        kind = request.query_params.get("kind") or None
        if kind is not None and kind not in InteractionKind.values:
            return Response({"kind": [_("Select a valid choice.")]}, status=status.HTTP_400_BAD_REQUEST)
        page = self.paginate_queryset(selectors.client_timeline(client=client, kind=kind))
        return self.get_paginated_response(InteractionSerializer(page, many=True).data)

    @extend_schema(request=InteractionCreateSerializer, responses={201: InteractionSerializer})
    def post(self, request: Request, pk: int) -> Response:
        client = get_object_or_404(Client, pk=pk)
        data = InteractionCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        interaction = services.interaction_record(
            client=client, acting_user=acting_user(request), **data.validated_data
        )
        return Response(InteractionSerializer(interaction).data, status=status.HTTP_201_CREATED)


class InteractionDetailView(GenericAPIView):
    permission_classes = [HasRolePermission]
    serializer_class = InteractionSerializer

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return selectors.interaction_list()

    def get(self, request: Request, pk: int) -> Response:
        return Response(InteractionSerializer(get_object_or_404(self.get_queryset(), pk=pk)).data)

    @extend_schema(request=InteractionUpdateSerializer, responses=InteractionSerializer)
    def patch(self, request: Request, pk: int) -> Response:
        interaction = get_object_or_404(Interaction, pk=pk)
        data = InteractionUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        interaction = services.interaction_update(
            interaction=interaction, acting_user=acting_user(request), **data.validated_data
        )
        return Response(InteractionSerializer(interaction).data)


class ComplaintTransitionView(GenericAPIView):
    """Move a complaint: open → handling → resolved, or reopen a resolved one (``handling``)."""

    permission_classes = [HasRolePermission]
    serializer_class = TransitionSerializer

    @extend_schema(request=TransitionSerializer, responses=InteractionSerializer)
    def post(self, request: Request, pk: int) -> Response:
        complaint = get_object_or_404(Interaction, pk=pk)
        data = TransitionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        complaint = services.complaint_transition(
            complaint=complaint,
            to_status=v["status"],
            owner=v.get("owner"),
            resolution=v["resolution"],
            acting_user=acting_user(request),
        )
        return Response(InteractionSerializer(complaint).data)


def _follow_up_context(request: Request) -> dict[str, Any]:
    return {"see_phone": request.user.has_perm(perm("view_client_contact")), "today": salon_today()}


def _may_manage(request: Request) -> bool:
    return bool(request.user.has_perm(perm("manage_clients")))


def _visible_follow_ups(request: Request) -> Any:
    """Staff without ``manage_clients`` see only their own follow-ups (someone else's is a 404)."""
    queryset = selectors.follow_up_list()
    return queryset if _may_manage(request) else queryset.filter(assigned_to=request.user.pk)


class FollowUpListView(GenericAPIView):
    """Follow-ups: a staff member sees their own; with ``manage_clients`` everyone's
    (``?assigned_to=me`` or a staff id narrows it). ``?due=today|overdue`` lists open ones
    due today or overdue."""

    permission_classes = [HasRolePermission]
    serializer_class = FollowUpSerializer

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return selectors.follow_up_list()

    @extend_schema(
        parameters=[
            OpenApiParameter("assigned_to", OpenApiTypes.STR, description="'me' or a staff id"),
            OpenApiParameter("due", OpenApiTypes.STR, enum=["today", "overdue"]),
            OpenApiParameter("status", OpenApiTypes.STR, enum=FollowUpStatus.values),
            OpenApiParameter("client", OpenApiTypes.INT),
        ],
        responses=FollowUpSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        filters = FollowUpFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        f = filters.validated_data
        whose = f.get("assigned_to")
        assigned: Any = None
        if whose == "me" or not _may_manage(request):
            assigned = request.user.pk
        elif whose:
            assigned = int(whose)
        if f.get("due"):
            tasks = selectors.follow_ups_due(assigned_to=assigned, due=f["due"])
        else:
            tasks = self.get_queryset().order_by("due_date", "id")
            if assigned is not None:
                tasks = tasks.filter(assigned_to=assigned)
        if f.get("status"):
            tasks = tasks.filter(status=f["status"])
        if f.get("client"):
            tasks = tasks.filter(client=f["client"])
        page = self.paginate_queryset(tasks)
        return self.get_paginated_response(
            FollowUpSerializer(page, many=True, context=_follow_up_context(request)).data
        )

    @extend_schema(request=FollowUpCreateSerializer, responses={201: FollowUpSerializer})
    def post(self, request: Request) -> Response:
        data = FollowUpCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        me = acting_user(request)
        follow_up = services.follow_up_create(
            client=v["client"],
            assigned_to=v.get("assigned_to") or me,
            due_date=v["due_date"],
            purpose=v["purpose"],
            channel=v["channel"],
            acting_user=me,
        )
        return Response(
            FollowUpSerializer(follow_up, context=_follow_up_context(request)).data, status=status.HTTP_201_CREATED
        )


class FollowUpDetailView(GenericAPIView):
    permission_classes = [HasRolePermission]
    serializer_class = FollowUpSerializer

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return _visible_follow_ups(self.request)

    def get(self, request: Request, pk: int) -> Response:
        follow_up = get_object_or_404(self.get_queryset(), pk=pk)
        return Response(FollowUpSerializer(follow_up, context=_follow_up_context(request)).data)

    @extend_schema(request=FollowUpUpdateSerializer, responses=FollowUpSerializer)
    def patch(self, request: Request, pk: int) -> Response:
        follow_up = get_object_or_404(self.get_queryset(), pk=pk)
        data = FollowUpUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = dict(data.validated_data)
        me = acting_user(request)
        if v.pop("status", None) == FollowUpStatus.CANCELLED:
            follow_up = services.follow_up_cancel(follow_up=follow_up, reason=v.get("outcome", ""), acting_user=me)
        else:
            follow_up = services.follow_up_change(follow_up=follow_up, acting_user=me, **v)
        follow_up = selectors.follow_up_list().get(pk=follow_up.pk)
        return Response(FollowUpSerializer(follow_up, context=_follow_up_context(request)).data)


class FollowUpCompleteView(GenericAPIView):
    permission_classes = [HasRolePermission]
    serializer_class = FollowUpCompleteSerializer

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return _visible_follow_ups(self.request)

    @extend_schema(request=FollowUpCompleteSerializer, responses=FollowUpSerializer)
    def post(self, request: Request, pk: int) -> Response:
        follow_up = get_object_or_404(self.get_queryset(), pk=pk)
        data = FollowUpCompleteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        follow_up = services.follow_up_complete(
            follow_up=follow_up,
            outcome=data.validated_data["outcome"],
            record_interaction=data.validated_data["record_interaction"],
            acting_user=acting_user(request),
        )
        return Response(FollowUpSerializer(follow_up, context=_follow_up_context(request)).data)


urlpatterns = [
    path("clients/<int:pk>/interactions/", ClientInteractionListView.as_view(), name="api-client-interactions"),
    path("interactions/<int:pk>/", InteractionDetailView.as_view(), name="api-interaction"),
    path("interactions/<int:pk>/transition/", ComplaintTransitionView.as_view(), name="api-interaction-transition"),
    path("follow-ups/", FollowUpListView.as_view(), name="api-follow-ups"),
    path("follow-ups/<int:pk>/", FollowUpDetailView.as_view(), name="api-follow-up"),
    path("follow-ups/<int:pk>/complete/", FollowUpCompleteView.as_view(), name="api-follow-up-complete"),
]
