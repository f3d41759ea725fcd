"""The clients pages of the staff app: list and live search, form, 360° page, bulk tags, merge, erasure."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from apps.core.services import user_set_language
from apps.crm.models import Client, ClientTag
from apps.crm.services.clients import client_create, purchase_record
from apps.crm.services.tags import clients_tag, tag_create
from tests.fixtures import logged_in_client, make_staff, owner_of


@pytest.fixture
def owner_page(alpha):
    with schema_context(alpha.schema):
        user_set_language(user=owner_of(alpha), language="en")
    return logged_in_client(alpha, alpha.owner_username)


def _clients(alpha, n):
    with schema_context(alpha.schema):
        vip = tag_create(name="VIP", acting_user=None)
        made = [client_create(name=f"客户{i}", phone=f"1380000{i:04d}", acting_user=None) for i in range(n)]
        clients_tag(client_ids=[c.pk for c in made], tag=vip, acting_user=None)
        when = datetime.datetime(2026, 11, 1, 3, tzinfo=datetime.UTC)
        for c in made:
            purchase_record(client=c, occurred_at=when, item_name="剪发", amount=8800)
    return made


def _queries(page_client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = page_client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_list_page_costs_the_same_queries_whatever_the_page_size(alpha, owner_page):
    # given
    _clients(alpha, 60)

    # when
    small = _queries(owner_page, "/clients/?size=20")
    large = _queries(owner_page, "/clients/?size=100")
    searched = _queries(owner_page, "/clients/?size=100&q=kh")

    # then
    assert small == large == searched


def test_live_search_returns_rows_only_for_htmx(alpha, owner_page):
    with schema_context(alpha.schema):
        client_create(name="张三", phone="13800135678", allergies="烫发水过敏", acting_user=None)
        client_create(name="李四", phone="13900001234", acting_user=None)
    full = owner_page.get("/clients/?q=zs").content.decode()
    rows = owner_page.get("/clients/?q=5678", HTTP_HX_REQUEST="true").content.decode()
    assert "<html" in full and "张三" in full and "李四" not in full
    assert "<html" not in rows and "张三" in rows and "Alert" in rows and "李四" not in rows


def test_create_shows_field_errors_and_then_creates(alpha, owner_page):
    bad = owner_page.post("/clients/new/", {"name": "张三", "phone": "123", "birthday": "2999-01-01"})
    assert bad.status_code == 200
    text = bad.content.decode()
    assert "Enter a mainland mobile number" in text and "The birthday cannot be in the future." in text
    with schema_context(alpha.schema):
        assert not Client.objects.exists()
    good = owner_page.post("/clients/new/", {"name": "张三", "phone": "13800135678", "allergies": "烫发水过敏"})
    assert good.status_code == 302
    with schema_context(alpha.schema):
        client = Client.objects.get()
    page = owner_page.get(good["Location"]).content.decode()
    assert 'role="alert"' in page and "烫发水过敏" in page and "13800135678" in page
    assert f"/clients/{client.pk}/" == good["Location"]


def test_360_page_shows_summary_figures(alpha, owner_page):
    with schema_context(alpha.schema):
        client = client_create(name="张三", acting_user=None)
        for day, amount in ((1, 10000), (11, 20000), (31, 30000)):
            purchase_record(
                client=client,
                occurred_at=datetime.datetime(2026, 10, day, 3, tzinfo=datetime.UTC),
                item_name="护理",
                amount=amount,
            )
    page = owner_page.get(f"/clients/{client.pk}/").content.decode()
    assert 'data-figure="total_spend">¥600.00<' in page
    assert 'data-figure="visits">3<' in page
    assert 'data-figure="average_ticket">¥200.00<' in page
    assert 'data-figure="median_days">15<' in page
    assert 'data-figure="last_visit">2026-10-31<' in page


def test_technician_sees_masked_phones_and_no_write_buttons(alpha):
    make_staff(alpha, role="technician", username="tech-page")
    with schema_context(alpha.schema):
        client = client_create(name="张三", phone="13800135678", acting_user=None)
    tech = logged_in_client(alpha, "tech-page")
    listing = tech.get("/clients/").content.decode()
    page = tech.get(f"/clients/{client.pk}/").content.decode()
    assert "138****5678" in listing and "13800135678" not in listing
    assert "138****5678" in page and "13800135678" not in page
    assert f"/clients/{client.pk}/edit/" not in page
    assert tech.get(f"/clients/{client.pk}/edit/").status_code == 403
    assert tech.get(f"/clients/{client.pk}/personal-data.json").status_code == 403


def test_bulk_tag_from_the_list_selection(alpha, owner_page):
    with schema_context(alpha.schema):
        vip = tag_create(name="VIP", acting_user=None)
        a = client_create(name="甲", acting_user=None)
        b = client_create(name="乙", acting_user=None)
    response = owner_page.post("/clients/bulk-tag/", {"clients": [a.pk, b.pk], "tag": vip.pk, "action": "add"})
    assert response.status_code == 302
    with schema_context(alpha.schema):
        assert ClientTag.objects.filter(tag=vip).count() == 2
    owner_page.post("/clients/bulk-tag/", {"clients": [a.pk], "tag": vip.pk, "action": "remove"})
    with schema_context(alpha.schema):
        assert list(ClientTag.objects.filter(tag=vip).values_list("client_id", flat=True)) == [b.pk]


def test_merge_page_merges_and_the_old_address_follows(alpha, owner_page):
    with schema_context(alpha.schema):
        keep = client_create(name="张三", phone="13800000001", acting_user=None)
        dup = client_create(name="张三", phone="13800000002", acting_user=None)
    found = owner_page.get(f"/clients/{keep.pk}/merge/?q=zs").content.decode()
    assert f"other={dup.pk}" in found
    response = owner_page.post(f"/clients/{keep.pk}/merge/", {"other": dup.pk})
    assert response.status_code == 302
    assert owner_page.get(f"/clients/{dup.pk}/")["Location"] == f"/clients/{keep.pk}/"
    assert "Undo merge" in owner_page.get(f"/clients/{keep.pk}/").content.decode()


def test_erase_needs_the_name_typed(alpha, owner_page):
    with schema_context(alpha.schema):
        client = client_create(name="张三", phone="13800000001", acting_user=None)
    wrong = owner_page.post(f"/clients/{client.pk}/erase/", {"reason": "申请", "confirm_name": "李四"})
    assert wrong.status_code == 200 and "The name does not match." in wrong.content.decode()
    with schema_context(alpha.schema):
        assert Client.objects.get(pk=client.pk).erased_at is None
    right = owner_page.post(f"/clients/{client.pk}/erase/", {"reason": "申请", "confirm_name": "张三"})
    assert right.status_code == 302
    with schema_context(alpha.schema):
        assert Client.objects.get(pk=client.pk).erased_at is not None


def test_personal_data_download(alpha, owner_page):
    with schema_context(alpha.schema):
        client = client_create(name="张三", phone="13800000001", acting_user=None)
    response = owner_page.get(f"/clients/{client.pk}/personal-data.json")
    assert response["Content-Disposition"] == f'attachment; filename="client-{client.pk}-personal-data.json"'
    assert '"phone": "+8613800000001"' in response.content.decode()


def test_tag_and_tier_pages(alpha, owner_page):
    response = owner_page.post(
        "/clients/tags/",
        {"name": "高消费", "color": "#ff0000", "rule": "spend_over", "rule_amount_yuan": 5000, "rule_months": 12},
    )
    assert response.status_code == 302
    bad = owner_page.post("/clients/tags/", {"name": "高消费", "color": "#ff0000"})
    assert "A tag with this name already exists." in bad.content.decode()
    assert owner_page.post("/clients/tiers/", {"name": "金卡", "rank": 3, "color": "#c9a227"}).status_code == 302
    with schema_context(alpha.schema):
        from apps.crm.models import MembershipTier, Tag

        assert Tag.objects.get().rule_amount == 500000
        assert MembershipTier.objects.get().name == "金卡"


def test_pick_fragment_shows_the_health_alert(alpha, owner_page):
    with schema_context(alpha.schema):
        client_create(name="张三", phone="13800135678", allergies="烫发水过敏", acting_user=None)
    fragment = owner_page.get("/clients/pick/?q=zs").content.decode()
    assert 'class="alert-health" role="alert"' in fragment and "烫发水过敏" in fragment


def test_profile_photo_is_one_of_the_clients_private_photos(alpha, owner_page, settings, tmp_path):
    from apps.crm.services.media import client_photo_upload
    from apps.crm.tests.test_media_support import image_bytes, upload

    # given
    settings.MEDIA_ROOT = tmp_path / "media"
    with schema_context(alpha.schema):
        client = client_create(name="张三", acting_user=None)
        photo = client_photo_upload(
            client=client,
            file=upload(image_bytes()),
            kind="hairstyle",
            taken_on=datetime.date(2026, 11, 1),
            acting_user=None,
        )

    # when
    response = owner_page.post(f"/clients/{client.pk}/photos/{photo.pk}/profile/")

    # then
    assert response.status_code == 302
    page = owner_page.get(f"/clients/{client.pk}/").content.decode()
    assert f'src="/clients/{client.pk}/photos/{photo.token}/thumb/"' in page
    with schema_context(alpha.schema):
        assert Client.objects.get(pk=client.pk).photo_id == photo.pk
    assert (
        owner_page.get(f"/media/salons/{alpha.schema}/clients/{client.pk}/photos/{photo.token}.jpg").status_code == 404
    )
