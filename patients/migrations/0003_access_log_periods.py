# The access log counts repeated reads on one row per period (issue 14), and
# the mobile's help text no longer names a format.

from django.conf import settings
from django.db import migrations, models
from django.db.models import F


def own_periods(apps, schema_editor):
    """Rows written before reads were counted each keep a period of their
    own (-id: no real period is negative), so the new unique constraint
    never merges them."""
    AccessLog = apps.get_model("patients", "AccessLog")
    AccessLog._base_manager.update(period=-F("id"), last_accessed_at=F("accessed_at"))


class Migration(migrations.Migration):
    dependencies = [
        ("patients", "0002_historicalpatient_opt_out_email_and_more"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="accesslog",
            name="last_accessed_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="last read"),
        ),
        migrations.AddField(
            model_name="accesslog",
            name="period",
            field=models.BigIntegerField(default=0, editable=False),
        ),
        migrations.AddField(
            model_name="accesslog",
            name="views",
            field=models.PositiveIntegerField(default=1, verbose_name="reads"),
        ),
        migrations.AlterField(
            model_name="accesslog",
            name="what",
            field=models.CharField(
                choices=[
                    ("file", "Patient file"),
                    ("list", "Patient list"),
                    ("edit form", "Edit form"),
                    ("anamnesis", "Anamnesis"),
                    ("history", "Change history"),
                    ("calendar", "Calendar"),
                    ("booking search", "Patient search when booking"),
                    ("appointment", "Appointment"),
                    ("home", "Home page"),
                    ("packages", "Packages"),
                    ("package history", "Package history"),
                    ("package report", "Package report"),
                    ("packages excel", "Packages in Excel"),
                    ("session card", "Session card"),
                    ("sales and usage", "Sales and usage report"),
                ],
                max_length=200,
                verbose_name="what",
            ),
        ),
        migrations.AlterField(
            model_name="historicalpatient",
            name="mobile",
            field=models.CharField(
                blank=True,
                help_text="Include the country code for numbers abroad.",
                max_length=20,
                verbose_name="mobile",
            ),
        ),
        migrations.AlterField(
            model_name="patient",
            name="mobile",
            field=models.CharField(
                blank=True,
                help_text="Include the country code for numbers abroad.",
                max_length=20,
                verbose_name="mobile",
            ),
        ),
        migrations.RunPython(own_periods, migrations.RunPython.noop, elidable=True),
        migrations.AddConstraint(
            model_name="accesslog",
            constraint=models.UniqueConstraint(
                fields=("patient", "user", "channel", "what", "period"), name="access_log_one_row_per_period"
            ),
        ),
    ]
