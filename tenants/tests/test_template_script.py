"""New salon schemas replayed from the template's dump are identical to the template."""

from __future__ import annotations

from django.db import connection

from tenants import provisioning, template_script
from tenants.models import TemplateScript

CATALOG_SIGNATURE = """
SELECT 'column', c.relname || '.' || a.attname || ':' || format_type(a.atttypid, a.atttypmod)
       || ':' || a.attnotnull || ':' || coalesce(pg_get_expr(d.adbin, d.adrelid), '')
  FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
 WHERE n.nspname = %(s)s AND a.attnum > 0 AND NOT a.attisdropped AND c.relkind = 'r'
UNION ALL
-- CHECK expressions are compared by name only: a dumped CHECK re-parses to equivalent but
-- differently printed text (ARRAY[...]::text[] vs ARRAY[...::text]).
SELECT 'constraint', c.relname || '.' || k.conname || ':' || k.contype::text || ':'
       || CASE WHEN k.contype = 'c' THEN '' ELSE pg_get_constraintdef(k.oid) END
  FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = %(s)s
UNION ALL
SELECT 'index', indexdef FROM pg_indexes WHERE schemaname = %(s)s
UNION ALL
SELECT 'trigger', c.relname || '.' || t.tgname || ':' || pg_get_triggerdef(t.oid)
  FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = %(s)s AND NOT t.tgisinternal
UNION ALL
SELECT 'identity', c.relname || '.' || a.attname || ':' || a.attidentity::text
  FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = %(s)s AND a.attidentity <> ''
"""


def _signature(schema: str) -> list[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(CATALOG_SIGNATURE, {"s": schema})
        return sorted((kind, text.replace(f"{schema}.", "<schema>.")) for kind, text in cursor.fetchall())


def _rows(schema: str, table: str, columns: str) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT {columns} FROM "{schema}".{table} ORDER BY 1')
        return cursor.fetchall()


def test_replayed_schema_matches_the_template(alpha):
    # when
    name = provisioning.new_schema_name()
    provisioning.schema_clone_from_template(name)
    # then structure, constraints, indexes, triggers and identity columns are the same
    template = _signature(provisioning.TEMPLATE_SCHEMA)
    assert len(template) > 100
    assert _signature(name) == template
    # and so are the template's rows
    for table, columns in [
        ("django_migrations", "app, name"),
        ("django_content_type", "id, app_label, model"),
        ("auth_permission", "id, codename, content_type_id"),
    ]:
        assert _rows(name, table, columns) == _rows(provisioning.TEMPLATE_SCHEMA, table, columns)
    # and its sequences continue after the copied rows
    with connection.cursor() as cursor:
        cursor.execute(
            f'INSERT INTO "{name}".django_content_type (app_label, model) VALUES (%s, %s) RETURNING id', ["x", "y"]
        )
        new_id = cursor.fetchone()[0]
    assert new_id > max(row[0] for row in _rows(name, "django_content_type", "id, app_label, model")[:-1])


def test_script_is_dumped_once_per_template_state(alpha):
    digest = provisioning.template_digest()
    assert TemplateScript.objects.filter(migrations_digest=digest).count() == 1
    script = TemplateScript.objects.get().sql
    assert "SET " not in [line[:4] for line in script.splitlines()]
    assert "set_config" not in script
    assert "CREATE TRIGGER core_auditentry_append_only" in script


def test_falls_back_to_catalog_clone_without_pg_dump(alpha, settings):
    # given no stored script and no pg_dump
    TemplateScript.objects.all().delete()
    settings.PG_DUMP_PATH = "/nonexistent/pg_dump"
    # when
    name = provisioning.new_schema_name()
    provisioning.schema_clone_from_template(name)
    # then the schema is still complete
    assert provisioning.schema_is_current(name)
    assert TemplateScript.objects.count() == 0


def test_statements_only_keeps_function_bodies_whole():
    dump = "\n".join(
        [
            "-- comment",
            "\\restrict abc",
            "SET statement_timeout = 0;",
            "SELECT pg_catalog.set_config('search_path', '', false);",
            "CREATE SCHEMA tenant_template;",
            "CREATE FUNCTION tenant_template.f() RETURNS void LANGUAGE plpgsql AS $$",
            "BEGIN",
            "SET LOCAL work_mem = '1MB';",
            "END;",
            "$$;",
            "CREATE TABLE tenant_template.t (id integer);",
            "\\unrestrict abc",
        ]
    )
    assert template_script.statements_only(dump).splitlines() == [
        "CREATE FUNCTION tenant_template.f() RETURNS void LANGUAGE plpgsql AS $$",
        "BEGIN",
        "SET LOCAL work_mem = '1MB';",
        "END;",
        "$$;",
        "CREATE TABLE tenant_template.t (id integer);",
    ]
