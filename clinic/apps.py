from django.apps import AppConfig
from django.db import models
from django.utils.translation import gettext_lazy as _


class ClinicConfig(AppConfig):
    name = "clinic"
    verbose_name = _("Organizations and clinics")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate
        from rest_framework import serializers

        from clinic import request_id, rls

        request_id.install_log_record_factory()

        # Row-level security on every tenant table, after every migrate.
        post_migrate.connect(rls.install, sender=self, dispatch_uid="clinic.rls.install")

        from clinic.api.fields import DecimalField, strict

        # A model's field, in any ModelSerializer, accepts only the JSON type
        # the schema names (`clinic.api.fields`): decimals as strings,
        # booleans as true/false, numbers as numbers, strings as strings.
        mapping = serializers.ModelSerializer.serializer_field_mapping
        for model_field, field_class in list(mapping.items()):
            mapping[model_field] = strict(field_class)
        mapping[models.DecimalField] = DecimalField
