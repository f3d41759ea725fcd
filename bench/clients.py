"""Realistic salon clients in bulk: for the client-search benchmark and for tests that need thousands.

Names follow the real frequency of Chinese surnames (the hundred most common, by their share of
the population, plus a tail of rarer and two-character ones), given names are one or two of a few
hundred common characters (female-leaning, as a beauty salon's clientele is), ~3 % are Latin
names. Phones are unique mainland mobiles; ~30 % hold a card number, ~60 % a birthday, ~5 % a
resident ID number. Every client goes through ``client_build`` (validation, encryption, pinyin,
initials, keyed hashes, last four digits, lunar birthday) and is inserted with ``bulk_create``.

Call inside a salon's schema (``schema_context``). Import only after ``django.setup()``.
"""

from __future__ import annotations

import datetime
import itertools
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

from django.db import transaction

from apps.crm.models import Client, ClientTag, Gender, PurchaseKind, PurchaseLine, PurchaseSource, Source, Tag
from apps.crm.services.clients import client_build

# The hundred most common surnames with their approximate share of the population in per cent
# (after the published national surname statistics, rounded). Together they cover ~80 %; TAIL_SURNAMES share the rest.
SURNAMES: tuple[tuple[str, float], ...] = (
    ("王", 7.12), ("李", 7.00), ("张", 6.74), ("刘", 5.10), ("陈", 4.61), ("杨", 3.22), ("黄", 2.45),
    ("赵", 2.19), ("吴", 2.05), ("周", 1.91), ("徐", 1.50), ("孙", 1.44), ("马", 1.29), ("朱", 1.28),
    ("胡", 1.19), ("郭", 1.15), ("何", 1.06), ("林", 1.03), ("高", 1.02), ("罗", 0.87), ("郑", 0.84),
    ("梁", 0.82), ("谢", 0.70), ("宋", 0.66), ("唐", 0.65), ("许", 0.64), ("韩", 0.63), ("邓", 0.62),
    ("冯", 0.61), ("曹", 0.60), ("彭", 0.55), ("曾", 0.54), ("肖", 0.53), ("田", 0.52), ("董", 0.51),
    ("潘", 0.50), ("袁", 0.49), ("蔡", 0.48), ("蒋", 0.47), ("余", 0.46), ("于", 0.45), ("杜", 0.44),
    ("叶", 0.43), ("程", 0.42), ("魏", 0.41), ("苏", 0.40), ("吕", 0.39), ("丁", 0.38), ("任", 0.37),
    ("卢", 0.36), ("姚", 0.35), ("沈", 0.34), ("钟", 0.33), ("姜", 0.32), ("崔", 0.31), ("谭", 0.30),
    ("陆", 0.29), ("范", 0.28), ("汪", 0.28), ("廖", 0.27), ("石", 0.27), ("金", 0.26), ("韦", 0.26),
    ("贾", 0.25), ("夏", 0.25), ("付", 0.24), ("方", 0.24), ("邹", 0.23), ("熊", 0.23), ("白", 0.22),
    ("孟", 0.22), ("秦", 0.21), ("邱", 0.21), ("侯", 0.20), ("江", 0.20), ("尹", 0.19), ("薛", 0.19),
    ("闫", 0.18), ("段", 0.18), ("雷", 0.17), ("龙", 0.17), ("黎", 0.17), ("史", 0.16), ("陶", 0.16),
    ("贺", 0.16), ("毛", 0.15), ("郝", 0.15), ("顾", 0.15), ("龚", 0.14), ("邵", 0.14), ("万", 0.13),
    ("覃", 0.13), ("武", 0.13), ("钱", 0.12), ("戴", 0.12), ("严", 0.12), ("莫", 0.11), ("孔", 0.11),
    ("向", 0.11), ("常", 0.10),
)  # fmt: skip
TAIL_SURNAMES = (
    *"汤康易乔赖文施洪辛柴牛庞樊殷兰左鲁俞葛章伍聂齐倪焦颜温祝耿包申安柳褚凌卜单裴宁宫甘关苗解",
    *("欧阳", "司马", "上官", "诸葛", "东方", "慕容"),
)
TAIL_SHARE = 19.7  # per cent of people whose surname is not among the hundred


def _unique(characters: str) -> str:
    return "".join(dict.fromkeys(characters))


GIVEN_FEMALE = _unique(
    "丽静敏燕艳娟霞芳婷雪慧玲红梅琳颖洁莉萍晶倩欣怡佳雨涵思梦媛妍瑶琪璐娜露蕾薇蓉月秀英华玉兰凤云春"
    "美嘉悦晓小文宇子雅诗淑秋冰彤晨菲茜琴丹宁甜蕊珊萱馨瑾婉娇柔巧如若语嫣然可心依依蓓贝晴岚爽琼莹"
    "璇滢璐钰舒曼蔓荷莲桂菊杏桃樱蝶凤翠碧青虹霓彩霏沁洋姗妮娅娣姿姝婧婕媚嫦嫣孜姣妙妹珍珠宝环钗"
    "睿昕晗曦暄昭晏旭炜炎烨焱灵韵音乐笑欢喜安康宜佩兮希溪澜涓湘潇漪瀚津清"
)
GIVEN_MALE = _unique(
    "伟强磊军勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆帅旭宁龙林洋阳峰建国志海东亮成军毅诚坤昊"
    "哲博航翔宏伦毅峻岩松柏森杨晨鸣铭锋锐钧鑫振兴达鸿彬彪盛荣轩逸然睿泽霖瑞祥福禄寿喜文武"
)
LATIN_FIRST = (
    "Alice", "Amy", "Anna", "Bella", "Cathy", "Cindy", "Coco", "Daisy", "Emily", "Emma", "Fiona", "Grace",
    "Helen", "Iris", "Ivy", "Jane", "Jenny", "Jessica", "Joy", "Judy", "Kelly", "Kitty", "Lily", "Linda",
    "Lisa", "Lucy", "Mandy", "Mia", "Nancy", "Nina", "Olivia", "Penny", "Rachel", "Rose", "Ruby", "Sandy",
    "Sophia", "Stella", "Tina", "Vicky", "Vivian", "Wendy", "Yoyo", "Zoe", "David", "Jack", "Kevin", "Leo",
    "Michael", "Peter", "Tom", "Tony",
)  # fmt: skip
LATIN_LAST = (
    "Wang", "Li", "Zhang", "Liu", "Chen", "Lee", "Wong", "Chan", "Lin", "Smith", "Brown", "Taylor", "Kim",
    "Park", "Tanaka", "Sato", "Nguyen", "Martin", "Garcia", "Müller", "O'Brien",
)  # fmt: skip
# Mobile number blocks that phonenumbers accepts as mainland mobiles (1[3-9]x).
MOBILE_PREFIXES = (
    *range(130, 140), 147, *range(150, 154), *range(155, 160), 166, 173, *range(175, 179), *range(180, 190),
    191, 193, *range(195, 200),
)  # fmt: skip
ID_REGIONS = ("110101", "310104", "440305", "330106", "510107", "420106", "320102", "500103")
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"
CARD_PREFIX = "88"
SOURCES = tuple(s for s in Source.values if s)

TAG_NAMES = ("VIP", "新客", "老客", "敏感肌", "孕期", "学生", "美团", "抖音", "会员日", "高消费", "待回访", "朋友介绍")
ITEMS = ("洗剪吹", "烫发", "染发", "护理", "面部清洁", "补水护理", "美甲", "美睫", "按摩", "头皮护理", "产品")


@dataclass(frozen=True)
class MadeClient:
    """The plain values of one generated client (what a person would type to find it)."""

    pk: int
    name: str
    phone: str  # E.164
    card_number: str
    id_number: str
    name_initials: str
    name_pinyin: str


@dataclass
class MadeClients:
    clients: list[MadeClient] = field(default_factory=list)
    build_seconds: float = 0.0  # client_build: validation, pinyin, encryption, hashes
    insert_seconds: float = 0.0  # bulk_create

    @property
    def seconds(self) -> float:
        return self.build_seconds + self.insert_seconds


def _surname_picker(rng: random.Random) -> Callable[[], str]:
    names = [name for name, _share in SURNAMES]
    weights = [share for _name, share in SURNAMES]
    names += TAIL_SURNAMES
    weights += [TAIL_SHARE / len(TAIL_SURNAMES)] * len(TAIL_SURNAMES)
    cumulative = list(itertools.accumulate(weights))

    def pick() -> str:
        return rng.choices(names, cum_weights=cumulative)[0]

    return pick


def chinese_name(rng: random.Random, surname: str, gender: str) -> str:
    characters = GIVEN_MALE if gender == Gender.MALE else GIVEN_FEMALE
    length = 1 if rng.random() < 0.3 else 2
    return surname + "".join(rng.choice(characters) for _ in range(length))


def latin_name(rng: random.Random) -> str:
    return f"{rng.choice(LATIN_FIRST)} {rng.choice(LATIN_LAST)}"


def resident_id(rng: random.Random, birthday: datetime.date, gender: str) -> str:
    """A well-formed 18-digit resident ID number (region, birth date, sequence, check digit)."""
    sequence = rng.randrange(0, 500) * 2 + (1 if gender == Gender.MALE else 0)  # odd for men
    body = f"{rng.choice(ID_REGIONS)}{birthday:%Y%m%d}{sequence:03d}"
    total = sum(int(d) * w for d, w in zip(body, ID_WEIGHTS, strict=True))
    return body + ID_CHECK[total % 11]


def client_fields(
    rng: random.Random, surname: Callable[[], str], phones: set[int], today: datetime.date
) -> dict[str, Any]:
    """``client_build`` arguments for one new client (no card number: the caller numbers cards)."""
    gender = Gender.MALE if rng.random() < 0.15 else Gender.FEMALE
    name = latin_name(rng) if rng.random() < 0.03 else chinese_name(rng, surname(), gender)
    while True:
        number = rng.choice(MOBILE_PREFIXES) * 10**8 + rng.randrange(10**8)
        if number not in phones:
            phones.add(number)
            break
    fields: dict[str, Any] = {
        "name": name,
        "gender": gender,
        "phone": str(number),
        "source": rng.choice(SOURCES),
    }
    if rng.random() < 0.6:
        birthday = today - datetime.timedelta(days=rng.randrange(18 * 365, 65 * 365))
        fields["birthday"] = birthday
        fields["birthday_is_lunar"] = rng.random() < 0.1
        if rng.random() < 0.08:
            fields["id_number"] = resident_id(rng, birthday, gender)
    return fields


def clients_generate(
    *,
    count: int,
    seed: int = 8,
    batch_size: int = 2000,
    chunk_size: int = 10_000,
    first_card: int = 1,
    progress: Callable[[int], None] | None = None,
) -> MadeClients:
    """Create ``count`` active clients in the current salon schema and return their plain values.

    Phones are unique within one call; ~30 % get a card number, ``88000001``, ``88000002`` … from
    ``first_card``. A second call into the same salon needs another ``seed`` and ``first_card``
    (the database refuses a duplicate active phone or card number).

    Each chunk of ``chunk_size`` clients is built in birthday order and inserted in its random
    order: ``lunar_of`` (lunar_python) caches one lunar year only, and a random birthday costs
    ~10-20 ms to convert against ~2 ms for the next one of the same year.
    """
    rng = random.Random(seed)
    surname = _surname_picker(rng)
    today = datetime.date.today()
    phones: set[int] = set()
    card = first_card
    made = MadeClients()
    while len(made.clients) < count:
        chunk = []
        for _ in range(min(chunk_size, count - len(made.clients))):
            fields = client_fields(rng, surname, phones, today)
            if rng.random() < 0.3:
                fields["card_number"] = f"{CARD_PREFIX}{card:06d}"
                card += 1
            chunk.append(fields)
        built: list[Client | None] = [None] * len(chunk)
        started = time.perf_counter()
        for index in sorted(range(len(chunk)), key=lambda i: chunk[i].get("birthday") or datetime.date.max):
            built[index] = client_build(**chunk[index])
        made.build_seconds += time.perf_counter() - started
        clients = cast(list[Client], built)
        for offset in range(0, len(clients), batch_size):
            batch = clients[offset : offset + batch_size]
            started = time.perf_counter()
            with transaction.atomic():
                Client.objects.bulk_create(batch)
            made.insert_seconds += time.perf_counter() - started
            made.clients.extend(
                MadeClient(
                    pk=c.pk,
                    name=c.name,
                    phone=c.phone,
                    card_number=c.card_number,
                    id_number=c.id_number,
                    name_initials=c.name_initials,
                    name_pinyin=c.name_pinyin,
                )
                for c in batch
            )
        if progress is not None:
            progress(len(made.clients))
    return made


def client_history_generate(
    *, client_ids: list[int], seed: int = 8, tagged_share: float = 0.4, purchases_per_client: float = 2.0
) -> tuple[int, int]:
    """Manual tags and purchase lines for the given clients, inserted in bulk (list-page figures).

    Returns (client tags, purchase lines) made. The purchase lines are what ``purchase_record``
    would write for a till sale; they are bulk-inserted here only for speed.
    """
    rng = random.Random(seed)
    tags = [Tag.objects.get_or_create(name=name)[0] for name in TAG_NAMES]
    now = datetime.datetime.now(datetime.UTC)
    client_tags: list[ClientTag] = []
    lines: list[PurchaseLine] = []
    for pk in client_ids:
        if rng.random() < tagged_share:
            for tag in rng.sample(tags, rng.randint(1, 3)):
                client_tags.append(ClientTag(client_id=pk, tag=tag))
        for _ in range(int(rng.expovariate(1 / purchases_per_client))):
            lines.append(
                PurchaseLine(
                    client_id=pk,
                    occurred_at=now - datetime.timedelta(minutes=rng.randrange(3 * 365 * 24 * 60)),
                    kind=PurchaseKind.SERVICE,
                    item_name=rng.choice(ITEMS),
                    amount=rng.randrange(30, 2000) * 100,
                    source=PurchaseSource.TILL,
                )
            )
    with transaction.atomic():
        ClientTag.objects.bulk_create(client_tags, batch_size=5000)
        PurchaseLine.objects.bulk_create(lines, batch_size=5000)
    return len(client_tags), len(lines)
