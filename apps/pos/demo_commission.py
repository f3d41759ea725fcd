"""Commission rules for the demo salon: a percentage on services (with a requested bonus), a fixed amount
per product sold, tiers by monthly volume on colour and perm work, a better rate for directors' cuts, and
small percentages on course cards and top-ups. Run after the catalogue's demo (its categories and levels).

Safe to call twice: a rule is created only where no active rule holds for its target and level."""

from __future__ import annotations

from typing import Any

from apps.catalog.models import ServiceCategory
from apps.core.models import StaffLevel, User
from apps.pos.models import CommissionRule, CommissionScope
from apps.pos.services.commission import commission_rule_create

# name, target (scope and its value), staff level, figures
RULES: list[tuple[str, dict[str, Any], str | None, dict[str, Any]]] = [
    (
        "服务提成 12%（点钟 +3%）",
        {"scope": CommissionScope.KIND, "line_kind": "service"},
        None,
        {"method": "percentage", "rate_bp": 1200, "requested_bonus_bp": 300},
    ),
    (
        "产品提成 每件 ¥5",
        {"scope": CommissionScope.KIND, "line_kind": "product"},
        None,
        {"method": "fixed", "fixed_amount": 500},
    ),
    (
        "染烫阶梯提成",
        {"scope": CommissionScope.SERVICE_CATEGORY, "service_category": "染烫"},
        None,
        {
            "method": "tiered",
            "tiers": [(0, 1500), (3_000_000, 1800), (6_000_000, 2000)],
            "requested_bonus_bp": 300,
        },
    ),
    (
        "总监剪发 18%",
        {"scope": CommissionScope.SERVICE_CATEGORY, "service_category": "剪发"},
        "总监",
        {"method": "percentage", "rate_bp": 1800, "requested_bonus_bp": 300},
    ),
    (
        "售卡提成 3%",
        {"scope": CommissionScope.KIND, "line_kind": "course_card"},
        None,
        {"method": "percentage", "rate_bp": 300},
    ),
    (
        "充值提成 1%",
        {"scope": CommissionScope.KIND, "line_kind": "top_up"},
        None,
        {"method": "percentage", "rate_bp": 100},
    ),
]


def seed(*, acting_user: User | None = None) -> None:
    for name, target, level_name, figures in RULES:
        values = dict(target)
        if "service_category" in values:
            category = ServiceCategory.objects.filter(name=values["service_category"]).first()
            if category is None:
                continue
            values["service_category"] = category
        level = StaffLevel.objects.filter(name=level_name).first() if level_name else None
        if level_name and level is None:
            continue
        if CommissionRule.objects.filter(is_active=True, staff_level=level, **values).exists():
            continue
        commission_rule_create(name=name, staff_level=level, acting_user=acting_user, **values, **figures)
