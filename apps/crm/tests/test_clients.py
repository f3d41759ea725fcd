"""Client records (CRM-1, CRM-2, SEC-4): create and update rules, derived fields, encryption at rest."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.utils import translation
from django_tenants.utils import schema_context

from apps.core.crypto import mask_id_number, mask_phone, search_hash
from apps.core.errors import ServiceError
from apps.crm.errors import CrmError
from apps.crm.models import Client, ClientTag
from apps.crm.services.clients import (
    client_create,
    client_next_birthday,
    client_update,
    lunar_birthday_in,
    name_spellings,
    purchase_record,
)
from apps.crm.services.tags import tag_create
from tests.fixtures import owner_of


def test_create_derives_search_fields_and_encrypts_phone_and_id_at_rest(in_alpha):
    # given / when
    client = client_create(
        name="张三", phone="138 0013 5678", id_number="11010519491231002x", acting_user=owner_of(in_alpha)
    )

    # then
    stored = Client.objects.get(pk=client.pk)
    assert (stored.name_pinyin, stored.name_initials) == ("zhangsan", "zs")
    assert stored.phone == "+8613800135678"
    assert stored.phone_last4 == "5678"
    assert stored.phone_hash == search_hash("+8613800135678")
    assert stored.id_number == "11010519491231002X"
    assert stored.phone_masked == "138****5678"
    assert stored.id_number_masked == "110***********002X"
    with connection.cursor() as cursor:
        cursor.execute("SELECT phone, id_number FROM crm_client WHERE id = %s", [client.pk])
        raw_phone, raw_id = cursor.fetchone()
    assert "13800135678" not in raw_phone and raw_phone.startswith("gAAAA")  # a Fernet token
    assert "110105" not in raw_id


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("张三", ("zhangsan", "zs")),
        ("欧阳娜娜", ("ouyangnana", "oynn")),
        ("Alice Wang", ("alicewang", "aw")),
        ("李 Lily", ("lilily", "ll")),
    ],
)
def test_name_spellings(name, expected):
    assert name_spellings(name) == expected


def test_masking():
    assert mask_phone("+8613800135678") == "138****5678"
    assert mask_phone("+447700900123") == "+44******0123"
    assert mask_phone("") == ""
    assert mask_id_number("E12345678") == "E12**5678"


def test_lunar_birthday_is_derived_and_next_birthday_follows_the_lunar_calendar(in_alpha):
    # given: born 1990-05-20, which is 四月廿六 in the lunar calendar
    client = client_create(name="王芳", birthday=datetime.date(1990, 5, 20), birthday_is_lunar=True, acting_user=None)

    # then
    assert (client.lunar_birthday_month, client.lunar_birthday_day, client.lunar_birthday_is_leap_month) == (
        4,
        26,
        False,
    )
    # 四月廿六 fell on 2026-06-11 (passed on 2026-11-23) and falls on 2027-05-31.
    assert client_next_birthday(client, today=datetime.date(2026, 11, 23)) == datetime.date(2027, 5, 31)
    assert client_next_birthday(client, today=datetime.date(2026, 6, 1)) == datetime.date(2026, 6, 11)
    client.birthday_is_lunar = False
    assert client_next_birthday(client, today=datetime.date(2026, 11, 23)) == datetime.date(2027, 5, 20)


def test_lunar_day_30_falls_back_in_a_short_month():
    # 2025's lunar 12th month has 29 days (除夕 is 腊月廿九, 2026-02-16).
    assert lunar_birthday_in(2025, 12, 30) == datetime.date(2026, 2, 16)


def test_leap_day_birthday_in_a_common_year(in_alpha):
    client = client_create(name="闰日", birthday=datetime.date(2000, 2, 29), acting_user=None)
    assert client_next_birthday(client, today=datetime.date(2026, 1, 1)) == datetime.date(2026, 2, 28)


@pytest.mark.parametrize(
    ("fields", "field", "code"),
    [
        ({"name": "  "}, "name", CrmError.NAME_REQUIRED),
        ({"name": "甲", "phone": "12345"}, "phone", CrmError.INVALID_PHONE),
        ({"name": "甲", "phone": "+86 123 4567 8901"}, "phone", CrmError.INVALID_PHONE),
        ({"name": "甲", "phone_alt": "abc"}, "phone_alt", CrmError.INVALID_PHONE),
        ({"name": "甲", "birthday": datetime.date(2999, 1, 1)}, "birthday", CrmError.BIRTHDAY_IN_FUTURE),
        ({"name": "甲", "anniversary": datetime.date(2999, 1, 1)}, "anniversary", CrmError.ANNIVERSARY_IN_FUTURE),
        ({"name": "甲", "id_number": "110105194912310021"}, "id_number", CrmError.INVALID_ID_NUMBER),
        ({"name": "甲", "id_number": "12"}, "id_number", CrmError.INVALID_ID_NUMBER),
    ],
)
def test_bad_input_is_refused_with_a_field_error_and_nothing_written(in_alpha, fields, field, code):
    # given
    before = Client.objects.count()

    # when
    with translation.override("en"), pytest.raises(ServiceError) as refused:
        client_create(acting_user=None, **fields)

    # then
    assert refused.value.code == code
    assert field in refused.value.errors
    assert Client.objects.count() == before


def test_every_field_error_is_reported_at_once(in_alpha):
    with pytest.raises(ServiceError) as refused:
        client_create(name="", phone="1", birthday=datetime.date(2999, 1, 1), acting_user=None)
    assert set(refused.value.errors) == {"name", "phone", "birthday"}


def test_duplicate_phone_in_any_spelling_is_refused(in_alpha):
    # given
    client_create(name="甲", phone="13800135678", acting_user=None)

    # when / then
    with translation.override("en"), pytest.raises(ServiceError) as refused:
        client_create(name="乙", phone="+86 138-0013-5678", acting_user=None)
    assert refused.value.code == CrmError.DUPLICATE_PHONE
    assert refused.value.errors == {"phone": ["Another client already has this phone number."]}
    assert Client.objects.filter(name="乙").count() == 0


def test_the_database_refuses_a_duplicate_phone_the_service_did_not_see(in_alpha):
    """The partial unique index is the backstop behind the friendly check (two desks at once)."""
    first = client_create(name="甲", phone="13800135678", acting_user=None)
    twin = Client(name="乙", phone=first.phone, phone_hash=first.phone_hash)
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        twin.save()


def test_duplicate_card_number_case_insensitively(in_alpha):
    client_create(name="甲", card_number="vip001", acting_user=None)
    with pytest.raises(ServiceError) as refused:
        client_create(name="乙", card_number="VIP001", acting_user=None)
    assert refused.value.code == CrmError.DUPLICATE_CARD_NUMBER


def test_update_changes_only_given_fields_and_rederives(in_alpha):
    # given
    client = client_create(name="张三", phone="13800135678", notes="老客户", acting_user=None)

    # when
    client_update(client=client, name="李四", phone="13900001234", acting_user=None)

    # then
    stored = Client.objects.get(pk=client.pk)
    assert (stored.name, stored.name_initials, stored.phone_last4, stored.notes) == ("李四", "ls", "1234", "老客户")
    assert stored.phone_hash == search_hash("+8613900001234")


def test_update_refuses_own_referrer_and_keeps_the_row(in_alpha):
    client = client_create(name="甲", acting_user=None)
    with pytest.raises(ServiceError) as refused:
        client_update(client=client, referrer=client, acting_user=None)
    assert refused.value.code == CrmError.REFERRER_IS_SELF
    assert Client.objects.get(pk=client.pk).referrer_id is None


def test_manual_tags_are_replaced_and_automatic_tags_cannot_be_set_by_hand(in_alpha):
    # given
    vip = tag_create(name="VIP", acting_user=None)
    quiet = tag_create(name="喜欢安静", acting_user=None)
    big = tag_create(name="高消费", rule="spend_over", rule_amount=500000, rule_months=12, acting_user=None)
    client = client_create(name="甲", tags=[vip], acting_user=None)

    # when
    client_update(client=client, tags=[quiet], acting_user=None)

    # then
    assert list(client.client_tags.values_list("tag__name", flat=True)) == ["喜欢安静"]
    with pytest.raises(ServiceError) as refused:
        client_update(client=client, tags=[big], acting_user=None)
    assert refused.value.code == CrmError.AUTOMATIC_TAG
    assert ClientTag.objects.filter(client=client, tag=big).count() == 0


def test_inactive_client_cannot_be_changed(in_alpha):
    client = client_create(name="甲", acting_user=None)
    Client.objects.filter(pk=client.pk).update(is_active=False)
    with pytest.raises(ServiceError) as refused:
        client_update(client=client, name="乙", acting_user=None)
    assert refused.value.code == CrmError.CLIENT_INACTIVE


def test_purchase_recording_is_idempotent_by_reference(in_alpha):
    client = client_create(name="甲", acting_user=None)
    when = datetime.datetime(2026, 11, 1, 10, tzinfo=datetime.UTC)
    first = purchase_record(client=client, occurred_at=when, item_name="剪发", amount=8800, reference="bill:1:1")
    again = purchase_record(client=client, occurred_at=when, item_name="剪发", amount=8800, reference="bill:1:1")
    assert first.pk == again.pk
    assert client.purchases.count() == 1


def test_clients_of_one_salon_are_invisible_to_another(alpha, beta):
    with schema_context(alpha.schema):
        client_create(name="张三", phone="13800135678", acting_user=None)
    with schema_context(beta.schema):
        assert not Client.objects.filter(name="张三").exists()
        # the same phone is a new client in another salon
        client_create(name="张三", phone="13800135678", acting_user=None)
