"""Arrange loyalty data the way the product does: through the services."""

from __future__ import annotations

from typing import Any

from apps.crm.services.clients import client_create


def a_client(name: str = "王芳", phone: str = "13800138000", **fields: Any) -> Any:
    return client_create(name=name, phone=phone, acting_user=None, **fields)


def top_up_rule(pay: int, bonus: int, **extra: Any) -> Any:
    from apps.loyalty.models import TopUpRule

    # The rule services arrive with the staff pages; until then rules are rows.
    return TopUpRule.objects.create(pay_amount=pay, bonus_amount=bonus, **extra)


def api_client(info: Any, username: str) -> Any:
    """The API as ``username`` of the salon ``info``, with a bearer token, asking for English messages."""
    from django.test import Client as HttpClient

    from tests.fixtures import api_token

    return HttpClient(
        HTTP_HOST=info.host, HTTP_AUTHORIZATION=f"Bearer {api_token(info, username)}", HTTP_ACCEPT_LANGUAGE="en"
    )
