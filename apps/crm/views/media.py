"""Staff pages: a client's photos (gallery, before/after comparison, streaming), skin
diagnosis records with a printable report, and treatment courses (CRM-9, CRM-10).

Technicians do the work, so any signed-in staff member may view and upload photos, write
skin records and record course sessions; deleting a photo or a skin record, and opening or
closing a course, needs ``manage_clients``.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from rest_framework.exceptions import APIException
from rest_framework.request import Request

from apps.core.auth import BearerTokenAuthentication
from apps.core.db import salon_today
from apps.core.errors import ServiceError
from apps.core.models import User
from apps.core.permissions import acting_user, staff_permission_required
from apps.core.roles import perm
from apps.core.views import apply_service_error
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
from apps.crm.sections import ClientSection, client_section_register
from apps.crm.services import media as services

PHOTOS_PER_PAGE = 48

# --- forms (shape only; the rules are the services') --------------------------------------------


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%d")


class PhotoUploadForm(forms.Form):
    image = forms.FileField(
        label=gettext_lazy("Photo"),
        widget=forms.FileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
        help_text=gettext_lazy("JPEG, PNG or WebP. Location and camera details are removed."),
    )
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=PhotoKind.choices, initial=PhotoKind.BEFORE)
    taken_on = forms.DateField(label=gettext_lazy("Taken on"), widget=DateInput())
    caption = forms.CharField(label=gettext_lazy("Caption"), max_length=200, required=False)
    session = forms.ModelChoiceField(
        label=gettext_lazy("Course session"),
        queryset=TreatmentSession.objects.none(),
        required=False,
        empty_label=gettext_lazy("None"),
    )

    def __init__(self, *args: Any, client: Client, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["session"].queryset = selectors.session_choices(client=client)  # type: ignore[attr-defined]
        self.fields["session"].label_from_instance = lambda s: (  # type: ignore[attr-defined]
            f"{s.course.name} · {s.number} / {s.course.planned_sessions} · {s.performed_on:%Y-%m-%d}"
        )


class SkinRecordForm(forms.Form):
    recorded_on = forms.DateField(label=gettext_lazy("Date"), widget=DateInput())
    area = forms.CharField(label=gettext_lazy("Area"), max_length=100)
    skin_type = forms.ChoiceField(
        label=gettext_lazy("Skin type"), choices=[("", "—"), *SkinType.choices], required=False
    )
    symptoms = forms.CharField(label=gettext_lazy("Symptoms"), widget=forms.Textarea(attrs={"rows": 3}))
    plan = forms.CharField(label=gettext_lazy("Plan"), widget=forms.Textarea(attrs={"rows": 3}))
    products_advised = forms.CharField(
        label=gettext_lazy("Products advised"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    next_review_on = forms.DateField(label=gettext_lazy("Next review"), widget=DateInput(), required=False)


class CourseForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Course"), max_length=100)
    goal = forms.CharField(label=gettext_lazy("Goal"), widget=forms.Textarea(attrs={"rows": 2}), required=False)
    planned_sessions = forms.IntegerField(
        label=gettext_lazy("Planned sessions"), min_value=1, max_value=services.MAX_PLANNED_SESSIONS
    )
    started_on = forms.DateField(label=gettext_lazy("Started on"), widget=DateInput())


class SessionForm(forms.Form):
    performed_on = forms.DateField(label=gettext_lazy("Date"), widget=DateInput())
    staff = forms.ModelChoiceField(
        label=gettext_lazy("Technician"),
        queryset=User.objects.filter(is_active=True).order_by("name"),
        required=False,
        empty_label=gettext_lazy("Me"),
    )
    notes = forms.CharField(label=gettext_lazy("Notes"), widget=forms.Textarea(attrs={"rows": 2}), required=False)
    effect = forms.CharField(label=gettext_lazy("Effect"), widget=forms.Textarea(attrs={"rows": 2}), required=False)


# --- helpers ------------------------------------------------------------------------------------


def _client(pk: int) -> Client:
    return get_object_or_404(Client, pk=pk)


def _can_manage(request: HttpRequest) -> bool:
    return bool(request.user.has_perm(perm("manage_clients")))


# --- photos -------------------------------------------------------------------------------------


@login_required
def photo_gallery(request: HttpRequest, pk: int) -> HttpResponse:
    client = _client(pk)
    kind = request.GET.get("kind") or ""
    if request.method == "POST":
        form = PhotoUploadForm(request.POST, request.FILES, client=client)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.client_photo_upload(
                    client=client,
                    file=data["image"],
                    kind=data["kind"],
                    caption=data["caption"],
                    taken_on=data["taken_on"],
                    session=data["session"],
                    acting_user=acting_user(request),
                )
            except ServiceError as error:
                apply_service_error(form, error)
            else:
                messages.success(request, _("The photo was added."))
                return redirect("crm:client_photos", pk=client.pk)
    else:
        initial: dict[str, Any] = {"taken_on": salon_today()}
        session_id = request.GET.get("session", "")
        if session_id.isdigit():
            initial["session"] = session_id
            initial["kind"] = PhotoKind.AFTER
        form = PhotoUploadForm(initial=initial, client=client)
    page = Paginator(selectors.client_photos(client=client, kind=kind), PHOTOS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    counts = selectors.photo_kind_counts(client=client)
    kinds = [(value, label, counts.get(value, 0)) for value, label in PhotoKind.choices]
    return render(
        request,
        "crm/media/gallery.html",
        {
            "client": client,
            "page": page,
            "kind": kind if kind in PhotoKind.values else "",
            "kinds": kinds,
            "total": sum(counts.values()),
            "form": form,
            "can_manage": _can_manage(request),
        },
    )


@login_required
def photo_compare(request: HttpRequest, pk: int) -> HttpResponse:
    client = _client(pk)
    comparison = selectors.photo_comparison(client=client, left=request.GET.get("left"), right=request.GET.get("right"))
    return render(request, "crm/media/compare.html", {"client": client, "comparison": comparison})


def _staff_member(request: HttpRequest) -> User | None:
    """The signed-in staff member: by the session (pages, <img>) or a Bearer token (API clients)."""
    if request.user.is_authenticated and isinstance(request.user, User):
        return request.user
    try:
        found = BearerTokenAuthentication().authenticate(Request(request))
    except APIException:
        return None
    return found[0] if found and isinstance(found[0], User) else None


def _stream(request: HttpRequest, pk: int, token: str, *, thumbnail: bool) -> HttpResponseBase:
    if _staff_member(request) is None:
        return redirect_to_login(request.get_full_path())
    # Users, sessions and tokens live in the salon's own schema, so a staff member found here is
    # on this salon; the photo must also belong to the client in the URL (another's token: 404).
    photo = selectors.client_photo_by_token(client_id=pk, token=token)
    if photo is None:
        raise Http404
    name = selectors.photo_thumb_name(photo) if thumbnail else str(photo.image.name)
    try:
        handle = default_storage.open(name, "rb")
    except (FileNotFoundError, OSError):
        raise Http404 from None
    response = FileResponse(handle, content_type="image/jpeg" if thumbnail else photo.content_type)
    response["Cache-Control"] = "private, max-age=3600"
    response["Content-Disposition"] = "inline"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def photo_file(request: HttpRequest, pk: int, token: str) -> HttpResponseBase:
    return _stream(request, pk, token, thumbnail=False)


def photo_thumb(request: HttpRequest, pk: int, token: str) -> HttpResponseBase:
    return _stream(request, pk, token, thumbnail=True)


@staff_permission_required("manage_clients")
@require_POST
def photo_delete(request: HttpRequest, pk: int, photo_id: int) -> HttpResponse:
    photo = get_object_or_404(ClientPhoto, pk=photo_id, client_id=pk)
    services.client_photo_delete(photo=photo, acting_user=acting_user(request))
    messages.success(request, _("The photo was deleted."))
    return redirect("crm:client_photos", pk=pk)


@staff_permission_required("manage_clients")
@require_POST
def photo_profile(request: HttpRequest, pk: int, photo_id: int) -> HttpResponse:
    """Use this photo as the client's profile photo."""
    client = _client(pk)
    photo = get_object_or_404(ClientPhoto, pk=photo_id, client_id=pk)
    services.client_profile_photo_set(client=client, photo=photo, acting_user=acting_user(request))
    messages.success(request, _("Profile photo changed."))
    return redirect("crm:client_detail", pk=pk)


# --- skin records -------------------------------------------------------------------------------


@login_required
def skin_record_list(request: HttpRequest, pk: int) -> HttpResponse:
    client = _client(pk)
    form = SkinRecordForm(request.POST or None, initial={"recorded_on": salon_today()})
    if request.method == "POST" and form.is_valid():
        try:
            services.skin_record_create(client=client, acting_user=acting_user(request), **form.cleaned_data)
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            messages.success(request, _("The skin record was saved."))
            return redirect("crm:client_skin_records", pk=client.pk)
    return render(
        request,
        "crm/media/skin_records.html",
        {
            "client": client,
            "records": selectors.skin_records(client=client),
            "form": form,
            "can_manage": _can_manage(request),
        },
    )


@login_required
def skin_record_edit(request: HttpRequest, pk: int, record_id: int) -> HttpResponse:
    client = _client(pk)
    record = get_object_or_404(SkinRecord, pk=record_id, client=client)
    initial = {field: getattr(record, field) for field in services.SKIN_RECORD_FIELDS}
    form = SkinRecordForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.skin_record_update(record=record, acting_user=acting_user(request), **form.cleaned_data)
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            messages.success(request, _("The skin record was saved."))
            return redirect("crm:client_skin_records", pk=client.pk)
    return render(request, "crm/media/skin_record_form.html", {"client": client, "record": record, "form": form})


@staff_permission_required("manage_clients")
@require_POST
def skin_record_delete(request: HttpRequest, pk: int, record_id: int) -> HttpResponse:
    record = get_object_or_404(SkinRecord, pk=record_id, client_id=pk)
    services.skin_record_delete(record=record, acting_user=acting_user(request))
    messages.success(request, _("The skin record was deleted."))
    return redirect("crm:client_skin_records", pk=pk)


@login_required
def skin_record_print(request: HttpRequest, pk: int, record_id: int) -> HttpResponse:
    client = _client(pk)
    record = selectors.skin_record_detail(client=client, record_id=record_id)
    if record is None:
        raise Http404
    return render(
        request,
        "crm/media/skin_record_print.html",
        {
            "client": client,
            "record": record,
            "photos": selectors.skin_report_photos(client=client),
            "printed_on": salon_today(),
        },
    )


# --- treatment courses --------------------------------------------------------------------------


@login_required
def course_list(request: HttpRequest, pk: int) -> HttpResponse:
    client = _client(pk)
    can_manage = _can_manage(request)
    form = CourseForm(request.POST or None, initial={"started_on": salon_today()})
    if request.method == "POST":
        if not can_manage:
            raise PermissionDenied
        if form.is_valid():
            try:
                course = services.treatment_course_create(
                    client=client, acting_user=acting_user(request), **form.cleaned_data
                )
            except ServiceError as error:
                apply_service_error(form, error)
            else:
                messages.success(request, _("The course was opened."))
                return redirect("crm:client_course", pk=client.pk, course_id=course.pk)
    return render(
        request,
        "crm/media/courses.html",
        {
            "client": client,
            "courses": selectors.treatment_courses(client=client),
            "form": form,
            "can_manage": can_manage,
        },
    )


@login_required
def course_detail(request: HttpRequest, pk: int, course_id: int) -> HttpResponse:
    client = _client(pk)
    course = selectors.treatment_course_detail(client=client, course_id=course_id)
    if course is None:
        raise Http404
    form = SessionForm(request.POST or None, initial={"performed_on": salon_today()})
    if request.method == "POST" and form.is_valid():
        try:
            session = services.treatment_session_record(
                course=course, acting_user=acting_user(request), **form.cleaned_data
            )
        except ServiceError as error:
            if error.errors:
                apply_service_error(form, error)
            else:  # the course is full or finished: nothing to correct in the form
                messages.error(request, error.message)
                return redirect("crm:client_course", pk=client.pk, course_id=course.pk)
        else:
            messages.success(request, _("Session %(number)d was recorded.") % {"number": session.number})
            return redirect("crm:client_course", pk=client.pk, course_id=course.pk)
    sessions = list(course.sessions.all())
    return render(
        request,
        "crm/media/course_detail.html",
        {
            "client": client,
            "course": course,
            "sessions": sessions,
            "done": len(sessions),
            "form": form,
            "can_manage": _can_manage(request),
            "is_active": course.status == CourseStatus.ACTIVE,
        },
    )


@staff_permission_required("manage_clients")
@require_POST
def course_status(request: HttpRequest, pk: int, course_id: int) -> HttpResponse:
    course = get_object_or_404(TreatmentCourse, pk=course_id, client_id=pk)
    try:
        services.treatment_course_set_status(
            course=course, status=request.POST.get("status", ""), acting_user=acting_user(request)
        )
    except ServiceError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The course status was changed."))
    return redirect("crm:client_course", pk=pk, course_id=course_id)


# --- client 360° sections -----------------------------------------------------------------------


def _photos_section(request: HttpRequest, client: Client) -> dict[str, Any]:
    return {"client": client, "photos": list(selectors.client_photos(client=client)[:6])}


def _skin_section(request: HttpRequest, client: Client) -> dict[str, Any]:
    return {"client": client, "records": list(selectors.skin_records(client=client)[:3])}


def _courses_section(request: HttpRequest, client: Client) -> dict[str, Any]:
    return {"client": client, "courses": list(selectors.treatment_courses(client=client, active_only=True))}


client_section_register(
    ClientSection("photos", gettext_lazy("Photos"), "crm/media/section_photos.html", _photos_section, order=60)
)
client_section_register(
    ClientSection(
        "skin_records", gettext_lazy("Skin records"), "crm/media/section_skin_records.html", _skin_section, order=61
    )
)
client_section_register(
    ClientSection(
        "treatment_courses",
        gettext_lazy("Treatment courses"),
        "crm/media/section_courses.html",
        _courses_section,
        order=62,
    )
)


urlpatterns: list[URLPattern] = [
    path("<int:pk>/photos/", photo_gallery, name="client_photos"),
    path("<int:pk>/photos/compare/", photo_compare, name="client_photo_compare"),
    path("<int:pk>/photos/<int:photo_id>/delete/", photo_delete, name="client_photo_delete"),
    path("<int:pk>/photos/<int:photo_id>/profile/", photo_profile, name="client_photo_profile"),
    path("<int:pk>/photos/<str:token>/", photo_file, name="client_photo_file"),
    path("<int:pk>/photos/<str:token>/thumb/", photo_thumb, name="client_photo_thumb"),
    path("<int:pk>/skin-records/", skin_record_list, name="client_skin_records"),
    path("<int:pk>/skin-records/<int:record_id>/edit/", skin_record_edit, name="client_skin_record_edit"),
    path("<int:pk>/skin-records/<int:record_id>/delete/", skin_record_delete, name="client_skin_record_delete"),
    path("<int:pk>/skin-records/<int:record_id>/print/", skin_record_print, name="client_skin_record_print"),
    path("<int:pk>/courses/", course_list, name="client_courses"),
    path("<int:pk>/courses/<int:course_id>/", course_detail, name="client_course"),
    path("<int:pk>/courses/<int:course_id>/status/", course_status, name="client_course_status"),
]
