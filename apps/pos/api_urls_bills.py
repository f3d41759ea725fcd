from apps.pos.api.bills import urlpatterns

__all__ = ["urlpatterns"]
