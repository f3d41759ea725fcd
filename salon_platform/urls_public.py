"""URLs of the root domain: public site, signup, operator console."""

from django.urls import path

from salon_platform.health import healthz
from salon_platform.urls_api import common_api_urls
from tenants import api as tenant_api
from tenants import views as tenant_views
from tenants.admin import console_site

urlpatterns = [
    path("", tenant_views.landing, name="landing"),
    path("signup/", tenant_views.signup, name="signup"),
    path("signup/subdomain/", tenant_views.subdomain_check, name="subdomain_check"),
    path("i18n/language/", tenant_views.language_set_public, name="language_public"),
    path("console/", console_site.urls),
    path("healthz", healthz, name="healthz"),
    path("api/v1/signup/", tenant_api.SignupView.as_view(), name="api-signup"),
    path("api/v1/signup/subdomain-check/", tenant_api.SubdomainCheckView.as_view(), name="api-subdomain-check"),
    *common_api_urls(__name__),
]
