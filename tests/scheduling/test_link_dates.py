"""K2 through the link page: pick dates, book them with the package, all or nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django_scopes import scopes_disabled

from clinic.tenancy import organization_scope
from packages.patient_packages.models import PatientPackage
from scheduling import services
from scheduling.models import Appointment
from tests.conftest import login
from tests.packages.factories import make_template
from tests.scheduling.conftest import at


def _post(client, patient, template, therapist, days: list[int], hour: int = 9):
    data = {
        "template": template.pk, "sessions": "10", "total_price": "1000.00", "paid_at": "2026-11-23",
        "dates-TOTAL_FORMS": str(len(days)), "dates-INITIAL_FORMS": "0",
    }  # fmt: skip
    for index, day in enumerate(days):
        data |= {
            f"dates-{index}-date": f"2026-12-{day:02d}", f"dates-{index}-time": f"{hour:02d}:00",
            f"dates-{index}-professional": str(therapist.pk), f"dates-{index}-status": "scheduled",
        }  # fmt: skip
    return client.post(f"/patients/{patient.pk}/packages/link/", data)


@pytest.fixture
def template(tenant_a, physio_service):
    return make_template(tenant_a.central, [(physio_service, 10)], name="Pacote 10 sessões de Fisioterapia",
                         price=Decimal("1000.00"), is_shared=True)  # fmt: skip


@pytest.mark.django_db
def test_link_with_ten_picked_dates_books_them(bob, patient, therapist, template) -> None:
    response = _post(login(bob), patient, template, therapist, list(range(1, 11)))
    assert response.status_code == 302, response.context["form"].errors if response.context else ""
    with scopes_disabled():
        package = PatientPackage.objects.get(patient=patient)
        starts = [a.start for a in Appointment.objects.filter(patient_package=package).order_by("start")]
    assert (package.sessions_booked, package.sessions_available) == (10, 0)
    assert [s.day for s in starts] == list(range(1, 11))
    assert starts[0] == at(1, 9)


@pytest.mark.django_db
def test_a_failing_date_marks_its_row_and_saves_nothing(bob, alice, patient, therapist, template, physio_service,
                                                        tenant_a) -> None:  # fmt: skip
    with organization_scope(tenant_a.organization):
        services.appointment_book(clinic=patient.clinic, patient=patient, start=at(4, 9), professional=therapist,
                                  lines=[services.LineInput(physio_service)], actor=alice)  # fmt: skip
    response = _post(login(bob), patient, template, therapist, list(range(1, 11)))
    assert response.status_code == 200
    content = response.content.decode()
    assert content.count('data-testid="row-error"') == 1
    assert "Already booked" in content
    assert "Nothing was saved: 1 of the dates cannot be booked." in content
    with scopes_disabled():
        assert PatientPackage.objects.filter(patient=patient).count() == 0
        assert Appointment.objects.filter(patient=patient).count() == 1
