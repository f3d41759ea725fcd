"""Payment settings pages, mounted under /settings/payments/."""

from django.urls import path

from apps.payments import views

app_name = "payments"

urlpatterns = [
    path("", views.account_list, name="accounts"),
    path("<slug:provider>/", views.account_edit, name="account_edit"),
]
