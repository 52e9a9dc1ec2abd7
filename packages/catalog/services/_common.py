"""What every catalog write shares: validation into `ValidationFailed`, saving
under a constraint race, and the owning-clinic rule (T3)."""

from __future__ import annotations

from django.db import IntegrityError, models, transaction
from django.utils.translation import gettext as _

from clinic.errors import ValidationFailed
from clinic.models import Clinic
from packages.catalog.errors import SharedReadOnly
from packages.catalog.models import PackageTemplate, Service


def save(instance: models.Model) -> None:
    """Save after `full_clean`; a constraint that a concurrent request made
    fail in between is reported like the validation would have."""
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError as error:
        raise ValidationFailed(_("This could not be saved: another change conflicts with it. Try again.")) from error


def require_owner(item: Service | PackageTemplate, clinic: Clinic) -> None:
    if item.clinic_id != clinic.pk:
        raise SharedReadOnly()
