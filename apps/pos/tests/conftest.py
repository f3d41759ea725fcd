"""Fixtures shared by the till's tests."""

from __future__ import annotations

import pytest

from apps.pos.tests.gateway_support import connect


@pytest.fixture(params=["wechat", "alipay"])
def provider(request, in_alpha, fake_wechat, fake_alipay, payment_key_pairs):
    """Each test twice: with WeChat Pay, then with Alipay, the salon's account connected to its fake."""
    fake = fake_wechat if request.param == "wechat" else fake_alipay
    connect(request.param, fake, payment_key_pairs)
    request.node.fake = fake
    return request.param


@pytest.fixture
def fake(request, provider):
    """The fake provider of ``provider``."""
    return request.node.fake
