"""REST API of the clients app (SPEC §4); each topic module lists its own routes."""

from apps.crm.api import clients, imports, interactions, media

urlpatterns = [*imports.urlpatterns, *interactions.urlpatterns, *media.urlpatterns, *clients.urlpatterns]
