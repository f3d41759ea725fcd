"""The default connection, typed as django-tenants' schema-switching wrapper."""

from __future__ import annotations

from typing import Any, cast

from django.db import connection

# django-tenants adds set_tenant / set_schema_to_public / schema_name at run time; the stubs
# do not know them. The proxy still resolves to the current thread's connection on each use.
tenant_connection: Any = cast(Any, connection)
