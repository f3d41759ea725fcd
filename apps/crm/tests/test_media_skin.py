"""CRM-9 skin diagnosis records (部位、症状、方案): recording, editing, deleting (audited,
managers only) and the printable report."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from apps.core.errors import ServiceError
from apps.core.models import AuditEntry
from apps.crm.errors import CrmError
from apps.crm.models import SkinRecord
from apps.crm.services.media import (
    client_photo_upload,
    skin_record_create,
    skin_record_delete,
    skin_record_update,
)
from apps.crm.tests.test_media_support import days_ago, image_bytes, new_client, upload
from tests.fixtures import logged_in_client, make_staff, owner_of


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def ana(alpha, beta):
    new_client(beta, "Beta Bea")
    return new_client(alpha, "Ana Li")


def _english(info, username):
    from apps.core.models import User
    from apps.core.services import user_set_language

    with schema_context(info.schema):
        user_set_language(user=User.objects.get(username=username), language="en")


def _record(info, client, **overrides):
    values = {
        "recorded_on": days_ago(3),
        "area": "Cheeks",
        "symptoms": "Redness after cleansing",
        "plan": "Soothing mask weekly for four weeks",
        "skin_type": "sensitive",
        "products_advised": "Ceramide cream",
        "next_review_on": days_ago(-25),
        "acting_user": owner_of(info),
    }
    values.update(overrides)
    with schema_context(info.schema):
        return skin_record_create(client=client, **values)


def test_a_skin_record_keeps_what_was_diagnosed_and_who_recorded_it(alpha, ana):
    tech = make_staff(alpha, role="technician", username="tina", phone="+8613700000021")
    record = _record(alpha, ana, area="  T-zone ", acting_user=tech)
    with schema_context(alpha.schema):
        stored = SkinRecord.objects.get()
    assert stored == record
    assert (stored.client_id, stored.area, stored.skin_type, stored.staff_id) == (
        ana.pk,
        "T-zone",
        "sensitive",
        tech.pk,
    )
    assert (stored.recorded_on, stored.next_review_on) == (days_ago(3), days_ago(-25))


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"recorded_on": days_ago(-1)}, "recorded_on"),
        ({"next_review_on": days_ago(4)}, "next_review_on"),
        ({"area": "   "}, "area"),
        ({"symptoms": ""}, "symptoms"),
        ({"plan": ""}, "plan"),
        ({"skin_type": "scaly"}, "skin_type"),
        ({"area": "x" * 101}, "area"),
        ({"recorded_on": None}, "recorded_on"),
    ],
)
def test_a_bad_skin_record_is_refused_on_its_field_and_not_saved(alpha, ana, overrides, field):
    with pytest.raises(ServiceError) as caught:
        _record(alpha, ana, **overrides)
    assert list(caught.value.errors) == [field]
    with schema_context(alpha.schema):
        assert SkinRecord.objects.count() == 0


def test_a_future_record_date_has_the_date_in_future_code(alpha, ana):
    with pytest.raises(ServiceError) as caught:
        _record(alpha, ana, recorded_on=days_ago(-1))
    assert caught.value.code == CrmError.DATE_IN_FUTURE


def test_updating_changes_only_the_given_fields_by_the_same_rules(alpha, ana):
    record = _record(alpha, ana)
    with schema_context(alpha.schema):
        skin_record_update(record=record, acting_user=owner_of(alpha), plan="Mask twice a week", skin_type="")
        record.refresh_from_db()
        assert (record.plan, record.skin_type, record.area) == ("Mask twice a week", "", "Cheeks")
        with pytest.raises(ServiceError) as caught:
            skin_record_update(record=record, acting_user=owner_of(alpha), next_review_on=days_ago(10))
        assert list(caught.value.errors) == ["next_review_on"]
        record.refresh_from_db()
        assert record.next_review_on == days_ago(-25)


def test_deleting_a_skin_record_is_audited(alpha, ana):
    record = _record(alpha, ana)
    keep = _record(alpha, ana, area="Forehead")
    with schema_context(alpha.schema):
        skin_record_delete(record=record, acting_user=owner_of(alpha))
        assert list(SkinRecord.objects.values_list("pk", flat=True)) == [keep.pk]
        entry = AuditEntry.objects.get(action="crm.skin_record_delete")
        assert (entry.target_type, entry.target_id, entry.data["area"]) == ("crm.skinrecord", str(record.pk), "Cheeks")


# --- pages -------------------------------------------------------------------------------------


def test_a_technician_writes_a_skin_record_on_the_page(alpha, ana):
    tech = make_staff(alpha, role="technician", username="tina", phone="+8613700000022")
    response = logged_in_client(alpha, "tina").post(
        f"/clients/{ana.pk}/skin-records/",
        {
            "recorded_on": days_ago(0).isoformat(),
            "area": "Chin",
            "skin_type": "oily",
            "symptoms": "Closed comedones",
            "plan": "Deep cleanse",
            "products_advised": "",
            "next_review_on": "",
        },
    )
    assert response.status_code == 302
    with schema_context(alpha.schema):
        record = SkinRecord.objects.get()
    assert (record.area, record.skin_type, record.staff_id, record.next_review_on) == ("Chin", "oily", tech.pk, None)


def test_the_page_shows_a_refusal_on_its_field(alpha, ana):
    _english(alpha, alpha.owner_username)
    response = logged_in_client(alpha, alpha.owner_username).post(
        f"/clients/{ana.pk}/skin-records/",
        {"recorded_on": days_ago(-2).isoformat(), "area": "Chin", "symptoms": "x", "plan": "y"},
    )
    assert response.status_code == 200
    assert "The date cannot be in the future." in response.content.decode()
    with schema_context(alpha.schema):
        assert SkinRecord.objects.count() == 0


def test_the_list_shows_the_records_in_constant_queries(alpha, ana, django_assert_max_num_queries):
    _english(alpha, alpha.owner_username)
    for area in ("Cheeks", "Forehead"):
        _record(alpha, ana, area=area)
    http = logged_in_client(alpha, alpha.owner_username)
    http.get(f"/clients/{ana.pk}/skin-records/")
    with django_assert_max_num_queries(14):
        html = http.get(f"/clients/{ana.pk}/skin-records/").content.decode()
    assert "Cheeks" in html and "Forehead" in html and "Sensitive" in html
    for area in ("Neck", "Eyes", "Nose"):
        _record(alpha, ana, area=area)
    with django_assert_max_num_queries(14):
        assert "Nose" in http.get(f"/clients/{ana.pk}/skin-records/").content.decode()


def test_a_technician_edits_but_cannot_delete_a_record(alpha, ana):
    record = _record(alpha, ana)
    make_staff(alpha, role="technician", username="tina", phone="+8613700000023")
    tina = logged_in_client(alpha, "tina")
    edited = tina.post(
        f"/clients/{ana.pk}/skin-records/{record.pk}/edit/",
        {
            "recorded_on": days_ago(3).isoformat(),
            "area": "Cheeks",
            "skin_type": "dry",
            "symptoms": "Flaking",
            "plan": "Hydrating serum",
            "products_advised": "",
            "next_review_on": "",
        },
    )
    assert edited.status_code == 302
    denied = tina.post(f"/clients/{ana.pk}/skin-records/{record.pk}/delete/")
    assert denied.status_code == 403
    with schema_context(alpha.schema):
        record.refresh_from_db()
        assert (record.skin_type, record.symptoms, record.next_review_on) == ("dry", "Flaking", None)
        assert not AuditEntry.objects.filter(action="crm.skin_record_delete").exists()
    done = logged_in_client(alpha, alpha.owner_username).post(f"/clients/{ana.pk}/skin-records/{record.pk}/delete/")
    assert done.status_code == 302
    with schema_context(alpha.schema):
        assert not SkinRecord.objects.exists()


def test_a_record_of_another_client_is_not_found(alpha, ana):
    record = _record(alpha, ana)
    bo = new_client(alpha, "Bo Wang")
    owner = logged_in_client(alpha, alpha.owner_username)
    for suffix in ("edit/", "print/"):
        assert owner.get(f"/clients/{bo.pk}/skin-records/{record.pk}/{suffix}").status_code == 404
    assert owner.post(f"/clients/{bo.pk}/skin-records/{record.pk}/delete/").status_code == 404
    with schema_context(alpha.schema):
        assert SkinRecord.objects.filter(pk=record.pk).exists()


# --- the printable report ----------------------------------------------------------------------


def test_the_printed_report_has_the_salon_client_record_photos_and_signature_lines(alpha, ana):
    # given a record and photos of several kinds, the latest of each being shown
    _english(alpha, alpha.owner_username)
    record = _record(alpha, ana)
    with schema_context(alpha.schema):
        photos = {}
        for kind, age in (("before", 30), ("before", 20), ("after", 2), ("skin", 3), ("hairstyle", 1)):
            photos[(kind, age)] = client_photo_upload(
                client=ana,
                file=upload(image_bytes()),
                kind=kind,
                taken_on=days_ago(age),
                acting_user=owner_of(alpha),
            )
    # when
    response = logged_in_client(alpha, alpha.owner_username).get(f"/clients/{ana.pk}/skin-records/{record.pk}/print/")
    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert "Alpha Salon" in html
    assert "Skin diagnosis report" in html
    assert "Ana Li" in html
    assert days_ago(3).isoformat() in html
    for text in ("Cheeks", "Sensitive", "Redness after cleansing", "Soothing mask weekly", "Ceramide cream"):
        assert text in html
    assert days_ago(-25).isoformat() in html
    for text in ("Client signature", "Beautician signature"):
        assert text in html
    shown = [key for key, photo in photos.items() if f"/photos/{photo.token}/" in html]
    assert shown == [("before", 20), ("after", 2), ("skin", 3)]
    # and no navigation: only the no-print tools above the report
    assert 'class="sidenav"' not in html and 'class="topbar"' not in html
    assert 'class="report-tools no-print"' in html


def test_the_skin_section_lists_the_latest_three_records(alpha, ana):
    from django.template.loader import render_to_string
    from django.test import RequestFactory

    from apps.crm.sections import SECTIONS

    records = [_record(alpha, ana, recorded_on=days_ago(10 - i), area=f"Area {i}") for i in range(5)]
    section = SECTIONS["skin_records"]
    request = RequestFactory().get("/")
    with schema_context(alpha.schema):
        request.user = owner_of(alpha)
        context = section.context(request, ana)
        html = render_to_string(section.template, context)
    assert [r.area for r in context["records"]] == ["Area 4", "Area 3", "Area 2"]
    assert f"/clients/{ana.pk}/skin-records/{records[4].pk}/print/" in html
    assert "Area 1" not in html
