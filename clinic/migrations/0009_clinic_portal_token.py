import secrets

from django.db import migrations, models

import clinic.models


def fill_tokens(apps, schema_editor):
    Clinic = apps.get_model("clinic", "Clinic")
    for clinic in Clinic.objects.all():
        clinic.portal_token = secrets.token_urlsafe(16)
        clinic.save(update_fields=["portal_token"])


class Migration(migrations.Migration):
    dependencies = [("clinic", "0008_clinic_cancellation_hours_clinic_reminder_channels_and_more")]

    operations = [
        migrations.AddField(model_name="clinic", name="portal_token", field=models.CharField(max_length=32, null=True)),
        migrations.AddField(
            model_name="historicalclinic", name="portal_token", field=models.CharField(max_length=32, null=True)
        ),
        migrations.RunPython(fill_tokens, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="clinic",
            name="portal_token",
            field=models.CharField(default=clinic.models.new_portal_token, editable=False, max_length=32, unique=True),
        ),
        migrations.AlterField(
            model_name="historicalclinic",
            name="portal_token",
            field=models.CharField(
                db_index=True, default=clinic.models.new_portal_token, editable=False, max_length=32
            ),
        ),
    ]
