pytest_plugins = ["tests.fixtures", "apps.payments.testing.fixtures"]
