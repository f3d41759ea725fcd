"""REST API of loyalty (SPEC §4), one module per topic, each listing its own ``urlpatterns``."""
