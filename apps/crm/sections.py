"""Sections of the client 360° page (CRM-11).

The page shows the profile and alerts itself and then every registered section in
``order``: crm's own (interactions, follow-ups, photos, skin records, courses, history)
and those of upper apps (loyalty's balances, scheduling's upcoming bookings), which
register from their ``AppConfig.ready`` — crm never imports them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.utils.functional import Promise

from apps.crm.models import Client


@dataclass(frozen=True)
class ClientSection:
    slug: str
    title: str | Promise
    template: str
    context: Callable[[HttpRequest, Client], dict[str, Any]]
    order: int = 100
    # Shown only to staff whose role has this permission codename (None: everyone signed in).
    permission: str | None = None


SECTIONS: dict[str, ClientSection] = {}


def client_section_register(section: ClientSection) -> None:
    SECTIONS[section.slug] = section


def client_sections_for(request: HttpRequest, client: Client) -> list[dict[str, Any]]:
    """The sections this staff member may see, each with its template and context."""
    from apps.core.roles import perm

    shown = []
    for section in sorted(SECTIONS.values(), key=lambda s: (s.order, s.slug)):
        if section.permission and not request.user.has_perm(perm(section.permission)):
            continue
        shown.append({"section": section, "template": section.template, **section.context(request, client)})
    return shown
