"""On PostgreSQL the database itself refuses overlapping bookings of a
professional or a room (A1), whatever the code does: two requests booking the
same slot at once cannot both succeed. Cancelled appointments (holds_slot =
false) do not count. These constraints decide, races included; the service
then looks the conflict up to name it."""

from django.db import migrations

CREATE = """
CREATE EXTENSION IF NOT EXISTS btree_gist;
ALTER TABLE scheduling_appointment ADD CONSTRAINT appointment_professional_no_overlap
    EXCLUDE USING gist (professional_id WITH =, tstzrange(start, "end", '[)') WITH &&)
    WHERE (holds_slot AND professional_id IS NOT NULL);
ALTER TABLE scheduling_appointment ADD CONSTRAINT appointment_room_no_overlap
    EXCLUDE USING gist (room_id WITH =, tstzrange(start, "end", '[)') WITH &&)
    WHERE (holds_slot AND room_id IS NOT NULL);
"""

DROP = """
ALTER TABLE scheduling_appointment DROP CONSTRAINT IF EXISTS appointment_professional_no_overlap;
ALTER TABLE scheduling_appointment DROP CONSTRAINT IF EXISTS appointment_room_no_overlap;
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
