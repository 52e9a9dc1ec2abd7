"""The demo organization's catalog: services of a physiotherapy, Pilates,
psychology, RPG and acupuncture network, and package templates shared by its
central clinic. Called by `clinic.demo.seed_demo` inside the organization's
scope; every step looks up before it creates, so it can run again."""

from __future__ import annotations

from decimal import Decimal

from clinic.models import Clinic, Organization
from packages.catalog import services
from packages.catalog.models import CommissionKind, PackageTemplate, Posting, Renewal, Service

# code, name, price, minutes
CENTRAL_SERVICES = [
    ("FIS-AVA", "Avaliação fisioterapêutica", "180.00", 60),
    ("FIS-SES", "Sessão de fisioterapia", "120.00", 50),
    ("PIL-AUL", "Aula de Pilates (estúdio)", "85.00", 55),
    ("PIL-AVA", "Avaliação postural para Pilates", "120.00", 50),
    ("PSI-SES", "Sessão de psicoterapia", "200.00", 50),
    ("RPG-SES", "Sessão de RPG", "150.00", 60),
    ("ACU-SES", "Sessão de acupuntura", "130.00", 40),
]
# The central clinic's own service, not shared.
CENTRAL_PRIVATE = [("FIS-DOM", "Fisioterapia domiciliar", "190.00", 60)]
# The second clinic's own services.
BRANCH_SERVICES = [
    ("MOE-KIN", "Bandagem funcional (kinesio)", "60.00", 20),
    ("MOE-DRL", "Drenagem linfática", "140.00", 50),
]


def seed_catalog(organization: Organization, clinics: dict[str, Clinic]) -> None:
    central = next(clinic for clinic in clinics.values() if clinic.is_central)
    branches = [clinic for clinic in clinics.values() if not clinic.is_central]
    catalog = {
        code: _service(central, code, name, price, minutes, shared=True)
        for code, name, price, minutes in CENTRAL_SERVICES
    }
    for code, name, price, minutes in CENTRAL_PRIVATE:
        catalog[code] = _service(central, code, name, price, minutes, shared=False)

    def items(*rows: tuple[str, int]) -> tuple[services.TemplateItemInput, ...]:
        return tuple(services.TemplateItemInput(service=catalog[code], quantity=quantity) for code, quantity in rows)

    physio_10 = _template(
        central,
        services.TemplateInput(
            name="Pacote 10 sessões de Fisioterapia",
            price=Decimal("1000.00"),
            items=items(("FIS-SES", 10)),
            validity_days=120,
            posting=Posting.TOTAL,
            commission_kind=CommissionKind.PERCENT,
            commission_value=Decimal("30.00"),
            limits=services.LimitsInput(
                services=(services.ServiceLimitInput(service=catalog["FIS-SES"], max_quantity=10),),
            ),
            is_shared=True,
        ),
    )
    _template(
        central,
        services.TemplateInput(
            name="Plano mensal Pilates 2x/semana",
            price=Decimal("560.00"),
            items=items(("PIL-AUL", 8)),
            validity_days=31,
            renewal=Renewal.MONTHLY,
            posting=Posting.PER_PROCEDURE,
            commission_kind=CommissionKind.FIXED,
            commission_value=Decimal("25.00"),
            limits=services.LimitsInput(max_appointments=8),
            is_shared=True,
        ),
    )
    _template(
        central,
        services.TemplateInput(
            name="Avaliação + 6 sessões",
            price=Decimal("800.00"),
            items=items(("FIS-AVA", 1), ("FIS-SES", 6)),
            validity_days=60,
            posting=Posting.TOTAL,
            commission_kind=CommissionKind.PERCENT,
            commission_value=Decimal("30.00"),
            trigger_service=catalog["FIS-AVA"],
            limits=services.LimitsInput(
                max_amount=Decimal("900.00"),
                services=(services.ServiceLimitInput(service=catalog["FIS-AVA"], max_quantity=1),),
            ),
            is_shared=True,
        ),
    )
    _template(
        central,
        services.TemplateInput(
            name="Psicoterapia — 4 sessões",
            price=Decimal("720.00"),
            items=items(("PSI-SES", 4)),
            validity_days=45,
            commission_kind=CommissionKind.PERCENT,
            commission_value=Decimal("40.00"),
            is_shared=True,
        ),
    )
    _template(
        central,
        services.TemplateInput(
            name="RPG — 8 sessões",
            price=Decimal("1080.00"),
            items=items(("RPG-SES", 8)),
            validity_days=90,
            posting=Posting.TOTAL,
            commission_kind=CommissionKind.FIXED,
            commission_value=Decimal("45.00"),
            is_shared=True,
        ),
    )
    # Deactivated, so that the list's status filter has something to show.
    _template(
        central,
        services.TemplateInput(
            name="Acupuntura — 5 sessões",
            price=Decimal("550.00"),
            items=items(("ACU-SES", 5)),
            validity_days=60,
            is_shared=True,
        ),
        active=False,
    )
    _template(
        central,
        services.TemplateInput(
            name="Fisioterapia domiciliar — 5 visitas",
            price=Decimal("900.00"),
            items=items(("FIS-DOM", 5)),
            validity_days=60,
            commission_kind=CommissionKind.PERCENT,
            commission_value=Decimal("35.00"),
        ),
    )

    for branch in branches[:1]:
        own = {
            code: _service(branch, code, name, price, minutes, shared=False)
            for code, name, price, minutes in BRANCH_SERVICES
        }
        _template(
            branch,
            services.TemplateInput(
                name="Drenagem linfática — 5 sessões",
                price=Decimal("630.00"),
                items=(services.TemplateItemInput(service=own["MOE-DRL"], quantity=5),),
                validity_days=45,
                commission_kind=CommissionKind.FIXED,
                commission_value=Decimal("30.00"),
            ),
        )
        # The branch adds its own service to central's shared physiotherapy package.
        if not physio_10.items.filter(clinic=branch).exists():
            services.package_template_set_own_items(
                template=physio_10,
                clinic=branch,
                items=(services.TemplateItemInput(service=own["MOE-KIN"], quantity=2),),
            )


def _service(clinic: Clinic, code: str, name: str, price: str, minutes: int, *, shared: bool) -> Service:
    service = Service.objects.filter(clinic=clinic, code=code).first()
    if service is None:
        service = services.service_create(
            clinic=clinic, name=name, code=code, price=Decimal(price), duration_minutes=minutes, is_shared=shared
        )
    return service


def _template(clinic: Clinic, data: services.TemplateInput, *, active: bool = True) -> PackageTemplate:
    template = PackageTemplate.objects.filter(clinic=clinic, name=data.name).first()
    if template is None:
        template = services.package_template_create(clinic=clinic, data=data)
        if not active:
            template = services.package_template_set_active(template=template, clinic=clinic, is_active=False)
    return template
