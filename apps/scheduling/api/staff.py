"""REST API of scheduling (SPEC §4): staff with their profiles, and staff groups. Thin: check the
shape, call one service, serialise."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from apps.catalog.models import Service
from apps.core import services as core_services
from apps.core.api import StaffSerializer as CoreStaffSerializer
from apps.core.models import Location, StaffLevel, User
from apps.core.permissions import HasRolePermission, acting_user
from apps.core.roles import perm
from apps.scheduling import selectors, services
from apps.scheduling.models import StaffGroup

# Shown only to roles that manage staff: a username is often the phone number or e-mail.
CONTACT_FIELDS = ("username", "email", "phone")


class _ProfileSkillsField(serializers.ManyRelatedField):
    """The services a staff member performs; empty for someone without a profile yet."""

    def get_attribute(self, instance: User) -> Any:
        profile = getattr(instance, "staff_profile", None)
        return profile.skills.all() if profile is not None else []


class StaffMemberSerializer(CoreStaffSerializer):
    services = _ProfileSkillsField(
        child_relation=serializers.PrimaryKeyRelatedField(queryset=Service.objects.all()),
        source="staff_profile.skills",
        required=False,
        help_text="Ids of the services this person performs (skills)",
    )
    level = serializers.PrimaryKeyRelatedField(
        source="staff_profile.level", queryset=StaffLevel.objects.all(), allow_null=True, required=False
    )
    group = serializers.PrimaryKeyRelatedField(
        source="staff_profile.group", queryset=StaffGroup.objects.all(), allow_null=True, required=False
    )
    home_location = serializers.PrimaryKeyRelatedField(
        source="staff_profile.home_location", queryset=Location.objects.all(), allow_null=True, required=False
    )
    bio = serializers.CharField(
        source="staff_profile.bio", required=False, allow_blank=True, allow_null=True, max_length=2000
    )
    photo = serializers.ImageField(source="staff_profile.photo", read_only=True, allow_null=True)

    class Meta(CoreStaffSerializer.Meta):
        fields = [
            *CoreStaffSerializer.Meta.fields,
            "services",
            "level",
            "group",
            "home_location",
            "bio",
            "photo",
        ]

    def to_representation(self, instance: Any) -> Any:
        data = super().to_representation(instance)
        request = self.context.get("request")
        if request is None or not request.user.has_perm(perm("manage_staff")):
            for field in CONTACT_FIELDS:
                data.pop(field, None)
        return data


def _profile_fields(validated: dict[str, Any]) -> dict[str, Any]:
    profile = validated.get("staff_profile", {})
    fields = {field: profile[field] for field in ("level", "group", "home_location", "bio") if field in profile}
    if "skills" in profile:
        fields["skills"] = profile["skills"]
    if fields.get("bio") is None and "bio" in fields:
        fields["bio"] = ""
    return fields


class StaffListView(generics.ListCreateAPIView):
    """Staff with their skills, level, group and home location (SCH-1). Anyone signed in may list
    them (booking needs it); contacts are shown only to roles that manage staff. Filters:
    ``?service=<id>`` (who performs it), ``?is_active=true|false``."""

    permission_classes = [HasRolePermission]
    required_permission = "manage_staff"
    serializer_class = StaffMemberSerializer

    def get_queryset(self) -> QuerySet[User]:
        staff = selectors.staff_with_profiles()
        try:
            service = int(self.request.query_params.get("service", ""))
        except ValueError:
            pass
        else:
            staff = staff.filter(staff_profile__skills=service)
        active = self.request.query_params.get("is_active", "").lower()
        if active in ("true", "1", "false", "0"):
            staff = staff.filter(is_active=active in ("true", "1"))
        return staff

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = self.get_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        user = services.staff_member_create(
            name=v["name"],
            role=v["role"],
            email=v.get("email", ""),
            phone=v.get("phone", ""),
            password=v.get("password"),
            locations=v.get("locations", []),
            acting_user=acting_user(request),
            **_profile_fields(v),
        )
        return Response(
            self.get_serializer(selectors.staff_with_profiles().get(pk=user.pk)).data, status=status.HTTP_201_CREATED
        )


class StaffDetailView(generics.RetrieveUpdateDestroyAPIView):
    """One staff member. PATCH changes details and profile together; DELETE deactivates (staff are
    never deleted: their history stays)."""

    permission_classes = [HasRolePermission]
    required_permission = "manage_staff"
    serializer_class = StaffMemberSerializer
    http_method_names = ["get", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[User]:
        return selectors.staff_with_profiles()

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        member = self.get_object()
        data = self.get_serializer(member, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        services.staff_member_update(
            user=member,
            acting_user=acting_user(request),
            name=v.get("name"),
            email=v.get("email"),
            phone=v.get("phone"),
            role=v.get("role"),
            locations=v.get("locations"),
            **_profile_fields(v),
        )
        return Response(self.get_serializer(self.get_queryset().get(pk=member.pk)).data)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        core_services.staff_deactivate(user=self.get_object(), acting_user=acting_user(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class StaffGroupSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(max_length=50)
    member_count = serializers.IntegerField(read_only=True)


class StaffGroupListView(generics.ListCreateAPIView):
    """Staff groups (teams such as 染烫组)."""

    permission_classes = [HasRolePermission]
    required_permission = "manage_catalog"
    serializer_class = StaffGroupSerializer

    def get_queryset(self) -> QuerySet[StaffGroup]:
        return selectors.staff_group_list()

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = self.get_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        group = services.staff_group_create(name=data.validated_data["name"], acting_user=acting_user(request))
        return Response(self.get_serializer(self.get_queryset().get(pk=group.pk)).data, status=status.HTTP_201_CREATED)


class StaffGroupDetailView(generics.RetrieveUpdateDestroyAPIView):
    """One staff group: rename (PATCH) or delete (its members stay, without a group)."""

    permission_classes = [HasRolePermission]
    required_permission = "manage_catalog"
    serializer_class = StaffGroupSerializer
    http_method_names = ["get", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[StaffGroup]:
        return selectors.staff_group_list()

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        group = self.get_object()
        data = self.get_serializer(group, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        if "name" in data.validated_data:
            services.staff_group_update(group=group, name=data.validated_data["name"], acting_user=acting_user(request))
        return Response(self.get_serializer(self.get_queryset().get(pk=group.pk)).data)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        services.staff_group_delete(group=self.get_object(), acting_user=acting_user(request))
        return Response(status=status.HTTP_204_NO_CONTENT)
