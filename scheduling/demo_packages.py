"""Demo patient packages: a dozen demo patients with packages that have lived
a little, so that lists, balances, budget bars and history pages have
something to show.

Packages are linked through `packages.patient_packages.ledger` and their sessions booked and
marked through `scheduling.services`, as reception would, so the ledgers
reconcile like real ones and the budget limits hold: a booking the package's
budget refuses is left out, as it would be at the desk. Called by
`clinic.demo.seed_demo` inside the organization's scope, after the catalog,
the patients and the statuses. A patient who already has a package (from an
earlier run, or linked by hand in the demo) is left alone, so the command can
run any number of times.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import translation

from clinic.errors import ApplicationError
from clinic.models import Clinic, Membership, Organization, Professional, Role, Room, User
from packages.catalog import selectors
from packages.catalog.models import PackageTemplate, Service
from packages.patient_packages import ledger
from packages.patient_packages.models import PatientPackage
from patients.models import Patient
from scheduling import services
from scheduling.demo import CHARGED_ABSENCE
from scheduling.errors import DoubleBooking
from scheduling.models import Appointment, BuiltinStatus


@dataclass(frozen=True)
class Story:
    """What happened to one demo package, in the order it happened: linked,
    past sessions (booked, then attended; absences charged, then given back on
    a medical certificate), then an exceptional step, then the bookings still
    to come. Each session takes the next service of the package's items (an
    assessment first, then the sessions), or `service` (a code) for a direct
    package."""

    first_name: str  # the demo patient, by the first name `patients.demo` gave them
    professional: str
    hour: int  # the patient's usual time, local to the clinic
    template: str = ""  # a demo template's name, or a direct package of `sessions` for `total`
    service: str = "FIS-SES"  # a direct package's service
    sessions: int = 0
    total: str = ""
    attended: int = 0
    justified_absences: int = 0
    then: str = ""  # "change" (10 → 12 sessions), "inactivate" or "renew"
    booked: int = 0
    room: str = ""
    insurer: str = ""
    authorization: str = ""
    paid: bool = True


STORIES = [
    # Central
    Story(
        "João", "Marcos Pereira", 8, template="Pacote 10 sessões de Fisioterapia", attended=8, then="change",
        booked=2,
    ),
    Story(
        "Maria", "Renata Costa", 8, template="Plano mensal Pilates 2x/semana", attended=5, then="renew", booked=2,
        room="Estúdio de Pilates",
    ),
    Story("Francisca", "Marcos Pereira", 9, sessions=5, total="1000.00", attended=2, justified_absences=1, booked=1),
    Story("Carlos", "Marcos Pereira", 10, template="Avaliação + 6 sessões", attended=4, booked=2),
    Story("Adriana", "Renata Costa", 16, template="Pacote 10 sessões de Fisioterapia", attended=3, booked=2),
    Story(
        "Márcia", "Renata Costa", 17, template="Plano mensal Pilates 2x/semana", attended=1, booked=2,
        room="Estúdio de Pilates",
    ),
    Story("Lucas", "Marcos Pereira", 14, template="Fisioterapia domiciliar — 5 visitas", attended=5),  # finished
    Story(
        "Gabriel", "Marcos Pereira", 15, sessions=10, total="1500.00", booked=2, insurer="SulAmérica",
        authorization="SA-2026-004417", paid=False,
    ),
    # Moema
    Story("José", "Lucas Martins", 8, template="RPG — 8 sessões", attended=3, then="inactivate"),
    Story("Juliana", "Camila Rocha", 9, template="Psicoterapia — 4 sessões", attended=4),  # finished...
    Story("Juliana", "Camila Rocha", 9, template="Psicoterapia — 4 sessões", booked=1),  # ...and bought again
    Story("Paulo", "Lucas Martins", 10, template="Drenagem linfática — 5 sessões", attended=2, booked=1),
    Story(
        "Fernanda", "Lucas Martins", 13, template="Pacote 10 sessões de Fisioterapia", attended=5,
        justified_absences=1, booked=2,
    ),
]  # fmt: skip


def seed_patient_packages(organization: Organization, clinics: dict[str, Clinic]) -> None:
    central = next(clinic for clinic in clinics.values() if clinic.is_central)
    owner = _member(central, Role.OWNER)
    # Patients who had packages before this run keep exactly what they have.
    settled = set(PatientPackage.objects.values_list("patient_id", flat=True))
    for story in STORIES:
        patient = Patient.objects.filter(full_name__startswith=f"{story.first_name} ").order_by("pk").first()
        if patient is None or patient.pk in settled or patient.needs_review:
            continue
        _tell(story, patient=patient, owner=owner, receptionist=_member(patient.clinic, Role.RECEPTIONIST) or owner)


def _member(clinic: Clinic, role: Role) -> User | None:
    membership = Membership.objects.filter(clinic=clinic, role=role).select_related("user").order_by("pk").first()
    return membership.user if membership else None


def _tell(story: Story, *, patient: Patient, owner: User | None, receptionist: User | None) -> None:
    clinic = patient.clinic
    tz = ZoneInfo(clinic.time_zone)
    today = dt.datetime.now(tz).date()
    template: PackageTemplate | None = None
    if story.template:
        template = selectors.visible_templates(clinic=clinic).filter(is_active=True, name=story.template).first()
        if template is None:  # renamed or deactivated in the demo: tell the other stories
            return
    professional = (
        Professional.objects.filter(clinic=clinic, is_active=True, name=story.professional).first()
        or Professional.objects.filter(clinic=clinic, is_active=True).order_by("pk").first()
    )
    room = Room.objects.filter(clinic=clinic, name=story.room).first() if story.room else None
    past = _past_days(today, story.attended + story.justified_absences)

    # A direct package is named in the language active when it is linked;
    # commands run without the site's language, and the demo is Brazilian.
    with translation.override(settings.LANGUAGE_CODE):
        package = ledger.package_link(
            patient=patient,
            clinic=clinic,
            actor=owner,
            template=template,
            sessions=story.sessions or None,
            total_price=Decimal(story.total) if story.total else None,
            paid_at=(past[0] if past else today) if story.paid else None,
            insurer=story.insurer,
            authorization=story.authorization,
            room=room,
        )

    sessions = _session_services(package, clinic, story.service)

    def book(day: dt.date) -> Appointment | None:
        """The session on `day` at the story's hour, or the next free hour
        (appointments added in the demo by hand may be in the way); None when
        the package's budget refuses it, as it would at the desk."""
        start = dt.datetime.combine(day, dt.time(story.hour), tzinfo=tz)
        lines = [services.LineInput(next(sessions))]
        for hour in range(8):
            try:
                return services.appointment_book(
                    clinic=clinic,
                    patient=patient,
                    start=start + dt.timedelta(hours=hour),
                    lines=lines,
                    actor=receptionist,
                    professional=professional,
                    room=room,
                    patient_package=package,
                ).appointment
            except DoubleBooking:
                continue
            except ApplicationError:  # budget_exceeded, package_exhausted
                return None
        return None

    # The absences sit in the middle of the treatment, not at its edges.
    absent = set(range(story.attended // 2, story.attended // 2 + story.justified_absences))
    for index, day in enumerate(past):
        session = book(day)
        if session is None:
            continue
        if index in absent:
            # The no-show was charged; the patient then brought a medical
            # certificate: the session is given back and the booking freed.
            services.appointment_set_status(appointment=session, status=CHARGED_ABSENCE, actor=receptionist)
            services.appointment_set_status(
                appointment=session, status=BuiltinStatus.JUSTIFIED_ABSENCE, actor=receptionist
            )
        else:
            services.appointment_set_status(appointment=session, status=BuiltinStatus.ATTENDED, actor=receptionist)

    if story.then == "change":
        ledger.package_change(
            package=package,
            actor=owner,
            sessions_total=package.sessions_total + 2,
            # Courtesy sessions: the budget makes room for them.
            limits=ledger.Limits.GROW,
            notes="Reavaliação: 2 sessões extras de cortesia autorizadas pela coordenação.",
        )
    elif story.then == "inactivate":
        ledger.package_change(
            package=package,
            actor=owner,
            status="inactive",
            notes="Paciente mudou de cidade; saldo a ressarcir.",
        )
    elif story.then == "renew":
        # Linking cannot be backdated (created_at is set by the database), so
        # the demo plan reads as bought this month; the renewal is next
        # month's cycle, paid ahead as reception does when a patient renews
        # before the month ends ("renew now").
        ledger.package_renew(package=package, actor=receptionist, period=_next_month(today))

    for day in _future_days(today, story.booked):
        book(day)


def _session_services(package: PatientPackage, clinic: Clinic, direct: str) -> Iterator[Service]:
    """The service of each session in turn: the package's items in their order
    (an assessment, then the sessions), the last one repeating; a direct
    package's sessions are all `direct` (a service code)."""
    visible = selectors.visible_services(clinic=clinic)
    items = package.terms.get("items") or []
    order = [(item["service"], int(item.get("quantity") or 1)) for item in items]
    by_pk = visible.in_bulk([pk for pk, _quantity in order])
    sequence = [by_pk[pk] for pk, quantity in order if pk in by_pk for _ in range(quantity)]
    if not sequence:
        sequence = [visible.get(code=direct)]
    yield from sequence
    while True:
        yield sequence[-1]


def _past_days(today: dt.date, count: int) -> list[dt.date]:
    """`count` weekdays spread over the last four weeks, oldest first, the last
    one at most two days ago. Two days apart at least, so moving a weekend day
    to the nearest weekday never lands two sessions on one day."""
    if count == 0:
        return []
    step = max(2, min(7, 25 // count))
    return [_weekday(today - dt.timedelta(days=2 + (count - 1 - i) * step), forward=False) for i in range(count)]


def _future_days(today: dt.date, count: int) -> list[dt.date]:
    """`count` weekdays from tomorrow on, three days apart."""
    return [_weekday(today + dt.timedelta(days=1 + 3 * i), forward=True) for i in range(count)]


def _weekday(day: dt.date, *, forward: bool) -> dt.date:
    """Saturday to Friday and Sunday to Monday; both to Monday going forward
    (a past Sunday becomes the Monday after it, still before today)."""
    if day.weekday() == 5:
        return day + dt.timedelta(days=2) if forward else day - dt.timedelta(days=1)
    if day.weekday() == 6:
        return day + dt.timedelta(days=1)
    return day


def _next_month(day: dt.date) -> dt.date:
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
