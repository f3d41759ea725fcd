from collections.abc import Iterator

import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    """Service messages are asserted in English, the source language, whatever catalogue is compiled."""
    with translation.override("en"):
        yield
