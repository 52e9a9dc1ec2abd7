"""On PostgreSQL, the database itself refuses to update or delete a ledger entry.

The model and its queryset refuse too; the trigger covers raw SQL, a shell, a
future bug. TRUNCATE (test teardown) is not a row operation and is unaffected.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION patient_packages_ledger_entry_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'package ledger entries are append-only (% refused)', TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER patient_packages_ledger_entry_append_only
    BEFORE UPDATE OR DELETE ON patient_packages_ledgerentry
    FOR EACH ROW EXECUTE FUNCTION patient_packages_ledger_entry_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS patient_packages_ledger_entry_append_only ON patient_packages_ledgerentry;
DROP FUNCTION IF EXISTS patient_packages_ledger_entry_append_only();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("patient_packages", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
