from django.db import migrations

# The audit log is append-only (SEC-2): PostgreSQL refuses to change or delete an entry.
# The one update allowed is the actor link being cleared when a user row goes away
# (on_delete=SET_NULL); the actor_label keeps who it was.
SQL = """
CREATE OR REPLACE FUNCTION core_auditentry_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'audit entries cannot be deleted' USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF (NEW.id, NEW.created_at, NEW.actor_label, NEW.action, NEW.target_type, NEW.target_id, NEW.data, NEW.ip_address)
       IS DISTINCT FROM
       (OLD.id, OLD.created_at, OLD.actor_label, OLD.action, OLD.target_type, OLD.target_id, OLD.data, OLD.ip_address)
       OR (NEW.actor_id IS NOT NULL AND NEW.actor_id IS DISTINCT FROM OLD.actor_id) THEN
        RAISE EXCEPTION 'audit entries cannot be changed' USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER core_auditentry_append_only
    BEFORE UPDATE OR DELETE ON core_auditentry
    FOR EACH ROW EXECUTE FUNCTION core_auditentry_guard();
"""

REVERSE = """
DROP TRIGGER IF EXISTS core_auditentry_append_only ON core_auditentry;
DROP FUNCTION IF EXISTS core_auditentry_guard();
"""


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]
    operations = [migrations.RunSQL(SQL, REVERSE)]
