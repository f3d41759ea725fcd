"""CRM-8 client search: every query shape finds the right active clients of this salon, and only them."""

from __future__ import annotations

import random

import pytest
from django_tenants.utils import schema_context

from apps.crm.models import Client
from apps.crm.selectors import client_search, search_condition
from apps.crm.services.clients import client_create
from tests.fixtures import owner_of


def _client(name: str, **fields):
    return client_create(name=name, acting_user=None, **fields)


def _names(query: str, **kwargs) -> list[str]:
    return [c.name for c in client_search(query=query, **kwargs)]


@pytest.fixture
def people(in_alpha):
    """Alpha's clients; beta holds a 张三 with the same phone, card and ID number."""
    made = {
        "张三": _client("张三", phone="13800135678", card_number="88001234", id_number="11010519491231002X"),
        "张三丰": _client("张三丰", phone="13911112222"),
        "张伟": _client("张伟", phone="13700005678", phone_alt="15855556666"),
        "李四": _client("李四", phone="13612345678", card_number="5678"),
        "王芳": _client("王芳", phone="18600001111", card_number="vip 0012"),
        "Alice Wang": _client("Alice Wang", phone="13522223333"),
        "欧阳娜娜": _client("欧阳娜娜", phone="13344445555"),
    }
    return made


@pytest.fixture
def beta_zhang(beta, people):
    with schema_context(beta.schema):
        return _client("张三", phone="13800135678", card_number="88001234", id_number="11010519491231002X")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("zs", ["张三", "张三丰"]),
        ("ZS", ["张三", "张三丰"]),
        ("zsf", ["张三丰"]),
        ("zhangs", ["张三", "张三丰"]),
        ("zhang san", ["张三", "张三丰"]),
        ("张", ["张三", "张伟", "张三丰"]),  # shortest initials first, then by pinyin
        ("张三", ["张三", "张三丰"]),
        ("张三丰", ["张三丰"]),
        ("oynn", ["欧阳娜娜"]),
        ("欧阳", ["欧阳娜娜"]),
        ("ｚｓ", ["张三", "张三丰"]),  # full-width letters from a Chinese input method
    ],
)
def test_names_are_found_by_characters_pinyin_and_initials(people, query, expected):
    # when
    found = _names(query)
    # then
    assert found == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("alice", ["Alice Wang"]),
        ("Alice W", ["Alice Wang"]),
        ("aw", ["Alice Wang"]),
        ("alicewang", ["Alice Wang"]),
        ("wang", ["王芳"]),  # pinyin of 王芳; "Alice Wang" starts with alice
        ("wf", ["王芳"]),
    ],
)
def test_latin_names_and_pinyin(people, query, expected):
    assert _names(query) == expected


def test_last_four_digits_find_phones_and_a_card_with_those_digits(people):
    # given 张三 and 张伟 end in 5678; 李四's phone ends in 5678 too and his card is 5678
    # when
    found = _names("5678")
    # then
    assert sorted(found) == ["张三", "张伟", "李四"]
    assert _names("1111") == ["王芳"]
    assert _names("9999") == []


@pytest.mark.parametrize(
    "query", ["13800135678", "138 0013 5678", "+86 138-0013-5678", "+8613800135678", "１３８００１３５６７８"]
)
def test_whole_phone_in_every_spelling_finds_only_its_owner(people, query):
    assert _names(query) == ["张三"]


def test_second_phone_is_found_too(people):
    assert _names("158 5555 6666") == ["张伟"]


def test_card_number_exact_and_prefix(people):
    assert _names("88001234") == ["张三"]
    assert _names("8800") == []  # four digits are the last four of a phone or a whole card number
    assert _names("88001") == ["张三"]
    assert _names("880012345") == []
    # cards with letters are stored upper-case without spaces, and found by their prefix
    assert _names("VIP0012") == ["王芳"]
    assert _names("vip00") == ["王芳"]


def test_resident_id_number_by_its_keyed_hash(people):
    # when / then: the check digit X in either case, spaces ignored
    assert _names("11010519491231002X") == ["张三"]
    assert _names("11010519491231002x") == ["张三"]
    assert _names("110105 19491231 002X") == ["张三"]
    assert _names("110105194912310021") == []


def test_inactive_clients_never_appear(people):
    # given 张三 merged away or erased (is_active off)
    Client.objects.filter(pk=people["张三"].pk).update(is_active=False)
    # when / then: by name, initials, pinyin, last four, phone, card and ID number
    assert _names("张") == ["张伟", "张三丰"]
    assert _names("zs") == ["张三丰"]
    assert _names("zhangsan") == ["张三丰"]
    assert sorted(_names("5678")) == ["张伟", "李四"]
    assert _names("13800135678") == []
    assert _names("88001234") == []
    assert _names("11010519491231002X") == []


def test_other_salons_clients_never_appear(people, beta_zhang, beta):
    # when searching in alpha
    in_alpha = client_search(query="13800135678")
    # then only alpha's 张三
    assert [c.pk for c in in_alpha] == [people["张三"].pk]
    assert _names("张三") == ["张三", "张三丰"]
    # and in beta only beta's
    with schema_context(beta.schema):
        assert [c.pk for c in client_search(query="13800135678")] == [beta_zhang.pk]
        assert [c.pk for c in client_search(query="zs")] == [beta_zhang.pk]
        assert [c.pk for c in client_search(query="88001234")] == [beta_zhang.pk]
        assert [c.pk for c in client_search(query="11010519491231002X")] == [beta_zhang.pk]


@pytest.mark.parametrize("query", ["", "   ", "\t\n", None])
def test_empty_query_finds_nothing(people, query, django_assert_num_queries):
    assert search_condition(query) is None
    with django_assert_num_queries(0):
        assert client_search(query=query) == []


def test_like_wildcards_are_literal(people):
    # given names that contain the wildcards
    _client("王%丽", phone="13100001111")
    _client("王_丽", phone="13100002222")
    _client("A_my", phone="13100003333")
    # when / then
    assert _names("%") == []
    assert _names("_") == []
    assert _names("王%") == ["王%丽"]
    assert _names("王_") == ["王_丽"]
    assert _names("A_") == ["A_my"]
    assert _names("王") == ["王芳", "王%丽", "王_丽"]


def test_limit_and_tags_loaded_with_a_fixed_query_count(in_alpha, django_assert_max_num_queries):
    # given 30 clients named 王…
    owner = owner_of(in_alpha)
    for index in range(30):
        client_create(name=f"王{chr(0x4E00 + index)}", acting_user=owner, phone=f"1350000{index:04d}")
    # when
    with django_assert_max_num_queries(4):  # clients (+ tier), tags; each may carry a SET search_path
        found = client_search(query="王", limit=20)
        tags = [list(c.client_tags.all()) for c in found]
    # then
    assert len(found) == 20
    assert tags == [[]] * 20


def test_results_match_a_brute_force_search_over_generated_clients(in_alpha, beta):
    """Thousands of realistic clients (the benchmark's generator): each query shape returns the first
    twenty of exactly the clients a plain scan finds, in the documented order."""
    from bench.clients import clients_generate

    # given
    made = clients_generate(count=1500, seed=11).clients
    with schema_context(beta.schema):
        clients_generate(count=200, seed=11)  # the same names and phones in another salon
    rng = random.Random(5)
    chinese = [c for c in made if not c.name.isascii()]
    ordered = sorted(made, key=lambda c: (len(c.name_initials), c.name_pinyin, c.pk))

    def expected(match) -> list[int]:
        return [c.pk for c in ordered if match(c)][:20]

    cases = []
    for client in rng.sample(made, 15):
        last4 = client.phone[-4:]
        cases.append((last4, expected(lambda c, q=last4: c.phone.endswith(q) or c.card_number == q)))
        cases.append((client.phone, [client.pk]))
    for client in rng.sample(chinese, 15):
        for prefix in (client.name[:1], client.name[:2]):
            cases.append((prefix, expected(lambda c, q=prefix: c.name.lower().startswith(q.lower()))))
        initials = client.name_initials[:2]
        cases.append(
            (
                initials,
                expected(
                    lambda c, q=initials: (
                        c.name_initials.startswith(q) or c.name_pinyin.startswith(q) or c.name.lower().startswith(q)
                    )
                ),
            )
        )
    for client in rng.sample([c for c in made if c.card_number], 5):
        cases.append((client.card_number, [client.pk]))
        prefix = client.card_number[:6]
        cases.append((prefix, expected(lambda c, q=prefix: c.card_number.startswith(q))))
    for client in [c for c in made if c.id_number][:5]:
        cases.append((client.id_number, [client.pk]))

    # when
    got = {query: [c.pk for c in client_search(query=query)] for query, _ in cases}

    # then
    assert {query: want for query, want in cases} == got
