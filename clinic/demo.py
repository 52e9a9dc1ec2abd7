"""The demo organization. Later issues extend `seed_demo` with patients,
packages and appointments; every step looks up before it creates, so the
command can run any number of times."""

from __future__ import annotations

from dataclasses import dataclass, field

from clinic import services
from clinic.models import Clinic, Organization, Role, User
from clinic.tenancy import organization_scope

DEMO_ORGANIZATION = "Clínica Demo"
DEMO_PASSWORD = "demo-clinic-2026"
CENTRAL = "Clínica Demo — Central"
SECOND = "Clínica Demo — Moema"

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
    return result


def _clinic(organization: Organization, name: str, *, is_central: bool = False) -> Clinic:
    clinic = Clinic.objects.filter(name=name).first()
    if clinic is None:
        clinic = services.clinic_create(organization=organization, name=name, is_central=is_central)
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
