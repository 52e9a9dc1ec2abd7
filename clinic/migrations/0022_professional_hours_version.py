"""A professional's `hours_version`: which state of their working hours the row
was read with, so that `clinic.selectors` can cache a week by it.

On PostgreSQL two triggers keep it, whoever writes (a service, the admin, a
shell, raw SQL):

- any insert, update or delete of one of the professional's working-hours
  intervals gives the row a new value from a sequence (never the value of a
  transaction that rolled back: a sequence does not go back);
- a save of the professional row itself keeps the value it has in the
  database, so a row read before an interval changed cannot write its old
  value back (only a statement's own update, `pg_trigger_depth() = 1`, is
  held back: the first trigger's update runs a level deeper and goes through).

Elsewhere (SQLite, for `make run`) nothing keeps it and nothing caches by it.
"""

from django.db import migrations, models

CREATE = """
CREATE SEQUENCE clinic_professional_hours_version;

CREATE FUNCTION clinic_working_hours_changed() RETURNS trigger AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        UPDATE clinic_professional SET hours_version = nextval('clinic_professional_hours_version')
         WHERE id = OLD.professional_id;
    END IF;
    IF TG_OP <> 'DELETE' AND (TG_OP = 'INSERT' OR NEW.professional_id <> OLD.professional_id) THEN
        UPDATE clinic_professional SET hours_version = nextval('clinic_professional_hours_version')
         WHERE id = NEW.professional_id;
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER clinic_working_hours_changed
    AFTER INSERT OR UPDATE OR DELETE ON clinic_workinghours
    FOR EACH ROW EXECUTE FUNCTION clinic_working_hours_changed();

CREATE FUNCTION clinic_professional_keep_hours_version() RETURNS trigger AS $$
BEGIN
    IF pg_trigger_depth() = 1 THEN
        NEW.hours_version := OLD.hours_version;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER clinic_professional_keep_hours_version
    BEFORE UPDATE ON clinic_professional
    FOR EACH ROW EXECUTE FUNCTION clinic_professional_keep_hours_version();
"""

DROP = """
DROP TRIGGER IF EXISTS clinic_professional_keep_hours_version ON clinic_professional;
DROP FUNCTION IF EXISTS clinic_professional_keep_hours_version();
DROP TRIGGER IF EXISTS clinic_working_hours_changed ON clinic_workinghours;
DROP FUNCTION IF EXISTS clinic_working_hours_changed();
DROP SEQUENCE IF EXISTS clinic_professional_hours_version;
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("clinic", "0021_outbox_runs"),
    ]

    operations = [
        migrations.AddField(
            model_name="professional",
            name="hours_version",
            field=models.BigIntegerField(default=0, editable=False),
        ),
        migrations.RunPython(forwards, backwards),
    ]
