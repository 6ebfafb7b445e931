"""The staff audit trail is append-only: the database itself refuses UPDATE and DELETE."""

from django.db import migrations

FORWARD = """
CREATE FUNCTION portal_audit_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'portal_auditevent is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER portal_audit_append_only
    BEFORE UPDATE OR DELETE ON portal_auditevent
    FOR EACH ROW EXECUTE FUNCTION portal_audit_refuse_change();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS portal_audit_append_only ON portal_auditevent;
DROP FUNCTION IF EXISTS portal_audit_refuse_change();
"""


class Migration(migrations.Migration):
    dependencies = [("portal", "0001_initial")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
