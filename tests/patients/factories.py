from __future__ import annotations

import factory

from clinic.normalize import search_key
from patients.models import Patient, PatientProfessional
from tests.factories import ClinicFactory, TenantFactory


class PatientFactory(TenantFactory):
    class Meta:
        model = Patient
        skip_postgeneration_save = True

    clinic = factory.SubFactory(ClinicFactory)
    organization = factory.SelfAttribute("clinic.organization")
    full_name = factory.Faker("name", locale="pt_BR")
    name_search = factory.LazyAttribute(lambda p: search_key(p.full_name))

    @factory.post_generation
    def professionals(patient: Patient, create: bool, extracted: list | None, **kwargs: object) -> None:
        if create and extracted:
            for professional in extracted:
                PatientProfessional.objects.create(
                    organization_id=patient.organization_id, patient=patient, professional=professional
                )
