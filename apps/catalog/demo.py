"""A realistic hair-and-beauty catalogue for the demo salon: categories, services with materials,
products from a supplier, a package, course cards, staff levels and price rules.

Safe to call twice: everything is looked up by name and only what is missing is created. Tier
prices are added when the membership tiers exist (crm's demo creates them), so calling this again
after crm's demo completes the grid."""

from __future__ import annotations

from typing import Any

from apps.catalog import services
from apps.catalog.models import (
    CourseCardTemplate,
    Package,
    PriceRule,
    Product,
    ProductCategory,
    Service,
    ServiceCategory,
    Supplier,
)
from apps.core import services as core_services
from apps.core.models import StaffLevel, User
from apps.crm.models import MembershipTier

STAFF_LEVELS = [("助理", 10), ("发型师", 20), ("资深发型师", 30), ("总监", 40)]
SERVICE_CATEGORIES = [("剪发", 10), ("染烫", 20), ("护理", 30), ("美容", 40)]
PRODUCT_CATEGORIES = [("洗护", 10), ("造型", 20), ("染烫耗材", 30), ("护肤", 40)]

SUPPLIER = {
    "name": "广州丽人美发用品有限公司",
    "contact": "黄经理",
    "phone": "020-38880000",
    "address": "广州市白云区机场路 1688 号美博城 A 区 112 档",
    "notes": "每周二、周五送货；月结 30 天。",
}

# name, brand, spec, category, cost, price, barcode, stock
PRODUCTS = [
    ("丝泉滋养洗发露", "欧莱雅", "500 ml", "洗护", 5600, 12800, "6901234500011", 24),
    ("保丽修护发膜", "施华蔻", "200 ml", "洗护", 4200, 9800, "6901234500028", 18),
    ("元气姜头皮精华", "卡诗", "90 ml", "洗护", 21000, 42000, "6901234500035", 6),
    ("OSiS+ 定型喷雾", "施华蔻", "300 ml", "造型", 6000, 13800, "6901234500042", 12),
    ("专业染发膏", "欧莱雅", "60 g", "染烫耗材", 1800, 4500, "6901234500059", 80),
    ("双氧乳 6%", "欧莱雅", "1000 ml", "染烫耗材", 3500, 8800, "6901234500066", 15),
    ("补水修护面膜（5 片装）", "美迪惠尔", "5 × 25 ml", "护肤", 7000, 16800, "6901234500073", 30),
]

# name, category, minutes, buffer, price (fen), suits, description
SERVICES = [
    ("女士精剪", "剪发", 45, 10, 12800, "所有发质", "洗发、修剪、吹干造型"),
    ("男士精剪", "剪发", 30, 5, 6800, "男士短发", "洗发、修剪、造型"),
    ("儿童剪发", "剪发", 20, 5, 4800, "12 岁以下儿童", ""),
    ("洗吹造型", "剪发", 30, 5, 5800, "约会、面试、活动前", "洗发、吹风造型"),
    ("时尚染发", "染烫", 120, 15, 38800, "想改变发色或遮盖白发", "含色彩咨询与护色"),
    ("数码烫", "染烫", 150, 15, 58800, "中长发，想要自然卷度", ""),
    ("离子烫", "染烫", 180, 15, 68800, "自然卷、毛躁发质", "拉直并柔顺"),
    ("深层修复护理", "护理", 45, 10, 19800, "烫染受损发质", "发膜 + 蒸汽"),
    ("头皮养护", "护理", 60, 10, 26800, "头皮油脂多、易脱发", "清洁、按摩、精华导入"),
    ("补水保湿面部护理", "美容", 60, 15, 29800, "干性、缺水肌肤", "清洁、补水、面膜"),
    ("深层清洁面部护理", "美容", 75, 15, 35800, "油性、毛孔粗大肌肤", "清洁、去黑头、舒缓"),
]

# service -> [(product, quantity, unit)]
MATERIALS = {
    "时尚染发": [("专业染发膏", "60", "g"), ("双氧乳 6%", "90", "ml")],
    "深层修复护理": [("保丽修护发膜", "30", "ml")],
    "头皮养护": [("元气姜头皮精华", "5", "ml")],
    "补水保湿面部护理": [("补水修护面膜（5 片装）", "1", "片")],
}

# Staff-level prices: the technician's level sets the list price.
LEVEL_PRICES = {
    "女士精剪": {"发型师": 12800, "资深发型师": 16800, "总监": 22800},
    "男士精剪": {"资深发型师": 8800, "总监": 12800},
    "时尚染发": {"资深发型师": 45800, "总监": 58800},
    "数码烫": {"资深发型师": 68800, "总监": 88800},
}
# Membership-tier prices (any technician), and gold/diamond members with a director.
TIER_PRICES = {
    "女士精剪": {"金卡会员": 10800, "钻石会员": 9800},
    "头皮养护": {"金卡会员": 22800, "钻石会员": 19800},
}
PAIR_PRICES = {"女士精剪": {("金卡会员", "总监"): 19800, ("钻石会员", "总监"): 17800}}

PACKAGE_NAME, PACKAGE_PRICE, PACKAGE_DAYS = "新娘造型套餐", 58800, 90
PACKAGE_DESCRIPTION = "婚礼前修剪、护理与当天造型"
# (service, product, quantity): each line is one or the other
PACKAGE_ITEMS: list[tuple[str | None, str | None, int]] = [
    ("女士精剪", None, 1),
    ("深层修复护理", None, 1),
    ("洗吹造型", None, 2),
    (None, "保丽修护发膜", 1),
]
COURSE_CARDS = [
    ("头皮养护 10 次卡", 238000, 365, "每次 60 分钟头皮清洁与养护", [("头皮养护", 10)]),
    ("补水面部护理 12 次卡", 298000, 365, "", [("补水保湿面部护理", 12)]),
]


def _by_name(model: Any, name: str) -> Any:
    return model.objects.filter(name__iexact=name).first()


def seed(*, acting_user: User | None = None) -> None:
    """Create whatever of the demo catalogue is missing."""
    actor = acting_user
    levels: dict[str, StaffLevel | None] = {}
    for name, rank in STAFF_LEVELS:
        levels[name] = _by_name(StaffLevel, name) or (
            None
            if StaffLevel.objects.filter(rank=rank).exists()
            else core_services.staff_level_create(name=name, rank=rank, acting_user=actor)
        )
    service_categories = {
        name: _by_name(ServiceCategory, name)
        or services.service_category_create(name=name, sort_order=order, acting_user=actor)
        for name, order in SERVICE_CATEGORIES
    }
    product_categories = {
        name: _by_name(ProductCategory, name)
        or services.product_category_create(name=name, sort_order=order, acting_user=actor)
        for name, order in PRODUCT_CATEGORIES
    }
    supplier = _by_name(Supplier, SUPPLIER["name"]) or services.supplier_create(**SUPPLIER, acting_user=actor)

    products: dict[str, Product] = {}
    for name, brand, spec, category, cost, price, barcode, stock in PRODUCTS:
        existing = Product.objects.filter(name=name, brand=brand, spec=spec).first()
        if existing is None and Product.objects.filter(barcode=barcode).exists():
            barcode = ""  # the barcode was taken by the salon's own product: keep theirs
        products[name] = existing or services.product_create(
            name=name,
            brand=brand,
            spec=spec,
            category=product_categories[category],
            supplier=supplier,
            cost=cost,
            price=price,
            barcode=barcode,
            stock=stock,
            acting_user=actor,
        )

    catalogue: dict[str, Service] = {}
    for name, category, minutes, buffer, price, suits, description in SERVICES:
        catalogue[name] = _by_name(Service, name) or services.service_create(
            name=name,
            category=service_categories[category],
            duration_minutes=minutes,
            buffer_minutes=buffer,
            price=price,
            suits=suits,
            description=description,
            sort_order=len(catalogue),
            materials=[
                services.MaterialSpec(product=products[product], quantity=quantity, unit=unit)
                for product, quantity, unit in MATERIALS.get(name, [])
            ],
            acting_user=actor,
        )

    if _by_name(Package, PACKAGE_NAME) is None:
        services.package_create(
            name=PACKAGE_NAME,
            price=PACKAGE_PRICE,
            validity_days=PACKAGE_DAYS,
            description=PACKAGE_DESCRIPTION,
            items=[
                services.PackageItemSpec(
                    service=catalogue[service] if service else None,
                    product=products[product] if product else None,
                    quantity=quantity,
                )
                for service, product, quantity in PACKAGE_ITEMS
            ],
            acting_user=actor,
        )
    for name, price, days, description, items in COURSE_CARDS:
        if _by_name(CourseCardTemplate, name) is None:
            services.course_card_template_create(
                name=name,
                price=price,
                validity_days=days,
                description=description,
                items=[services.CourseCardItemSpec(service=catalogue[s], sessions=n) for s, n in items],
                acting_user=actor,
            )

    tiers = {tier.name: tier for tier in MembershipTier.objects.all()}
    wanted: list[tuple[Service, MembershipTier | None, StaffLevel | None, int]] = []
    for name, level_prices in LEVEL_PRICES.items():
        wanted += [(catalogue[name], None, levels[lv], price) for lv, price in level_prices.items() if levels[lv]]
    for name, tier_prices in TIER_PRICES.items():
        wanted += [(catalogue[name], tiers[t], None, price) for t, price in tier_prices.items() if t in tiers]
    for name, pairs in PAIR_PRICES.items():
        wanted += [
            (catalogue[name], tiers[t], levels[lv], price)
            for (t, lv), price in pairs.items()
            if t in tiers and levels[lv]
        ]
    for service, tier, level, price in wanted:
        if not PriceRule.objects.filter(service=service, tier=tier, staff_level=level).exists():
            services.price_rule_create(service=service, tier=tier, staff_level=level, price=price, acting_user=actor)
