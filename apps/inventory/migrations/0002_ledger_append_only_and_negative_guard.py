from django.db import migrations

# The movement ledger is append-only (CONVENTIONS: a correction is a new row): PostgreSQL refuses to change
# or delete a movement. The one update allowed is the actor link being cleared when a staff row goes away
# (on_delete=SET_NULL).
LEDGER = """
CREATE OR REPLACE FUNCTION inventory_ledger_guard() RETURNS trigger AS $$
DECLARE
    old_row jsonb := to_jsonb(OLD);
    new_row jsonb := to_jsonb(NEW);
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION '% rows cannot be deleted', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF new_row -> 'actor_id' = 'null'::jsonb THEN
        old_row := old_row - 'actor_id';
        new_row := new_row - 'actor_id';
    END IF;
    IF old_row IS DISTINCT FROM new_row THEN
        RAISE EXCEPTION '% rows cannot be changed', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER inventory_stockmovement_append_only BEFORE UPDATE OR DELETE ON inventory_stockmovement
    FOR EACH ROW EXECUTE FUNCTION inventory_ledger_guard();
"""

# Stock never silently goes negative: while the salon forbids negative stock, PostgreSQL itself refuses to
# take a level below zero (or further below: a level left negative from when it was allowed may still go
# up). The services check first and name the product; this is the backstop for any other writer. The
# settings table is found through the salon's search_path, like every other tenant table.
NEGATIVE = """
CREATE OR REPLACE FUNCTION inventory_stock_level_guard() RETURNS trigger AS $$
BEGIN
    IF NEW.quantity < 0 AND (TG_OP = 'INSERT' OR NEW.quantity < OLD.quantity) THEN
        IF NOT COALESCE((SELECT allow_negative_stock FROM inventory_inventorysettings WHERE id = 1), FALSE) THEN
            RAISE EXCEPTION 'inventory stock cannot go negative (location %, product %)', NEW.location_id,
                NEW.product_id USING ERRCODE = 'check_violation';
        END IF;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER inventory_stocklevel_not_negative BEFORE INSERT OR UPDATE OF quantity ON inventory_stocklevel
    FOR EACH ROW EXECUTE FUNCTION inventory_stock_level_guard();
"""

REVERSE = """
DROP TRIGGER IF EXISTS inventory_stockmovement_append_only ON inventory_stockmovement;
DROP FUNCTION IF EXISTS inventory_ledger_guard();
DROP TRIGGER IF EXISTS inventory_stocklevel_not_negative ON inventory_stocklevel;
DROP FUNCTION IF EXISTS inventory_stock_level_guard();
"""


class Migration(migrations.Migration):
    dependencies = [("inventory", "0001_initial")]
    operations = [migrations.RunSQL(LEDGER + NEGATIVE, REVERSE)]
