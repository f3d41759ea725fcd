"""REST API: a client's photos, skin records and treatment courses (CRM-9, CRM-10).

Any signed-in staff member may read these, upload photos, write skin records and record
course sessions (technicians do the work); deleting a photo or a skin record, and opening
or closing a course, needs ``manage_clients``. Photo files are never in the JSON: each photo
carries the URLs of the views that stream it to signed-in staff (session or Bearer token).
"""

from __future__ import annotations

from typing import Any

from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path, reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.db import salon_today
from apps.core.models import User
from apps.core.permissions import acting_user
from apps.core.roles import perm
from apps.crm import selectors_media as selectors
from apps.crm.models import (
    Client,
    ClientPhoto,
    CourseStatus,
    PhotoKind,
    SkinRecord,
    SkinType,
    TreatmentCourse,
    TreatmentSession,
)
from apps.crm.services import media as services


class StaffOrManager(BasePermission):
    """Signed in; the methods the view lists in ``manage_methods`` also need ``manage_clients``."""

    def has_permission(self, request: Any, view: Any) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        if request.method in getattr(view, "manage_methods", ()):
            return bool(request.user.has_perm(perm("manage_clients")))
        return True


class ClientScopedView(GenericAPIView):
    permission_classes = [StaffOrManager]
    manage_methods: tuple[str, ...] = ()

    def client(self) -> Client:
        return get_object_or_404(Client, pk=self.kwargs["client_id"])


# --- photos -------------------------------------------------------------------------------------


class PhotoSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    thumbnail_url = serializers.SerializerMethodField()

    class Meta:
        model = ClientPhoto
        fields = [
            "id",
            "client",
            "kind",
            "caption",
            "taken_on",
            "session",
            "content_type",
            "width",
            "height",
            "size_bytes",
            "uploaded_by",
            "created_at",
            "url",
            "thumbnail_url",
        ]
        read_only_fields = fields

    def _absolute(self, name: str, photo: ClientPhoto) -> str:
        location = reverse(name, args=[photo.client_id, photo.token])
        request = self.context.get("request")
        return request.build_absolute_uri(location) if request is not None else location

    def get_url(self, photo: ClientPhoto) -> str:
        return self._absolute("crm:client_photo_file", photo)

    def get_thumbnail_url(self, photo: ClientPhoto) -> str:
        return self._absolute("crm:client_photo_thumb", photo)


class PhotoUploadSerializer(serializers.Serializer):
    image = serializers.FileField(help_text="JPEG, PNG or WebP; EXIF (GPS, camera) is removed")
    kind = serializers.ChoiceField(choices=PhotoKind.choices, default=PhotoKind.OTHER)
    caption = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    taken_on = serializers.DateField(required=False, help_text="Defaults to today")
    session = serializers.PrimaryKeyRelatedField(
        queryset=TreatmentSession.objects.select_related("course"), required=False, allow_null=True
    )


class PhotoListView(ClientScopedView):
    """A client's photos, newest first (``?kind=`` before, after, hairstyle, skin, other); upload with multipart."""

    serializer_class = PhotoSerializer
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return selectors.client_photos(client=self.client(), kind=self.request.query_params.get("kind"))

    @extend_schema(
        operation_id="clients_photos_list",
        parameters=[OpenApiParameter("kind", str, enum=PhotoKind.values)],
        responses=PhotoSerializer(many=True),
    )
    def get(self, request: Request, client_id: int) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(PhotoSerializer(page, many=True, context={"request": request}).data)

    @extend_schema(request={"multipart/form-data": PhotoUploadSerializer}, responses={201: PhotoSerializer})
    def post(self, request: Request, client_id: int) -> Response:
        client = self.client()
        data = PhotoUploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        photo = services.client_photo_upload(
            client=client,
            file=v["image"],
            kind=v["kind"],
            caption=v.get("caption", ""),
            taken_on=v.get("taken_on") or salon_today(),
            session=v.get("session"),
            acting_user=acting_user(request),
        )
        return Response(PhotoSerializer(photo, context={"request": request}).data, status=status.HTTP_201_CREATED)


class PhotoDetailView(ClientScopedView):
    serializer_class = PhotoSerializer
    manage_methods = ("DELETE",)

    def photo(self) -> ClientPhoto:
        return get_object_or_404(ClientPhoto, pk=self.kwargs["photo_id"], client_id=self.kwargs["client_id"])

    def get(self, request: Request, client_id: int, photo_id: int) -> Response:
        return Response(PhotoSerializer(self.photo(), context={"request": request}).data)

    def delete(self, request: Request, client_id: int, photo_id: int) -> Response:
        services.client_photo_delete(photo=self.photo(), acting_user=acting_user(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- skin records -------------------------------------------------------------------------------


class SkinRecordSerializer(serializers.ModelSerializer):
    skin_type = serializers.ChoiceField(choices=SkinType.choices, required=False, allow_blank=True)

    class Meta:
        model = SkinRecord
        fields = [
            "id",
            "client",
            "recorded_on",
            "area",
            "symptoms",
            "skin_type",
            "plan",
            "products_advised",
            "next_review_on",
            "staff",
            "created_at",
        ]
        read_only_fields = ["id", "client", "staff", "created_at"]
        extra_kwargs = {"recorded_on": {"required": False}}


class SkinRecordListView(ClientScopedView):
    """A client's skin diagnosis records, newest first; any staff member may add one."""

    serializer_class = SkinRecordSerializer

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return selectors.skin_records(client=self.client())

    @extend_schema(operation_id="clients_skin_records_list", responses=SkinRecordSerializer(many=True))
    def get(self, request: Request, client_id: int) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(SkinRecordSerializer(page, many=True).data)

    def post(self, request: Request, client_id: int) -> Response:
        client = self.client()
        data = SkinRecordSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = dict(data.validated_data)
        v.setdefault("recorded_on", salon_today())
        record = services.skin_record_create(client=client, acting_user=acting_user(request), **v)
        return Response(SkinRecordSerializer(record).data, status=status.HTTP_201_CREATED)


class SkinRecordDetailView(ClientScopedView):
    serializer_class = SkinRecordSerializer
    manage_methods = ("DELETE",)

    def record(self) -> SkinRecord:
        return get_object_or_404(SkinRecord, pk=self.kwargs["record_id"], client_id=self.kwargs["client_id"])

    def get(self, request: Request, client_id: int, record_id: int) -> Response:
        return Response(SkinRecordSerializer(self.record()).data)

    def patch(self, request: Request, client_id: int, record_id: int) -> Response:
        record = self.record()
        data = SkinRecordSerializer(record, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        record = services.skin_record_update(record=record, acting_user=acting_user(request), **data.validated_data)
        return Response(SkinRecordSerializer(record).data)

    def delete(self, request: Request, client_id: int, record_id: int) -> Response:
        services.skin_record_delete(record=self.record(), acting_user=acting_user(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- treatment courses --------------------------------------------------------------------------


class SessionSerializer(serializers.ModelSerializer):
    photos = serializers.PrimaryKeyRelatedField(many=True, read_only=True)  # type: ignore[var-annotated]

    class Meta:
        model = TreatmentSession
        fields = ["id", "course", "number", "performed_on", "staff", "notes", "effect", "photos", "created_at"]
        read_only_fields = ["id", "course", "number", "photos", "created_at"]
        extra_kwargs = {"performed_on": {"required": False}, "staff": {"required": False, "allow_null": True}}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "staff" in self.fields:
            self.fields["staff"].queryset = User.objects.filter(is_active=True)  # type: ignore[attr-defined]


class CourseSerializer(serializers.ModelSerializer):
    sessions_done = serializers.SerializerMethodField()
    planned_sessions = serializers.IntegerField(min_value=1, max_value=services.MAX_PLANNED_SESSIONS)

    class Meta:
        model = TreatmentCourse
        fields = [
            "id",
            "client",
            "name",
            "goal",
            "planned_sessions",
            "sessions_done",
            "started_on",
            "status",
            "created_by",
            "created_at",
        ]
        read_only_fields = ["id", "client", "sessions_done", "status", "created_by", "created_at"]
        extra_kwargs = {"started_on": {"required": False}}

    def get_sessions_done(self, course: TreatmentCourse) -> int:
        done = getattr(course, "sessions_done", None)
        return int(done) if done is not None else course.sessions.count()


class CourseDetailSerializer(CourseSerializer):
    sessions = SessionSerializer(many=True, read_only=True)

    class Meta(CourseSerializer.Meta):
        fields = [*CourseSerializer.Meta.fields, "sessions"]


class CourseStatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=CourseStatus.choices)


class CourseListView(ClientScopedView):
    """A client's treatment courses, newest first; opening one needs manage_clients."""

    serializer_class = CourseSerializer
    manage_methods = ("POST",)

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return selectors.treatment_courses(client=self.client())

    @extend_schema(operation_id="clients_courses_list", responses=CourseSerializer(many=True))
    def get(self, request: Request, client_id: int) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(CourseSerializer(page, many=True).data)

    def post(self, request: Request, client_id: int) -> Response:
        client = self.client()
        data = CourseSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        course = services.treatment_course_create(
            client=client,
            name=v["name"],
            goal=v.get("goal", ""),
            planned_sessions=v["planned_sessions"],
            started_on=v.get("started_on") or salon_today(),
            acting_user=acting_user(request),
        )
        return Response(CourseSerializer(course).data, status=status.HTTP_201_CREATED)


class CourseDetailView(ClientScopedView):
    """One course with its sessions; PATCH ``{"status": "completed" | "stopped" | "active"}`` needs manage_clients."""

    serializer_class = CourseDetailSerializer
    manage_methods = ("PATCH",)

    def course(self) -> TreatmentCourse:
        course = selectors.treatment_course_detail(client=self.client(), course_id=self.kwargs["course_id"])
        if course is None:
            raise Http404
        return course

    def get(self, request: Request, client_id: int, course_id: int) -> Response:
        return Response(CourseDetailSerializer(self.course()).data)

    @extend_schema(request=CourseStatusSerializer, responses=CourseDetailSerializer)
    def patch(self, request: Request, client_id: int, course_id: int) -> Response:
        course = self.course()
        data = CourseStatusSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.treatment_course_set_status(
            course=course, status=data.validated_data["status"], acting_user=acting_user(request)
        )
        return Response(CourseDetailSerializer(self.course()).data)


class CourseSessionListView(ClientScopedView):
    """The sessions of a course in order; any staff member records the next one (numbered for them)."""

    serializer_class = SessionSerializer

    def course(self) -> TreatmentCourse:
        return get_object_or_404(TreatmentCourse, pk=self.kwargs["course_id"], client_id=self.kwargs["client_id"])

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return self.course().sessions.prefetch_related("photos").order_by("number")

    @extend_schema(operation_id="clients_courses_sessions_list", responses=SessionSerializer(many=True))
    def get(self, request: Request, client_id: int, course_id: int) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(SessionSerializer(page, many=True).data)

    def post(self, request: Request, client_id: int, course_id: int) -> Response:
        course = self.course()
        data = SessionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        session = services.treatment_session_record(
            course=course,
            performed_on=v.get("performed_on") or salon_today(),
            notes=v.get("notes", ""),
            effect=v.get("effect", ""),
            staff=v.get("staff"),
            acting_user=acting_user(request),
        )
        return Response(SessionSerializer(session).data, status=status.HTTP_201_CREATED)


urlpatterns: list[URLPattern] = [
    path("clients/<int:client_id>/photos/", PhotoListView.as_view(), name="api-client-photos"),
    path("clients/<int:client_id>/photos/<int:photo_id>/", PhotoDetailView.as_view(), name="api-client-photo"),
    path("clients/<int:client_id>/skin-records/", SkinRecordListView.as_view(), name="api-client-skin-records"),
    path(
        "clients/<int:client_id>/skin-records/<int:record_id>/",
        SkinRecordDetailView.as_view(),
        name="api-client-skin-record",
    ),
    path("clients/<int:client_id>/courses/", CourseListView.as_view(), name="api-client-courses"),
    path("clients/<int:client_id>/courses/<int:course_id>/", CourseDetailView.as_view(), name="api-client-course"),
    path(
        "clients/<int:client_id>/courses/<int:course_id>/sessions/",
        CourseSessionListView.as_view(),
        name="api-client-course-sessions",
    ),
]
