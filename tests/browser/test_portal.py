"""Journeys (X7, A6, A7): a patient asks for a code, sees "sessão 4 de 10",
books a slot online and cancels it; a receptionist sees the online booking
and its reminder."""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from clinic.models import Role
from clinic.services import clinic_update
from clinic.tenancy import organization_scope
from packages.patient_packages import ledger
from scheduling import services
from scheduling.models import Appointment
from tests.conftest import make_member, make_tenant
from tests.factories import PASSWORD, ProfessionalFactory, WorkingHoursFactory
from tests.packages.factories import ServiceFactory, make_template
from tests.patients.factories import PatientFactory

pytestmark = pytest.mark.django_db(transaction=True)
SP = ZoneInfo("America/Sao_Paulo")


def _clinic_with_a_patient_at_session_4():
    tenant = make_tenant("Clínica Sol")
    make_member(tenant, "recepcao", Role.RECEPTIONIST)
    clinic = tenant.central
    with organization_scope(tenant.organization):
        clinic_update(clinic=clinic, online_booking=True, online_notice_hours=2, cancellation_hours=1,
                      phone="(11) 3123-4567")  # fmt: skip
        clinic.refresh_from_db()
        physio = ServiceFactory(clinic=clinic, name="Fisioterapia", price=Decimal("100.00"), duration_minutes=50)
        marcos = ProfessionalFactory(clinic=clinic, organization=clinic.organization, name="Marcos Lima")
        for weekday in range(6):
            WorkingHoursFactory(professional=marcos, organization=clinic.organization, weekday=weekday,
                                starts_at=dt.time(8), ends_at=dt.time(12))  # fmt: skip
        maria = PatientFactory(clinic=clinic, full_name="Maria Souza", mobile="+5511987654321")
        template = make_template(clinic, [(physio, 10)], name="Fisioterapia 10 sessões", price=Decimal("1000.00"))
        package = ledger.package_link(patient=maria, clinic=clinic, actor=None, template=template)
        for days in (21, 14, 7):
            start = dt.datetime.combine(timezone.localdate() - dt.timedelta(days=days), dt.time(9), tzinfo=SP)
            done = services.appointment_book(clinic=clinic, patient=maria, start=start, professional=marcos,
                                             lines=[services.LineInput(physio)], actor=None,
                                             patient_package=package).appointment  # fmt: skip
            services.appointment_set_status(appointment=done, status="attended", actor=None)
    return clinic, maria, marcos


def test_a_patient_signs_in_with_a_code_books_online_and_cancels(page, settings, tmp_path: Path,
                                                                 screenshot_dir) -> None:  # fmt: skip
    settings.MESSAGING_BACKEND = "file"
    settings.MESSAGING_FILE = str(tmp_path / "messages.jsonl")
    clinic, maria, _marcos = _clinic_with_a_patient_at_session_4()
    base = page.base_url + f"/c/{clinic.portal_token}/"
    page.goto(base)
    page.fill("#id_contact", "(11) 98765-4321")
    page.get_by_role("button", name="Me envie um código").click()
    expect(page.get_by_test_id("portal-code-sent")).to_be_visible()
    sent = json.loads(Path(settings.MESSAGING_FILE).read_text().splitlines()[-1])
    code = re.search(r"\b(\d{6})\b", sent["text"]).group(1)
    page.fill("#id_code", code)
    page.get_by_role("button", name="Abrir minha página").click()
    expect(page.get_by_test_id("portal-patient")).to_contain_text("Maria Souza")
    expect(page.get_by_test_id("portal-package")).to_contain_text("3 de 10 sessões usadas")
    page.screenshot(path=str(screenshot_dir / "portal-home.png"), full_page=True)

    page.get_by_test_id("portal-book").click()
    page.get_by_test_id("portal-offer").filter(has_text="Fisioterapia").click()
    slot = page.get_by_test_id("portal-slot").first
    expect(slot).to_be_visible()
    page.screenshot(path=str(screenshot_dir / "portal-slots.png"), full_page=True)
    slot.click()
    session = page.get_by_test_id("portal-session").first
    expect(session).to_contain_text("sessão 4 de 10")
    expect(page.get_by_role("status")).to_contain_text("Agendado")
    with scopes_disabled():
        appointment = Appointment.objects.get(patient=maria, booked_online=True)

    # The receptionist sees it on the calendar, marked as booked online, with its reminder.
    reception = page.context.browser.new_context(viewport={"width": 1366, "height": 800}, locale="pt-BR")
    desk = reception.new_page()
    desk.goto(page.base_url + "/accounts/login/")
    desk.fill("#id_username", "recepcao")
    desk.fill("#id_password", PASSWORD)
    desk.locator("button[type=submit]").first.click()
    day = timezone.localtime(appointment.start, SP).date()
    desk.goto(page.base_url + f"/calendar/?date={day.isoformat()}")
    event = desk.locator(f"[data-testid=calendar-event][data-appointment='{appointment.pk}']")
    expect(event).to_have_attribute("data-online", "true")
    event.click()
    expect(desk.get_by_test_id("booked-online")).to_be_visible()
    expect(desk.get_by_test_id("reminder")).to_have_attribute("data-status", "scheduled")
    desk.screenshot(path=str(screenshot_dir / "calendar-online-booking.png"))
    reception.close()

    page.get_by_test_id("portal-cancel").first.click()
    expect(page.get_by_role("status")).to_contain_text("cancelada")
    with scopes_disabled():
        appointment.refresh_from_db()
    assert appointment.status == "cancelled"
    expect(page.get_by_test_id("portal-package")).to_contain_text("7 livres para agendar")
