"""Catalogue pages, mounted under /settings/catalog/."""

from django.urls import path

from apps.catalog import views

app_name = "catalog"

urlpatterns = [
    path("", views.home, name="home"),
    path("services/", views.service_list, name="service_list"),
    path("services/new/", views.service_create, name="service_create"),
    path("services/<int:pk>/", views.service_edit, name="service_edit"),
    path("services/<int:pk>/active/", views.service_set_active, name="service_active"),
    path("services/<int:pk>/materials/", views.service_material_add, name="service_material_add"),
    path(
        "services/<int:pk>/materials/<int:material_pk>/remove/",
        views.service_material_remove,
        name="service_material_remove",
    ),
    path("services/<int:pk>/prices/", views.service_prices, name="service_prices"),
    path("price-rules/", views.price_rule_list, name="price_rule_list"),
    path("service-categories/", views.service_category_list, name="service_category_list"),
    path("service-categories/<int:pk>/", views.service_category_edit, name="service_category_edit"),
    path("service-categories/<int:pk>/active/", views.service_category_active, name="service_category_active"),
    path("product-categories/", views.product_category_list, name="product_category_list"),
    path("product-categories/<int:pk>/", views.product_category_edit, name="product_category_edit"),
    path("product-categories/<int:pk>/active/", views.product_category_active, name="product_category_active"),
    path("products/", views.product_list, name="product_list"),
    path("products/new/", views.product_create, name="product_create"),
    path("products/<int:pk>/", views.product_edit, name="product_edit"),
    path("products/<int:pk>/active/", views.product_set_active, name="product_active"),
    path("suppliers/", views.supplier_list, name="supplier_list"),
    path("suppliers/new/", views.supplier_create, name="supplier_create"),
    path("suppliers/<int:pk>/", views.supplier_edit, name="supplier_edit"),
    path("suppliers/<int:pk>/active/", views.supplier_set_active, name="supplier_active"),
    path("packages/", views.package_list, name="package_list"),
    path("packages/new/", views.package_create, name="package_create"),
    path("packages/<int:pk>/", views.package_edit, name="package_edit"),
    path("packages/<int:pk>/active/", views.package_set_active, name="package_active"),
    path("packages/<int:pk>/items/", views.package_item_add, name="package_item_add"),
    path("packages/<int:pk>/items/<int:item_pk>/remove/", views.package_item_remove, name="package_item_remove"),
    path("course-cards/", views.course_card_list, name="course_card_list"),
    path("course-cards/new/", views.course_card_create, name="course_card_create"),
    path("course-cards/<int:pk>/", views.course_card_edit, name="course_card_edit"),
    path("course-cards/<int:pk>/active/", views.course_card_set_active, name="course_card_active"),
    path("course-cards/<int:pk>/items/", views.course_card_item_add, name="course_card_item_add"),
    path(
        "course-cards/<int:pk>/items/<int:item_pk>/remove/",
        views.course_card_item_remove,
        name="course_card_item_remove",
    ),
    path("staff-levels/", views.staff_level_list, name="staff_level_list"),
    path("staff-levels/<int:pk>/", views.staff_level_edit, name="staff_level_edit"),
    path("staff-levels/<int:pk>/active/", views.staff_level_set_active, name="staff_level_active"),
]
