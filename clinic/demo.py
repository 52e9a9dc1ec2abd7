"""The demo organization. Later issues extend `seed_demo` with patients,
packages and appointments; every step looks up before it creates, so the
command can run any number of times."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings

from billing.demo import seed_billing
from clinic import services
from clinic.models import Clinic, Organization, Professional, Role, User
from clinic.tenancy import organization_scope
from packages.catalog.demo import seed_catalog
from patients.demo import seed_patients
from patients.models import Patient
from scheduling.demo import seed_calendar, seed_statuses
from scheduling.demo_packages import seed_patient_packages

DEMO_ORGANIZATION = "Clínica Demo"
DEMO_PASSWORD = "demo-clinic-2026"
CENTRAL = "Clínica Demo — Central"
SECOND = "Clínica Demo — Moema"
# What the session cards and receipts print in their header.
CONTACTS = {
    CENTRAL: {"legal_name": "Clínica Demo Fisioterapia Ltda.", "tax_id": "11.222.333/0001-81",
              "address": "Rua Augusta 1200, sala 4 · Consolação · São Paulo/SP", "phone": "(11) 3123-4567",
              "online_booking": True},
    SECOND: {"legal_name": "Clínica Demo Fisioterapia Ltda.", "tax_id": "11.222.333/0002-62",
             "address": "Av. Ibirapuera 2907, conj. 12 · Moema · São Paulo/SP", "phone": "(11) 3456-7890",
             "online_booking": True},
}  # fmt: skip

# username, first name, last name, role, clinic
DEMO_USERS = [
    ("owner", "Helena", "Matos", Role.OWNER, CENTRAL),
    ("manager", "Ricardo", "Alves", Role.MANAGER, CENTRAL),
    ("reception", "Juliana", "Souza", Role.RECEPTIONIST, CENTRAL),
    ("physio", "Marcos", "Pereira", Role.PROFESSIONAL, CENTRAL),
    ("reception2", "Beatriz", "Lima", Role.RECEPTIONIST, SECOND),
    ("psych", "Camila", "Rocha", Role.PROFESSIONAL, SECOND),
]
# The owner also works in the second clinic, so the clinic switcher has a choice.
EXTRA_MEMBERSHIPS = [("owner", Role.OWNER, SECOND), ("manager", Role.MANAGER, SECOND)]


@dataclass
class DemoResult:
    organization: Organization
    created: bool
    # username -> [(role, clinic), ...]
    logins: dict[str, list[tuple[str, str]]] = field(default_factory=dict)


# Who provides what (online booking offers only them): service -> professionals.
PROVIDERS = {
    "Aula de Pilates (estúdio)": ["Renata Costa"],
    "Avaliação fisioterapêutica": ["Marcos Pereira", "Renata Costa"],
    "Avaliação postural para Pilates": ["Renata Costa"],
    "Fisioterapia domiciliar": ["Marcos Pereira"],
    "Sessão de fisioterapia": ["Marcos Pereira", "Renata Costa", "Lucas Martins"],
    "Sessão de RPG": ["Lucas Martins"],
    "Sessão de acupuntura": ["Fernando Dias"],
    "Sessão de psicoterapia": ["Camila Rocha"],
    "Drenagem linfática": ["Lucas Martins"],
    "Bandagem funcional (kinesio)": ["Lucas Martins"],
}


def seed_providers(organization: Organization) -> None:
    from packages.catalog.models import Service, ServiceProfessional

    professionals = {p.name: p for p in Professional.objects.all()}
    for service in Service.objects.filter(name__in=PROVIDERS):
        for name in PROVIDERS[service.name]:
            if name in professionals:
                ServiceProfessional.objects.get_or_create(
                    organization=organization, service=service, professional=professionals[name]
                )


def demo_patient_page(organization: Organization) -> tuple[str, str, str]:
    """(the central clinic's public address, a demo patient's name, a link
    opening her page): what `seed_demo` prints for trying the patient's side."""
    from patients.portal.services import patient_link

    with organization_scope(organization):
        clinic = Clinic.objects.get(name=CENTRAL)
        patient = Patient.objects.filter(full_name__startswith="Adriana ").order_by("pk").first()
        public = f"{settings.PUBLIC_URL}/c/{clinic.portal_token}/"
        return public, patient.full_name if patient else "", patient_link(patient, clinic) if patient else ""


def seed_demo() -> DemoResult:
    organization = Organization.objects.filter(name=DEMO_ORGANIZATION).first()
    created = organization is None
    if organization is None:
        organization, _central, _owner = services.organization_create(
            name=DEMO_ORGANIZATION,
            owner_username="owner",
            owner_password=DEMO_PASSWORD,
            owner_email="helena@clinica-demo.example",
            clinic_name=CENTRAL,
        )
    result = DemoResult(organization=organization, created=created)
    with organization_scope(organization):
        clinics = {CENTRAL: _clinic(organization, CENTRAL, is_central=True), SECOND: _clinic(organization, SECOND)}
        for username, first_name, last_name, role, clinic_name in DEMO_USERS:
            user = _user(organization, username, first_name, last_name)
            services.membership_set(user=user, clinic=clinics[clinic_name], role=role)
            result.logins.setdefault(username, []).append((str(Role(role).label), clinic_name))
        for username, role, clinic_name in EXTRA_MEMBERSHIPS:
            user = User.objects.get(username=username)
            services.membership_set(user=user, clinic=clinics[clinic_name], role=role)
            result.logins[username].append((str(Role(role).label), clinic_name))
        seed_invitation(clinics)
        seed_resources(organization, clinics)
        seed_catalog(organization, clinics)
        seed_providers(organization)
        seed_patients(organization, list(clinics.values()))
        seed_statuses(organization)
        seed_patient_packages(organization, clinics)
        seed_calendar(organization, clinics)
        seed_billing(organization, clinics)
    return result


# A receptionist invited to the second clinic who has not accepted yet, so the
# Team page shows a pending invitation (the console e-mail backend prints its link).
DEMO_INVITEE = ("sofia.nunes@clinica-demo.example", "Sofia", "Nunes", Role.RECEPTIONIST, SECOND)


def seed_invitation(clinics: dict[str, Clinic]) -> None:
    from clinic import team

    email, first_name, last_name, role, clinic_name = DEMO_INVITEE
    if User.objects.filter(email__iexact=email).exists():
        return
    team.member_invite(
        actor=User.objects.get(username="owner"), email=email, first_name=first_name, last_name=last_name,
        role=role, clinic_ids=[clinics[clinic_name].pk],
    )  # fmt: skip


def _clinic(organization: Organization, name: str, *, is_central: bool = False) -> Clinic:
    clinic = Clinic.objects.filter(name=name).first()
    if clinic is None:
        clinic = services.clinic_create(organization=organization, name=name, is_central=is_central)
    if not clinic.tax_id:
        clinic = services.clinic_update(clinic=clinic, **CONTACTS[name])
    return clinic


def _user(organization: Organization, username: str, first_name: str, last_name: str) -> User:
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User(
            username=username,
            first_name=first_name,
            last_name=last_name,
            email=f"{username}@clinica-demo.example",
            organization=organization,
        )
        user.set_password(DEMO_PASSWORD)
        user.save()
    elif user.organization_id != organization.pk:
        raise RuntimeError(f"User {username!r} exists in another organization; the demo cannot use it.")
    if (user.first_name, user.last_name) != (first_name, last_name):
        user.first_name, user.last_name = first_name, last_name
        user.save(update_fields=["first_name", "last_name"])
    return user


def seed_resources(organization: Organization, clinics: dict[str, Clinic]) -> None:
    """Professionals with their working hours and rooms of both demo clinics.
    Looks each one up by clinic and name first, so edits made in the demo stay."""
    # Imported here so this function stays a self-contained addition to the demo.
    import datetime as dt

    from clinic import resources
    from clinic.models import Professional, Room

    def week(days: range | tuple[int, ...], *spans: tuple[str, str]) -> list[resources.WorkingInterval]:
        return [
            resources.WorkingInterval(
                weekday=day, starts_at=dt.time.fromisoformat(start), ends_at=dt.time.fromisoformat(end)
            )
            for day in days
            for start, end in spans
        ]

    weekdays = range(0, 5)  # Monday to Friday
    office = (("08:00", "12:00"), ("13:00", "18:00"))
    saturday_morning = week((5,), ("08:00", "12:00"))
    # clinic, name, specialty, login, colour, working hours
    professionals = [
        (CENTRAL, "Marcos Pereira", "Fisioterapeuta", "physio", "#0f766e", week(weekdays, *office) + saturday_morning),
        (
            CENTRAL,
            "Renata Costa",
            "Fisioterapeuta, Pilates",
            None,
            "#7c3aed",
            week(weekdays, *office) + saturday_morning,
        ),
        (CENTRAL, "Fernando Dias", "Acupunturista", None, "#d97706", week((1, 3), *office) + saturday_morning),
        (SECOND, "Camila Rocha", "Psicóloga", "psych", "#db2777", week(weekdays, *office)),
        (SECOND, "Lucas Martins", "Fisioterapeuta RPG", None, "#2563eb", week(weekdays, *office) + saturday_morning),
    ]
    for clinic_name, name, specialty, username, color, hours in professionals:
        clinic = clinics[clinic_name]
        if Professional.objects.filter(clinic=clinic, name=name).exists():
            continue
        user = User.objects.get(username=username, organization=organization) if username else None
        resources.professional_create(
            clinic=clinic, name=name, specialty=specialty, color=color, user=user, working_hours=hours
        )
    rooms = [(CENTRAL, "Sala 1"), (CENTRAL, "Sala 2"), (CENTRAL, "Estúdio de Pilates")]
    rooms += [(SECOND, "Consultório 1"), (SECOND, "Consultório 2")]
    for clinic_name, name in rooms:
        if not Room.objects.filter(clinic=clinics[clinic_name], name=name).exists():
            resources.room_create(clinic=clinics[clinic_name], name=name)
