"""The clients tests assert English messages. Services translate as they refuse, in the active
language, and pages and the API speak the signed-in staff member's language: so the tests run in
English and the staff they create read English (the salons' owners are switched where needed)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def _english(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    import inspect

    from apps.core import services

    monkeypatch.setitem(inspect.unwrap(services.staff_create).__kwdefaults__, "language", "en")
    with translation.override("en"):
        yield
