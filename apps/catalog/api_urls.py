from django.urls import path

from apps.catalog import api

urlpatterns = [
    path("services/", api.ServiceListView.as_view(), name="api-service-list"),
    path("services/<int:pk>/", api.ServiceDetailView.as_view(), name="api-service-detail"),
    path("service-categories/", api.ServiceCategoryListView.as_view(), name="api-service-category-list"),
    path("service-categories/<int:pk>/", api.ServiceCategoryDetailView.as_view(), name="api-service-category-detail"),
    path("product-categories/", api.ProductCategoryListView.as_view(), name="api-product-category-list"),
    path("product-categories/<int:pk>/", api.ProductCategoryDetailView.as_view(), name="api-product-category-detail"),
    path("products/", api.ProductListView.as_view(), name="api-product-list"),
    path("products/<int:pk>/", api.ProductDetailView.as_view(), name="api-product-detail"),
    path("suppliers/", api.SupplierListView.as_view(), name="api-supplier-list"),
    path("suppliers/<int:pk>/", api.SupplierDetailView.as_view(), name="api-supplier-detail"),
    path("packages/", api.PackageListView.as_view(), name="api-package-list"),
    path("packages/<int:pk>/", api.PackageDetailView.as_view(), name="api-package-detail"),
    path("price-rules/", api.PriceRuleListView.as_view(), name="api-price-rule-list"),
    path("price-rules/<int:pk>/", api.PriceRuleDetailView.as_view(), name="api-price-rule-detail"),
    path("course-card-templates/", api.CourseCardTemplateListView.as_view(), name="api-course-card-template-list"),
    path(
        "course-card-templates/<int:pk>/",
        api.CourseCardTemplateDetailView.as_view(),
        name="api-course-card-template-detail",
    ),
    path("staff-levels/", api.StaffLevelListView.as_view(), name="api-staff-level-list"),
    path("staff-levels/<int:pk>/", api.StaffLevelDetailView.as_view(), name="api-staff-level-detail"),
]
