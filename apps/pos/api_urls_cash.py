from django.urls import path

from apps.pos.api import cash as api
from apps.pos.models import CashMovementKind

urlpatterns = [
    path("cash-sessions/", api.CashSessionListView.as_view(), name="api-cash-session-list"),
    path("cash-sessions/current/", api.CashSessionCurrentView.as_view(), name="api-cash-session-current"),
    path("cash-sessions/<int:pk>/", api.CashSessionDetailView.as_view(), name="api-cash-session-detail"),
    path(
        "cash-sessions/<int:pk>/pay-in/",
        api.CashMovementView.as_view(kind=CashMovementKind.PAY_IN),
        name="api-cash-session-pay-in",
    ),
    path(
        "cash-sessions/<int:pk>/pay-out/",
        api.CashMovementView.as_view(kind=CashMovementKind.PAY_OUT),
        name="api-cash-session-pay-out",
    ),
    path("cash-sessions/<int:pk>/close/", api.CashSessionCloseView.as_view(), name="api-cash-session-close"),
    path("cash-sessions/<int:pk>/print/", api.CashSessionPrintView.as_view(), name="api-cash-session-print"),
]
