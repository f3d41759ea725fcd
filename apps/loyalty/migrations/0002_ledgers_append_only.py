from django.db import migrations

# The ledgers are append-only (CONVENTIONS: a correction is a new row): PostgreSQL refuses to change or
# delete a wallet entry, a points entry or a course session. The one update allowed is a user link being
# cleared when a staff row goes away (on_delete=SET_NULL).
TABLES = {
    "loyalty_walletentry": ("actor_id",),
    "loyalty_pointsentry": ("actor_id",),
    "loyalty_courseredemption": ("actor_id", "staff_id", "location_id"),
}

FUNCTION = """
CREATE OR REPLACE FUNCTION loyalty_ledger_guard() RETURNS trigger AS $$
DECLARE
    nullable text[] := TG_ARGV;
    old_row jsonb := to_jsonb(OLD);
    new_row jsonb := to_jsonb(NEW);
    col text;
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION '% rows cannot be deleted', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
    END IF;
    FOREACH col IN ARRAY nullable LOOP
        IF new_row -> col = 'null'::jsonb THEN
            old_row := old_row - col;
            new_row := new_row - col;
        END IF;
    END LOOP;
    IF old_row IS DISTINCT FROM new_row THEN
        RAISE EXCEPTION '% rows cannot be changed', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""


def _triggers() -> str:
    return "\n".join(
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION loyalty_ledger_guard({', '.join(repr(c) for c in columns)});"
        for table, columns in TABLES.items()
    )


REVERSE = "\n".join(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};" for table in TABLES) + (
    "\nDROP FUNCTION IF EXISTS loyalty_ledger_guard();"
)


class Migration(migrations.Migration):
    dependencies = [("loyalty", "0001_initial")]
    operations = [migrations.RunSQL(FUNCTION + _triggers(), REVERSE)]
