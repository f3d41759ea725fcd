"""Test doubles of the payment providers, for this app's tests and for any app above it (the till).

``fake_wechat.FakeWeChatPay`` and ``fake_alipay.FakeAlipay`` are real HTTP servers on 127.0.0.1 (random
ports) that check the signatures of the requests our SDK clients send and sign their answers the way
the real services do; ``fixtures`` has the pytest fixtures (registered in the root conftest) that start
them and point the settings at them. Nothing here is imported by the product code.
"""
