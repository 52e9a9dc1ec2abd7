from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_scopes import scopes_disabled

from patients.models import Patient


@pytest.mark.django_db
def test_demo_patients_are_realistic_and_seeded_once() -> None:
    call_command("seed_demo", stdout=StringIO())
    call_command("seed_demo", stdout=StringIO())
    with scopes_disabled():
        patients = list(Patient.objects.filter(organization__name="Clínica Demo").prefetch_related("professionals"))
    today = timezone.localdate()
    minors = [p for p in patients if p.is_minor_on(today)]
    assert len(patients) == 40
    assert len({p.clinic_id for p in patients}) == 2
    assert len(minors) == 5
    assert sum(p.has_guardian for p in minors) == 4  # one minor still lacks a guardian
    assert sum(p.needs_review and p.self_registered for p in patients) == 3
    assert all(p.professionals.all() for p in patients if not p.self_registered)
    assert all(p.mobile.startswith("+5511") for p in patients)
