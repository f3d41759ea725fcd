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
from django.template.loader import render_to_string
from django.utils.functional import Promise
from django.utils.safestring import SafeString, mark_safe

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


@dataclass(frozen=True)
class RenderedSection:
    slug: str
    html: SafeString


def client_sections_for(request: HttpRequest, client: Client) -> list[RenderedSection]:
    """The sections this staff member may see, rendered in order. Each template gets ``client``,
    ``section`` and its own context keys at the top level (and the request's context processors)."""
    from apps.core.roles import perm

    shown = []
    for section in sorted(SECTIONS.values(), key=lambda s: (s.order, s.slug)):
        if section.permission and not request.user.has_perm(perm(section.permission)):
            continue
        context = {"client": client, "section": section, **section.context(request, client)}
        html = mark_safe(render_to_string(section.template, context, request=request))  # noqa: S308 - a template
        shown.append(RenderedSection(section.slug, html))
    return shown
