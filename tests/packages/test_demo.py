"""The demo catalog: realistic, shared by central, idempotent."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django_scopes import scopes_disabled

from clinic.demo import DEMO_ORGANIZATION
from clinic.models import Clinic
from packages.catalog import selectors
from packages.catalog.models import PackageTemplate, PackageTemplateItem, Service


def _counts() -> tuple[int, int, int]:
    with scopes_disabled():
        return (
            Service.objects.filter(organization__name=DEMO_ORGANIZATION).count(),
            PackageTemplate.objects.filter(organization__name=DEMO_ORGANIZATION).count(),
            PackageTemplateItem.objects.filter(organization__name=DEMO_ORGANIZATION).count(),
        )


@pytest.mark.django_db
def test_seed_demo_adds_a_shared_catalog_once(in_scope_of) -> None:
    call_command("seed_demo", stdout=StringIO())
    first = _counts()
    call_command("seed_demo", stdout=StringIO())
    assert _counts() == first == (10, 8, 10)
    with scopes_disabled():
        organization = Clinic.objects.get(organization__name=DEMO_ORGANIZATION, is_central=True).organization
    with in_scope_of(organization):
        central = Clinic.objects.get(is_central=True)
        moema = Clinic.objects.get(is_central=False)
        shared = dict(PackageTemplate.objects.filter(is_shared=True).values_list("name", "clinic_id"))
        assert set(shared) == {
            "Pacote 10 sessões de Fisioterapia",
            "Plano mensal Pilates 2x/semana",
            "Avaliação + 6 sessões",
            "Psicoterapia — 4 sessões",
            "RPG — 8 sessões",
            "Acupuntura — 5 sessões",
        }
        assert set(shared.values()) == {central.pk}
        pilates = PackageTemplate.objects.get(name="Plano mensal Pilates 2x/semana")
        assert (pilates.renewal, pilates.price, pilates.commission_kind) == ("monthly", 560, "fixed")
        chain = PackageTemplate.objects.select_related("trigger_service").get(name="Avaliação + 6 sessões")
        assert chain.trigger_service.code == "FIS-AVA"
        assert not PackageTemplate.objects.get(name="Acupuntura — 5 sessões").is_active
        # Moema added its own service to central's shared physiotherapy package.
        physio = selectors.template_for_clinic(
            clinic=moema, template_id=PackageTemplate.objects.get(name="Pacote 10 sessões de Fisioterapia").pk
        )
        assert [(i.service.code, i.quantity, i.clinic_id) for i in physio.visible_items] == [
            ("FIS-SES", 10, central.pk),
            ("MOE-KIN", 2, moema.pk),
        ]
        assert physio.sessions == 12
        assert list(selectors.template_list(clinic=moema).filter(is_active=True).values_list("name", flat=True)) == [
            "Avaliação + 6 sessões",
            "Drenagem linfática — 5 sessões",
            "Pacote 10 sessões de Fisioterapia",
            "Plano mensal Pilates 2x/semana",
            "Psicoterapia — 4 sessões",
            "RPG — 8 sessões",
        ]
