from __future__ import annotations

from collections import Counter
from io import StringIO

import pytest
from django.core.management import call_command
from django_scopes import scopes_disabled

from scheduling.models import Appointment, AppointmentSeries


@pytest.mark.django_db
def test_demo_calendar_has_series_and_statuses_and_is_seeded_once() -> None:
    call_command("seed_demo", stdout=StringIO())
    with scopes_disabled():
        first = (AppointmentSeries.objects.count(), Appointment.objects.count())
    call_command("seed_demo", stdout=StringIO())
    with scopes_disabled():
        assert (AppointmentSeries.objects.count(), Appointment.objects.count()) == first
        statuses = Counter(Appointment.objects.values_list("status", flat=True))
        in_series = Appointment.objects.exclude(series=None).count()
    assert first[0] == 5
    assert in_series >= 15
    assert {"attended", "scheduled", "justified_absence"} <= set(statuses)
