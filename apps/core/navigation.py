"""The staff app's modules, in navigation order. A module that is not built yet
shows what it will do rather than a broken link."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Module:
    slug: str
    title: Promise
    summary: Promise
    coming: list[Promise] = field(default_factory=list)
    url_name: str | None = None  # set once the module is built
    path_prefix: str | None = None  # marks the module current for every page under it
    # A small count next to the entry (e.g. products low on stock), fetched by htmx after the page loads
    # so that no page pays a query for it; shown to users with ``badge_permission`` ("core.<codename>").
    badge_url_name: str | None = None
    badge_permission: str | None = None

    @property
    def url(self) -> str:
        from django.urls import reverse

        return reverse(self.url_name) if self.url_name else reverse("core:module", args=[self.slug])


MODULES: list[Module] = [
    Module(
        "clients",
        _("Clients"),
        _("Client records, health profiles, tags and history."),
        [
            _("Client profiles with skin and health alerts"),
            _("Tags, follow-up plans and complaints"),
            _("Search by name, phone, last four digits or pinyin initials"),
            _("Import and export"),
        ],
        url_name="crm:client_list",
        path_prefix="/clients/",
    ),
    Module(
        "calendar",
        _("Calendar"),
        _("Appointments, rosters, rooms and the walk-in queue."),
        [
            _("Day and week appointment book by staff"),
            _("Rosters, time off and rooms"),
            _("Online booking for clients"),
            _("Reminders and waitlist"),
        ],
        url_name="scheduling:day",
        path_prefix="/calendar/",
    ),
    Module(
        "till",
        _("Till"),
        _("Bills, payments, refunds and cash sessions."),
        [
            _("Quick bills for services, products and top-ups"),
            _("Cash, WeChat Pay, Alipay, stored value and split tenders"),
            _("Receipts on the front-desk printer"),
            _("Refunds, commission and stock"),
        ],
        url_name="pos:bill_list",
        path_prefix="/till/",
    ),
    Module(
        "inventory",
        _("Inventory"),
        _("Stock per location, purchase orders, transfers and stocktakes."),
        [
            _("Stock per location with low-stock alerts"),
            _("Purchase orders and deliveries"),
            _("Transfers between locations"),
            _("Stocktakes on a tablet"),
        ],
        url_name="inventory:stock",
        path_prefix="/inventory/",
        badge_url_name="inventory:low_stock_badge",
        badge_permission="core.manage_inventory",
    ),
    Module(
        "members",
        _("Members"),
        _("Stored value, points, tiers, course cards and coupons."),
        [
            _("Stored-value cards with principal and bonus kept apart"),
            _("Points and membership tiers"),
            _("Course cards and coupons"),
            _("Member self-service page"),
        ],
        url_name="loyalty:home",
        path_prefix="/members/",
    ),
    Module(
        "campaigns",
        _("Campaigns"),
        _("Segments, messages and automations."),
        [
            _("Client segments with live counts"),
            _("Birthday greetings and win-back automations"),
            _("Surveys and satisfaction scores"),
            _("Campaign results"),
        ],
    ),
    Module(
        "reports",
        _("Reports"),
        _("Sales, bookings and staff performance."),
        [
            _("Daily, weekly and monthly sales"),
            _("Booking utilisation and no-shows"),
            _("Staff performance and commission"),
            _("Export to Excel"),
        ],
        url_name="pos:sales_report",
        path_prefix="/till/reports/",
    ),
]

MODULES_BY_SLUG = {m.slug: m for m in MODULES}
