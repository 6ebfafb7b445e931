"""A payment batch's control count and total are what the deposit slip says: fixed once the
batch is opened, so its payments must be keyed to match them, never the other way round. The
database refuses a change to either, whatever the path (admin, shell, a future page)."""

from django.db import migrations

FORWARD = """
CREATE FUNCTION billing_paymentbatch_refuse_control_change() RETURNS trigger AS $$
BEGIN
    IF NEW.control_total IS DISTINCT FROM OLD.control_total
       OR NEW.control_count IS DISTINCT FROM OLD.control_count THEN
        RAISE EXCEPTION 'a payment batch''s control count and total are fixed when it is opened'
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER billing_paymentbatch_control_fixed
    BEFORE UPDATE ON billing_paymentbatch
    FOR EACH ROW EXECUTE FUNCTION billing_paymentbatch_refuse_control_change();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS billing_paymentbatch_control_fixed ON billing_paymentbatch;
DROP FUNCTION IF EXISTS billing_paymentbatch_refuse_control_change();
"""


class Migration(migrations.Migration):
    dependencies = [("billing", "0006_staff_roles")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
