"""CRM-9 photos: what an upload must be, what is stored (upright, without metadata, with a
thumbnail), how photos are served (to this salon's staff only), compared and deleted."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.test import Client as HttpClient
from django.test import RequestFactory
from django_tenants.utils import schema_context
from PIL import Image

from apps.core.errors import ServiceError
from apps.core.models import AuditEntry
from apps.crm.errors import CrmError
from apps.crm.models import ClientPhoto, PhotoKind
from apps.crm.selectors_media import photo_comparison, photo_thumb_name
from apps.crm.services.media import client_photo_delete, client_photo_upload
from apps.crm.tests.test_media_support import (
    GPS_IFD,
    MAKE,
    days_ago,
    gps_exif,
    image_bytes,
    new_client,
    png_bomb,
    stored_files,
    two_colour_jpeg_with_orientation,
    upload,
)
from tests.fixtures import api_token, logged_in_client, make_staff, owner_of


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def ana(alpha, beta):
    """A client in alpha (and one in beta, so a query that forgets the salon shows)."""
    new_client(beta, "Beta Bea")
    return new_client(alpha, "Ana Li")


def _upload(info, client, data: bytes, **kwargs):
    kwargs.setdefault("kind", PhotoKind.BEFORE)
    kwargs.setdefault("taken_on", days_ago(1))
    kwargs.setdefault("acting_user", owner_of(info))
    with schema_context(info.schema):
        return client_photo_upload(client=client, file=kwargs.pop("file", None) or upload(data), **kwargs)


def _refusal(info, client, file, **kwargs) -> ServiceError:
    with pytest.raises(ServiceError) as caught:
        _upload(info, client, b"", file=file, **kwargs)
    return caught.value


# --- what an upload must be --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "name", "content_type", "code"),
    [
        (b"just some text, not a picture", "photo.jpg", "image/jpeg", CrmError.NOT_AN_IMAGE),
        (image_bytes("JPEG", (400, 300))[:700], "cut.jpg", "image/jpeg", CrmError.NOT_AN_IMAGE),
        (image_bytes("GIF", (20, 20), mode="RGB"), "photo.jpg", "image/jpeg", CrmError.IMAGE_TYPE_NOT_ALLOWED),
        (image_bytes("BMP", (20, 20)), "photo.png", "image/png", CrmError.IMAGE_TYPE_NOT_ALLOWED),
        (image_bytes("TIFF", (20, 20)), "photo.webp", "image/webp", CrmError.IMAGE_TYPE_NOT_ALLOWED),
        (png_bomb(), "bomb.png", "image/png", CrmError.IMAGE_TOO_LARGE),
    ],
    ids=["text", "truncated-jpeg", "gif-named-jpg", "bmp", "tiff", "decompression-bomb"],
)
def test_an_upload_that_is_not_an_allowed_image_is_refused_and_nothing_is_stored(
    alpha, ana, media_root, data, name, content_type, code
):
    # when
    error = _refusal(alpha, ana, upload(data, name, content_type))
    # then
    assert error.code == code
    assert list(error.errors) == ["image"]
    with schema_context(alpha.schema):
        assert ClientPhoto.objects.count() == 0
    assert stored_files(media_root) == []


def test_a_corrupt_png_is_refused(alpha, ana, media_root):
    # given a PNG whose pixel data was damaged (its checksum no longer matches)
    data = bytearray(image_bytes("PNG", (50, 50)))
    data[60] ^= 0xFF
    # when
    error = _refusal(alpha, ana, upload(bytes(data), "photo.png", "image/png"))
    # then
    assert error.code == CrmError.NOT_AN_IMAGE
    assert stored_files(media_root) == []


def test_a_file_over_the_byte_limit_is_refused(alpha, ana, media_root, settings):
    # given
    settings.CLIENT_PHOTO_MAX_BYTES = 1000
    data = image_bytes("PNG", (80, 80), color=(1, 2, 3))
    big = image_bytes("JPEG", (300, 300), quality=100, subsampling=0)
    assert len(data) <= 1000 < len(big)
    # when
    error = _refusal(alpha, ana, upload(big))
    # then
    assert (error.code, list(error.errors)) == (CrmError.IMAGE_TOO_LARGE, ["image"])
    assert stored_files(media_root) == []
    # and one under the limit goes through
    _upload(alpha, ana, data)
    assert len(stored_files(media_root)) == 2


def test_an_image_with_more_pixels_than_allowed_is_refused_before_decoding(alpha, ana, media_root, settings):
    settings.CLIENT_PHOTO_MAX_PIXELS = 100 * 100
    error = _refusal(alpha, ana, upload(image_bytes("PNG", (101, 100)), "wide.png", "image/png"))
    assert error.code == CrmError.IMAGE_TOO_LARGE
    assert stored_files(media_root) == []


def test_a_photo_taken_tomorrow_is_refused(alpha, ana, media_root):
    error = _refusal(alpha, ana, upload(image_bytes()), taken_on=days_ago(-1))
    assert (error.code, list(error.errors)) == (CrmError.DATE_IN_FUTURE, ["taken_on"])
    assert stored_files(media_root) == []


def test_a_photo_of_an_inactive_client_is_refused(alpha, ana, media_root):
    with schema_context(alpha.schema):
        # no service deactivates a client outside a merge or an erasure: set the flag directly
        type(ana).objects.filter(pk=ana.pk).update(is_active=False)
        ana.refresh_from_db()
    error = _refusal(alpha, ana, upload(image_bytes()))
    assert error.code == CrmError.CLIENT_INACTIVE
    assert stored_files(media_root) == []


def test_a_session_of_another_clients_course_is_refused(alpha, ana, media_root):
    from apps.crm.services.media import treatment_course_create, treatment_session_record

    other = new_client(alpha, "Other Client")
    with schema_context(alpha.schema):
        course = treatment_course_create(
            client=other, name="Hydra", planned_sessions=3, started_on=days_ago(5), acting_user=owner_of(alpha)
        )
        session = treatment_session_record(course=course, performed_on=days_ago(1), acting_user=owner_of(alpha))
    error = _refusal(alpha, ana, upload(image_bytes()), session=session)
    assert list(error.errors) == ["session"]
    assert stored_files(media_root) == []


def test_the_type_is_what_pillow_reads_not_the_name_or_content_type(alpha, ana, media_root):
    # when a PNG arrives named .jpg and declared as JPEG
    photo = _upload(alpha, ana, b"", file=upload(image_bytes("PNG", (30, 20)), "holiday.jpg", "image/jpeg"))
    # then it is stored as the PNG it is
    assert photo.content_type == "image/png"
    assert photo.image.name.endswith(f"/{photo.token}.png")
    assert (photo.width, photo.height) == (30, 20)


# --- what is stored ----------------------------------------------------------------------------


def test_a_photo_is_stored_upright_without_exif_and_with_a_thumbnail(alpha, ana, media_root):
    # given a phone picture lying on its side (orientation 6) with a GPS position in its EXIF
    data = two_colour_jpeg_with_orientation(6)
    assert Image.open(io.BytesIO(data)).getexif()[GPS_IFD]
    # when
    photo = _upload(alpha, ana, data, caption="  Cheek, left side  ")
    # then the stored picture is upright (60×40 turned to 40×60: the left half is now on top)
    stored = default_storage.open(photo.image.name).read()
    image = Image.open(io.BytesIO(stored))
    assert (photo.width, photo.height) == (40, 60) == image.size
    top, bottom = image.getpixel((20, 10)), image.getpixel((20, 50))
    assert top[0] > 200 and top[2] < 60  # red
    assert bottom[2] > 200 and bottom[0] < 60  # blue
    # and it carries no metadata at all
    assert dict(image.getexif()) == {}
    assert b"Exif" not in stored and b"PhoneCam" not in stored
    assert photo.content_type == "image/jpeg"
    assert photo.size_bytes == len(stored)
    assert photo.caption == "Cheek, left side"
    assert photo.uploaded_by == owner_of(alpha)
    assert len(photo.token) == 32
    # and a JPEG thumbnail sits beside it, also without metadata
    thumb_name = photo_thumb_name(photo)
    assert thumb_name == photo.image.name.rsplit(".", 1)[0] + "_thumb.jpg"
    thumb = Image.open(default_storage.open(thumb_name))
    assert thumb.format == "JPEG"
    assert dict(thumb.getexif()) == {}
    # under the salon's own prefix
    assert stored_files(media_root) == sorted(
        [
            f"salons/{alpha.schema}/clients/{ana.pk}/photos/{photo.token}.jpg",
            f"salons/{alpha.schema}/clients/{ana.pk}/photos/{photo.token}_thumb.jpg",
        ]
    )


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_png_and_webp_keep_their_format_and_lose_their_metadata(alpha, ana, fmt):
    from PIL import PngImagePlugin

    options = {}
    if fmt == "PNG":
        info = PngImagePlugin.PngInfo()
        info.add_text("Comment", "taken at 31.23N 121.47E")
        options["pnginfo"] = info
    data = image_bytes(fmt, (50, 40), exif=gps_exif(), **options)
    photo = _upload(alpha, ana, data, file=upload(data, f"x.{fmt.lower()}", "application/octet-stream"))
    stored = default_storage.open(photo.image.name).read()
    image = Image.open(io.BytesIO(stored))
    assert image.format == fmt
    assert photo.content_type == f"image/{fmt.lower()}"
    assert dict(image.getexif()) == {}
    assert MAKE not in image.getexif()
    assert b"PhoneCam" not in stored and b"121.47E" not in stored


def test_the_thumbnail_fits_in_320_pixels_and_flattens_transparency(alpha, ana):
    data = image_bytes("PNG", (800, 600), mode="RGBA")  # fully transparent
    photo = _upload(alpha, ana, data, file=upload(data, "x.png", "image/png"))
    thumb = Image.open(default_storage.open(photo_thumb_name(photo)))
    assert thumb.size == (320, 240)
    assert thumb.mode == "RGB"
    assert thumb.getpixel((5, 5)) == (255, 255, 255)


# --- deleting ----------------------------------------------------------------------------------


def test_deleting_a_photo_removes_the_row_and_both_files_and_is_audited(
    alpha, ana, media_root, django_capture_on_commit_callbacks
):
    # given
    photo = _upload(alpha, ana, image_bytes())
    keep = _upload(alpha, ana, image_bytes())
    assert len(stored_files(media_root)) == 4
    # when
    with schema_context(alpha.schema), django_capture_on_commit_callbacks(execute=True):
        client_photo_delete(photo=photo, acting_user=owner_of(alpha))
    # then
    with schema_context(alpha.schema):
        assert list(ClientPhoto.objects.values_list("pk", flat=True)) == [keep.pk]
        entry = AuditEntry.objects.get(action="crm.photo_delete")
        assert (entry.target_id, entry.actor_id) == (str(photo.pk), owner_of(alpha).pk)
        assert entry.data["client"] == ana.pk
    assert stored_files(media_root) == sorted([keep.image.name, photo_thumb_name(keep)])


def test_files_stay_until_the_deletion_commits(alpha, ana, media_root, django_capture_on_commit_callbacks):
    photo = _upload(alpha, ana, image_bytes())
    with schema_context(alpha.schema), django_capture_on_commit_callbacks(execute=False) as callbacks:
        client_photo_delete(photo=photo, acting_user=owner_of(alpha))
    assert len(callbacks) == 1
    assert len(stored_files(media_root)) == 2


# --- serving -----------------------------------------------------------------------------------


def _file_url(client_pk: int, token: str, thumb: bool = False) -> str:
    return f"/clients/{client_pk}/photos/{token}/" + ("thumb/" if thumb else "")


def test_staff_of_the_salon_get_the_photo_streamed_privately(alpha, ana):
    # given
    photo = _upload(alpha, ana, image_bytes())
    make_staff(alpha, role="technician", username="tina", phone="+8613700000011")
    stored = default_storage.open(photo.image.name).read()
    for username in (alpha.owner_username, "tina"):
        http = logged_in_client(alpha, username)
        # when
        response = http.get(_file_url(ana.pk, photo.token))
        # then
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == stored
        assert response["Content-Type"] == "image/jpeg"
        assert response["Cache-Control"].startswith("private")
        thumb = http.get(_file_url(ana.pk, photo.token, thumb=True))
        assert thumb.status_code == 200
        assert thumb["Content-Type"] == "image/jpeg"
        assert thumb["Cache-Control"].startswith("private")


def test_a_bearer_token_of_the_salon_also_streams_the_photo(alpha, beta, ana):
    photo = _upload(alpha, ana, image_bytes())
    token = api_token(alpha, alpha.owner_username)
    ok = HttpClient(HTTP_HOST=alpha.host).get(_file_url(ana.pk, photo.token), HTTP_AUTHORIZATION=f"Bearer {token}")
    assert ok.status_code == 200
    bad = HttpClient(HTTP_HOST=alpha.host).get(_file_url(ana.pk, photo.token), HTTP_AUTHORIZATION="Bearer nope")
    assert bad.status_code == 302
    elsewhere = HttpClient(HTTP_HOST=beta.host).get(
        _file_url(ana.pk, photo.token), HTTP_AUTHORIZATION=f"Bearer {token}"
    )
    assert elsewhere.status_code in (302, 404)


def test_nobody_signed_out_gets_a_photo(alpha, ana):
    photo = _upload(alpha, ana, image_bytes())
    for thumb in (False, True):
        response = HttpClient(HTTP_HOST=alpha.host).get(_file_url(ana.pk, photo.token, thumb))
        assert response.status_code == 302
        assert response["Location"].startswith("/login/")


def test_a_token_under_another_client_or_salon_is_not_found(alpha, beta, ana):
    # given a photo of Ana in alpha, another alpha client, and a beta client with the same id space
    photo = _upload(alpha, ana, image_bytes())
    bo = new_client(alpha, "Bo Wang")
    beta_client = new_client(beta, "Beta Cai")
    owner = logged_in_client(alpha, alpha.owner_username)
    # then another client's URL with Ana's token is a 404, as is a made-up token
    assert owner.get(_file_url(bo.pk, photo.token)).status_code == 404
    assert owner.get(_file_url(bo.pk, photo.token, thumb=True)).status_code == 404
    assert owner.get(_file_url(ana.pk, "x" * 32)).status_code == 404
    # and beta's owner, signed in on beta, cannot reach it under any client id
    beta_owner = logged_in_client(beta, beta.owner_username)
    for client_pk in (ana.pk, beta_client.pk):
        assert beta_owner.get(_file_url(client_pk, photo.token)).status_code == 404
    # nor does alpha's session work on beta's domain
    intruder = HttpClient(HTTP_HOST=beta.host)
    intruder.cookies["sessionid"] = owner.cookies["sessionid"].value
    assert intruder.get(_file_url(ana.pk, photo.token)).status_code == 302


# --- pages -------------------------------------------------------------------------------------


def _english(info, username):
    from apps.core.models import User
    from apps.core.services import user_set_language

    with schema_context(info.schema):
        user_set_language(user=User.objects.get(username=username), language="en")


def test_a_technician_uploads_a_photo_on_the_gallery_page(alpha, ana, media_root):
    # given
    tech = make_staff(alpha, role="technician", username="tina", phone="+8613700000012")
    http = logged_in_client(alpha, "tina")
    # when
    response = http.post(
        f"/clients/{ana.pk}/photos/",
        {
            "image": upload(image_bytes(), "face.jpg"),
            "kind": "after",
            "taken_on": days_ago(0).isoformat(),
            "caption": "After the third session",
        },
    )
    # then
    assert response.status_code == 302
    with schema_context(alpha.schema):
        photo = ClientPhoto.objects.get()
    assert (photo.kind, photo.caption, photo.uploaded_by_id) == ("after", "After the third session", tech.pk)
    assert len(stored_files(media_root)) == 2


def test_the_gallery_page_shows_the_refusal_on_the_image_field(alpha, ana, media_root):
    _english(alpha, alpha.owner_username)
    http = logged_in_client(alpha, alpha.owner_username)
    response = http.post(
        f"/clients/{ana.pk}/photos/",
        {"image": upload(b"%PDF-1.4 not a photo", "scan.jpg"), "kind": "before", "taken_on": days_ago(0).isoformat()},
    )
    assert response.status_code == 200
    assert "This file is not an image we can read." in response.content.decode()
    with schema_context(alpha.schema):
        assert ClientPhoto.objects.count() == 0
    assert stored_files(media_root) == []


def test_the_gallery_lists_thumbnails_filtered_by_kind_in_constant_queries(alpha, ana, django_assert_max_num_queries):
    # given
    for kind in ("before", "before", "after", "hairstyle"):
        _upload(alpha, ana, image_bytes(), kind=kind)
    http = logged_in_client(alpha, alpha.owner_username)
    http.get(f"/clients/{ana.pk}/photos/")  # warm the session and caches
    # (17 counts each statement and the SET search_path before it: about eight real queries)
    # when
    with django_assert_max_num_queries(17):
        response = http.get(f"/clients/{ana.pk}/photos/")
    filtered = http.get(f"/clients/{ana.pk}/photos/?kind=before")
    # then
    assert response.status_code == 200
    assert response.content.decode().count("/thumb/") == 4
    assert filtered.content.decode().count("/thumb/") == 2
    for _ in range(6):
        _upload(alpha, ana, image_bytes(), kind="skin")
    with django_assert_max_num_queries(17):
        assert http.get(f"/clients/{ana.pk}/photos/").content.decode().count("/thumb/") == 10


def test_only_a_manager_deletes_a_photo_from_the_gallery(alpha, ana, media_root, django_capture_on_commit_callbacks):
    # given
    photo = _upload(alpha, ana, image_bytes())
    make_staff(alpha, role="technician", username="tina", phone="+8613700000013")
    # when a technician tries
    denied = logged_in_client(alpha, "tina").post(f"/clients/{ana.pk}/photos/{photo.pk}/delete/")
    # then nothing changes
    assert denied.status_code == 403
    with schema_context(alpha.schema):
        assert ClientPhoto.objects.filter(pk=photo.pk).exists()
        assert not AuditEntry.objects.filter(action="crm.photo_delete").exists()
    assert len(stored_files(media_root)) == 2
    # when the owner deletes it
    with django_capture_on_commit_callbacks(execute=True):
        done = logged_in_client(alpha, alpha.owner_username).post(f"/clients/{ana.pk}/photos/{photo.pk}/delete/")
    assert done.status_code == 302
    with schema_context(alpha.schema):
        assert not ClientPhoto.objects.filter(pk=photo.pk).exists()
    assert stored_files(media_root) == []


# --- before / after ----------------------------------------------------------------------------


def test_the_comparison_defaults_to_the_earliest_before_and_the_latest_after(alpha, ana):
    # given
    late_before = _upload(alpha, ana, image_bytes(), kind="before", taken_on=days_ago(20))
    first_before = _upload(alpha, ana, image_bytes(), kind="before", taken_on=days_ago(30))
    _upload(alpha, ana, image_bytes(), kind="after", taken_on=days_ago(10))
    last_after = _upload(alpha, ana, image_bytes(), kind="after", taken_on=days_ago(2))
    _upload(alpha, ana, image_bytes(), kind="other", taken_on=days_ago(1))
    other_client = new_client(alpha, "Bo Wang")
    foreign = _upload(alpha, other_client, image_bytes(), kind="before", taken_on=days_ago(40))
    with schema_context(alpha.schema):
        # when / then
        default = photo_comparison(client=ana)
        assert (default.left, default.right) == (first_before, last_after)
        assert len(default.choices) == 5
        chosen = photo_comparison(client=ana, left=str(late_before.pk), right=str(first_before.pk))
        assert (chosen.left, chosen.right) == (late_before, first_before)
        # another client's photo or garbage falls back to the default
        fallback = photo_comparison(client=ana, left=str(foreign.pk), right="abc")
        assert (fallback.left, fallback.right) == (first_before, last_after)


def test_without_before_and_after_the_comparison_shows_the_earliest_and_latest(alpha, ana):
    with schema_context(alpha.schema):
        assert photo_comparison(client=ana).left is None
    first = _upload(alpha, ana, image_bytes(), kind="hairstyle", taken_on=days_ago(9))
    with schema_context(alpha.schema):
        only = photo_comparison(client=ana)
        assert (only.left, only.right) == (first, None)
    last = _upload(alpha, ana, image_bytes(), kind="skin", taken_on=days_ago(3))
    with schema_context(alpha.schema):
        both = photo_comparison(client=ana)
        assert (both.left, both.right) == (first, last)


def test_the_comparison_page_shows_both_photos_and_pickers(alpha, ana):
    before = _upload(alpha, ana, image_bytes(), kind="before", taken_on=days_ago(30))
    after = _upload(alpha, ana, image_bytes(), kind="after", taken_on=days_ago(1))
    _english(alpha, alpha.owner_username)
    http = logged_in_client(alpha, alpha.owner_username)
    html = http.get(f"/clients/{ana.pk}/photos/compare/").content.decode()
    assert html.index(_file_url(ana.pk, before.token)) < html.index(_file_url(ana.pk, after.token))
    assert '<label for="compare-left">Left photo</label>' in html
    assert '<label for="compare-right">Right photo</label>' in html
    swapped = http.get(f"/clients/{ana.pk}/photos/compare/?left={after.pk}&right={before.pk}").content.decode()
    body = swapped[swapped.index('id="comparison"') :]
    assert body.index(_file_url(ana.pk, after.token)) < body.index(_file_url(ana.pk, before.token))


# --- the client 360° section -------------------------------------------------------------------


def test_the_photos_section_shows_the_latest_six_thumbnails(alpha, ana):
    from apps.crm.sections import client_sections_for

    photos = [_upload(alpha, ana, image_bytes(), taken_on=days_ago(10 - i)) for i in range(8)]
    request = RequestFactory().get("/", HTTP_HOST=alpha.host)
    with schema_context(alpha.schema):
        request.user = owner_of(alpha)
        sections = {s.slug: s.html for s in client_sections_for(request, ana)}
        assert {"photos", "skin_records", "treatment_courses"} <= set(sections)
        html = sections["photos"]
    shown = [p for p in photos if p.token in html]
    assert shown == photos[2:]
    assert f"/clients/{ana.pk}/photos/compare/" in html


def test_erasing_a_clients_media_removes_rows_and_files_of_that_client_only(
    alpha, ana, media_root, django_capture_on_commit_callbacks
):
    from apps.crm.models import SkinRecord, TreatmentCourse, TreatmentSession
    from apps.crm.services.media import (
        client_media_erase,
        skin_record_create,
        treatment_course_create,
        treatment_session_record,
    )

    # given Ana's photos, skin record and course, and another client's photo
    bo = new_client(alpha, "Bo Wang")
    kept = _upload(alpha, bo, image_bytes())
    with schema_context(alpha.schema):
        owner = owner_of(alpha)
        course = treatment_course_create(
            client=ana, name="Lift", planned_sessions=3, started_on=days_ago(9), acting_user=owner
        )
        session = treatment_session_record(course=course, performed_on=days_ago(2), acting_user=owner)
        skin_record_create(
            client=ana, recorded_on=days_ago(2), area="Neck", symptoms="Dry", plan="Oil", acting_user=owner
        )
    _upload(alpha, ana, image_bytes(), session=session)
    _upload(alpha, ana, image_bytes())
    # when
    with schema_context(alpha.schema), django_capture_on_commit_callbacks(execute=True):
        counts = client_media_erase(client=ana, acting_user=owner)
    # then
    assert counts == {"photos": 2, "sessions": 1, "courses": 1, "skin_records": 1}
    with schema_context(alpha.schema):
        assert list(ClientPhoto.objects.values_list("pk", flat=True)) == [kept.pk]
        assert not SkinRecord.objects.exists()
        assert not TreatmentCourse.objects.exists() and not TreatmentSession.objects.exists()
        assert AuditEntry.objects.get(action="crm.media_erase").data == counts
    assert stored_files(media_root) == sorted([kept.image.name, photo_thumb_name(kept)])
