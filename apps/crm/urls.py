"""Staff pages of the clients app; each topic module lists its own routes."""

from apps.crm.views import clients, imports, interactions, media

app_name = "crm"

urlpatterns = [*imports.urlpatterns, *interactions.urlpatterns, *media.urlpatterns, *clients.urlpatterns]
