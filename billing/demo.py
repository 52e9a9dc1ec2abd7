"""The demo's money (`seed_demo`): paid, partly paid and open sessions, a
package sold in installments, an overpayment left as account credit, a
session paid from a package with a confirmed price adjustment, and a
refund. Everything goes through billing's entry points, as staff do."""

from __future__ import annotations

from decimal import Decimal

from billing import services
from billing.models import Method, Payment, Receivable, ReceivableKind, ReceivableStatus
from clinic import services as clinic_services
from clinic.models import Clinic, Membership, Organization, Role, User
from packages.catalog import selectors as catalog
from packages.patient_packages import ledger
from packages.patient_packages.models import PackageStatus, PatientPackage
from patients.models import Patient

DEMO_PIX_KEY = "7d9f0335-8dcc-4054-9bf9-0dbd61d36906"


def _patient(first_name: str) -> Patient | None:
    return Patient.objects.filter(full_name__startswith=f"{first_name} ").order_by("pk").first()


def _open_sessions(patient: Patient) -> list[Receivable]:
    return list(
        Receivable.objects.filter(patient=patient, kind=ReceivableKind.SESSION, status=ReceivableStatus.OPEN).order_by(
            "due_date", "pk"
        )
    )


def _sale(patient: Patient) -> list[Receivable]:
    rows = Receivable.objects.filter(patient=patient, kind=ReceivableKind.PACKAGE, status=ReceivableStatus.OPEN)
    return list(rows.order_by("due_date", "pk"))


def _pay(patient: Patient, method: str, amount: str, receivables: list[Receivable], actor: User | None) -> Payment:
    return services.payment_take(
        clinic=patient.clinic, patient=patient, method=method, amount=Decimal(amount),
        receivables=[r.pk for r in receivables], actor=actor,
    )  # fmt: skip


def seed_billing(organization: Organization, clinics: dict[str, Clinic]) -> None:
    """Once: a second run finds payments and does nothing."""
    if Payment.objects.exists():
        return
    central = next(clinic for clinic in clinics.values() if clinic.is_central)
    if not central.pix_key:
        # A random key (EVP), as clinics register them: the Pix page shows a code for it.
        clinic_services.clinic_update(clinic=central, pix_key=DEMO_PIX_KEY, pix_city="Sao Paulo")
    membership = Membership.objects.filter(clinic=central, role=Role.RECEPTIONIST).select_related("user").first()
    actor = membership.user if membership else None

    camila = _patient("Camila")
    if camila and len(sessions := _open_sessions(camila)) >= 2:
        card = _pay(camila, Method.CARD, "240.00", sessions[:2], actor)
        # The second session was charged twice on the card machine: its part is given back.
        services.payment_refund(payment=card, receivables=[sessions[1].pk], actor=actor, reason="Estorno no cartão")
    larissa = _patient("Larissa")
    if larissa and (sessions := _open_sessions(larissa)):
        _pay(larissa, Method.CASH, "50.00", sessions[:1], actor)  # partly paid
    heitor = _patient("Heitor")
    if heitor and len(sessions := _open_sessions(heitor)) >= 2:
        _pay(heitor, Method.PIX, "300.00", sessions[:2], actor)  # 60.00 left as account credit
    joao = _patient("João")
    if joao and (sale := _sale(joao)):
        _pay(joao, Method.TRANSFER, str(sale[0].amount), sale[:1], actor)
    francisca = _patient("Francisca")
    if francisca and (sale := _sale(francisca)):
        _pay(francisca, Method.CASH, "500.00", sale[:1], actor)

    # A package sold in three monthly installments, the first one paid.
    template = catalog.visible_templates(clinic=central).filter(name="Pacote 10 sessões de Fisioterapia").first()
    if heitor and template is not None:
        ledger.package_link(patient=heitor, clinic=heitor.clinic, actor=actor, template=template,
                                      installments=3)  # fmt: skip
        installments = _sale(heitor)
        if installments:
            _pay(heitor, Method.PIX, str(installments[0].amount), installments[:1], actor)

    # A session paid from a package whose value per session differs from the price (K11, confirmed).
    gabriel = _patient("Gabriel")
    if gabriel:
        package = (
            PatientPackage.objects.filter(patient=gabriel, status=PackageStatus.ACTIVE, posting="total")
            .order_by("pk")
            .first()
        )
        sessions = _open_sessions(gabriel)
        if package is not None and sessions and package.sessions_available:
            services.payment_from_package(
                package=package, receivables=[sessions[0].pk], confirm_price=True, actor=actor
            )
