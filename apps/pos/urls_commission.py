"""Pages of commission (POS-6): the staff performance report, one's own performance, the rules."""

from django.urls import path

from apps.pos.views import commission as views

urlpatterns = [
    path("staff-performance/", views.staff_performance_page, name="staff_performance"),
    path("staff-performance/export.xlsx", views.staff_performance_export, name="staff_performance_export"),
    path("my-performance/", views.my_performance, name="my_performance"),
    path("commission/rules/", views.rule_list, name="commission_rule_list"),
    path("commission/rules/new/", views.rule_create, name="commission_rule_create"),
    path("commission/rules/<int:pk>/", views.rule_edit, name="commission_rule_edit"),
    path("commission/rules/<int:pk>/deactivate/", views.rule_deactivate, name="commission_rule_deactivate"),
]
