"""Journeys of the calendar.

A receptionist opens the calendar, clicks a free slot, finds the patient by
typing part of the name, books a session against the patient's package
(watching its budget bar), sees it on the calendar, marks it attended in the
modal (the package shows one session used), and a booking past the package's
budget shows the budget error.

A receptionist drags an appointment to another day and time on the week view
(it moves, and stays there after a reload); dragging it onto a slot where its
professional is busy is refused: the event goes back and the error shows.

In a clinic of several professionals (issue 14) the receptionist books from
the day view with a column per professional (registering a new patient from
the modal), moves the session to another professional and time, and undoes
it; a browser in another time zone shows the clinic's times and now line; a
phone shows one day in one column, filtered by professional. Marking a
session of next week attended asks first."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from clinic.models import Role
from clinic.tenancy import organization_scope
from packages.patient_packages import ledger
from patients.models import Patient
from scheduling import services
from scheduling.models import Appointment
from tests.conftest import make_member, make_tenant
from tests.factories import PASSWORD, ProfessionalFactory, WorkingHoursFactory
from tests.packages.factories import ServiceFactory, make_template
from tests.patients.factories import PatientFactory


def pick_patient(modal, typed: str, name: str, *, keyboard: bool = False, screenshot: Path | None = None) -> None:
    """Find the patient in the booking modal's search and click the match (or
    go down to it with the arrow keys and press Enter)."""
    search = modal.get_by_test_id("patient-search")
    search.fill(typed)
    option = modal.get_by_test_id("patient-option").filter(has_text=name)
    expect(option).to_have_count(1)
    if screenshot is not None:
        modal.page.screenshot(path=str(screenshot))
    if keyboard:
        names = [item.get_attribute("data-patient-name") for item in modal.get_by_test_id("patient-option").all()]
        search.press("ArrowDown")
        for _ in range(names.index(name)):
            modal.page.keyboard.press("ArrowDown")
        expect(option).to_be_focused()
        modal.page.keyboard.press("Enter")
    else:
        option.click()
    expect(modal.get_by_test_id("patient-chosen")).to_have_text(name)


def click_slot(page, day: dt.date, time: str) -> None:
    """Click the calendar's empty slot at `time` ("10:00:00") of `day`."""
    column = page.locator(f".fc-timegrid-col[data-date='{day.isoformat()}']").bounding_box()
    row = page.locator(f".fc-timegrid-slot-lane[data-time='{time}']").bounding_box()
    assert column
    assert row
    page.mouse.click(column["x"] + column["width"] / 2, row["y"] + row["height"] / 2)


@pytest.mark.django_db(transaction=True)
def test_receptionist_books_marks_attended_and_hits_the_budget(page, screenshot_dir) -> None:
    tenant = make_tenant("Clínica Sol")
    make_member(tenant, "recepcao", Role.RECEPTIONIST)
    physio = ServiceFactory(clinic=tenant.central, name="Fisioterapia", price=Decimal("100.00"), duration_minutes=50)
    ProfessionalFactory(clinic=tenant.central, organization=tenant.organization, name="Renata Costa")
    template = make_template(
        tenant.central, [(physio, 10)], name="Fisio convênio", price=Decimal("1000.00"), max_amount=Decimal("200.00")
    )
    patient = PatientFactory(
        clinic=tenant.central, full_name="Conceição Araújo", birth_date=dt.date(1958, 11, 2), mobile="+5511987654321"
    )
    PatientFactory(clinic=tenant.central, full_name="Maria da Conceição", birth_date=dt.date(1990, 3, 8))
    with organization_scope(tenant.organization):
        package = ledger.package_link(patient=patient, clinic=tenant.central, actor=None, template=template)

    # A Wednesday of next week, in the clinic's time zone.
    today = timezone.now().astimezone(ZoneInfo("America/Sao_Paulo")).date()
    day = today - dt.timedelta(days=today.weekday()) + dt.timedelta(days=9)

    page.goto(page.base_url + "/accounts/login/")
    page.fill("#id_username", "recepcao")
    page.fill("#id_password", PASSWORD)
    page.locator("button[type=submit]").first.click()
    page.goto(page.base_url + f"/calendar/?date={day.isoformat()}")
    expect(page.locator(".fc-timegrid-slot-lane[data-time='10:00:00']")).to_be_visible()

    # Click the free slot at 10:00: the modal opens with the start prefilled.
    click_slot(page, day, "10:00:00")
    modal = page.get_by_test_id("appointment-modal")
    expect(modal.locator("#id_start")).to_have_value(f"{day.isoformat()}T10:00")
    pick_patient(modal, "conceicao", "Conceição Araújo", screenshot=screenshot_dir / "calendar-patient-search.png")
    expect(modal.locator("#id_patient")).to_have_value(str(patient.pk))
    modal.locator("#id_lines-0-service").select_option(str(physio.pk))
    expect(modal.locator("#id_lines-0-price")).to_have_value(re.compile(r"^100[.,]00$"))  # in the reader's locale
    option = modal.locator(f"[data-testid=package-option][data-package='{package.pk}']")
    expect(option.locator("input[type=radio]")).to_be_checked()
    expect(option.get_by_test_id("budget-bar")).to_have_attribute("data-level", "ok")  # 100 of 200
    page.screenshot(path=str(screenshot_dir / "calendar-booking-modal.png"))
    modal.get_by_test_id("save-appointment").click()
    expect(modal).to_be_hidden()

    event = page.get_by_test_id("calendar-event").filter(has_text="Conceição Araújo")
    expect(event).to_have_count(1)
    expect(event).to_have_attribute("data-status", "scheduled")
    with scopes_disabled():
        appointment = Appointment.objects.get(patient=patient)
    assert appointment.start == dt.datetime.combine(day, dt.time(10), tzinfo=ZoneInfo("America/Sao_Paulo"))
    assert appointment.patient_package_id == package.pk
    page.screenshot(path=str(screenshot_dir / "calendar-week.png"), full_page=True)

    # Mark it attended in the modal: the session is next week, so the modal
    # asks first; "No" leaves it, "Yes" marks it and the package shows one session used.
    event.click()
    expect(modal.get_by_test_id("current-status")).to_have_attribute("data-status", "scheduled")
    modal.get_by_test_id("status-attended").click()
    question = modal.get_by_test_id("status-confirm-question")
    expect(question).to_be_visible()
    expect(question).to_contain_text("10:00")
    page.screenshot(path=str(screenshot_dir / "calendar-attended-ahead-question.png"))
    modal.get_by_test_id("status-confirm-no").click()
    expect(modal.get_by_test_id("status-confirm")).to_have_count(0)
    expect(modal.get_by_test_id("current-status")).to_have_attribute("data-status", "scheduled")
    package.refresh_from_db()
    assert (package.sessions_used, package.sessions_booked) == (0, 1)
    modal.get_by_test_id("status-attended").click()
    modal.get_by_test_id("status-confirm-yes").click()
    expect(modal.get_by_test_id("current-status")).to_have_attribute("data-status", "attended")
    expect(page.get_by_test_id("calendar-event").filter(has_text="Conceição Araújo")).to_have_attribute(
        "data-status", "attended"
    )
    package.refresh_from_db()
    assert (package.sessions_used, package.sessions_booked) == (1, 0)
    modal.locator(".modal-header [data-bs-dismiss=modal]").click()
    expect(modal).to_be_hidden()

    # Two more units (200.00) would take the package to 300.00 of its 200.00.
    expect(page.locator(".modal-backdrop")).to_have_count(0)
    click_slot(page, day, "14:00:00")
    expect(modal.locator("#id_start")).to_have_value(f"{day.isoformat()}T14:00")
    pick_patient(modal, "conceicao", "Conceição Araújo", keyboard=True)
    modal.locator("#id_lines-0-service").select_option(str(physio.pk))
    modal.locator("#id_lines-0-quantity").fill("2")
    bar = option.get_by_test_id("budget-bar")
    expect(bar.get_by_test_id("budget-percent")).to_have_text("150,0\u00a0%")
    expect(bar.get_by_test_id("budget-exceeded")).to_contain_text("200,00")
    expect(bar).to_have_attribute("data-level", "ok")  # 100,00 of 200,00 used: green, the excess is the booking
    modal.get_by_test_id("save-appointment").click()
    expect(modal.get_by_test_id("form-errors")).to_contain_text("200,00")
    expect(modal).to_be_visible()
    page.screenshot(path=str(screenshot_dir / "calendar-budget-error.png"))
    with scopes_disabled():
        assert Appointment.objects.filter(patient=patient).count() == 1


# Drag and drop --------------------------------------------------------------------------------------

SP = ZoneInfo("America/Sao_Paulo")


def drag_event(page, event, day: dt.date, time: str) -> None:
    """Drag `event` by its first half hour onto the slot at `time` of `day`
    with real mouse moves (FullCalendar starts a drag only after the pointer
    has travelled a few pixels with the button down)."""
    column = page.locator(f".fc-timegrid-col[data-date='{day.isoformat()}']").bounding_box()
    row = page.locator(f".fc-timegrid-slot-lane[data-time='{time}']").bounding_box()
    assert column
    assert row
    drag_onto(page, event, column["x"] + column["width"] / 2, row["y"] + 6)


def drag_onto(page, event, x: float, y: float) -> None:
    """Press `event` by its top and move it onto the point (x, y), once the
    calendar can be dragged: a closed modal's backdrop fades out after the
    modal (a press on it drags nothing), and a refetch ending mid-drag
    redraws the event under the mouse."""
    expect(page.locator(".modal-backdrop")).to_have_count(0)
    expect(page.get_by_test_id("calendar")).to_have_attribute("aria-busy", "false")
    source = event.bounding_box()
    assert source
    page.mouse.move(source["x"] + source["width"] / 2, source["y"] + 6)
    page.mouse.down()
    page.mouse.move(source["x"] + source["width"] / 2, source["y"] + 20, steps=5)
    page.mouse.move(x, y, steps=20)
    expect(page.locator(".fc-event-mirror")).to_have_count(1)
    page.mouse.up()


def week_with_an_appointment() -> tuple[Appointment, Appointment, dt.date]:
    """Next week's Wednesday 10:00 for Conceição with Renata, who is also
    busy on Thursday at 14:00 (another patient)."""
    tenant = make_tenant("Clínica Sol")
    make_member(tenant, "recepcao", Role.RECEPTIONIST)
    physio = ServiceFactory(clinic=tenant.central, name="Fisioterapia", price=Decimal("100.00"), duration_minutes=50)
    renata = ProfessionalFactory(clinic=tenant.central, organization=tenant.organization, name="Renata Costa")
    today = timezone.now().astimezone(SP).date()
    wednesday = today - dt.timedelta(days=today.weekday()) + dt.timedelta(days=9)
    thursday = wednesday + dt.timedelta(days=1)
    booked = []
    with organization_scope(tenant.organization):
        for name, day, hour in (("Conceição Araújo", wednesday, 10), ("Otávio Lima", thursday, 14)):
            booking = services.appointment_book(
                clinic=tenant.central,
                patient=PatientFactory(clinic=tenant.central, full_name=name),
                start=dt.datetime.combine(day, dt.time(hour), tzinfo=SP),
                lines=[services.LineInput(physio)],
                actor=None,
                professional=renata,
            )
            booked.append(booking.appointment)
    return booked[0], booked[1], wednesday


def open_week(page, day: dt.date):
    page.goto(page.base_url + "/accounts/login/")
    page.fill("#id_username", "recepcao")
    page.fill("#id_password", PASSWORD)
    page.locator("button[type=submit]").first.click()
    page.goto(page.base_url + f"/calendar/?date={day.isoformat()}")
    event = page.get_by_test_id("calendar-event").filter(has_text="Conceição Araújo")
    expect(event).to_have_count(1)
    return event


def event_in(page, day: dt.date, name: str):
    return page.locator(f".fc-timegrid-col[data-date='{day.isoformat()}'] [data-testid=calendar-event]").filter(
        has_text=name
    )


@pytest.mark.django_db(transaction=True)
def test_dragging_an_appointment_moves_it(page, screenshot_dir) -> None:
    appointment, _busy, wednesday = week_with_an_appointment()
    thursday = wednesday + dt.timedelta(days=1)
    event = open_week(page, wednesday)

    with page.expect_response(lambda response: "/move/" in response.url) as answer:
        drag_event(page, event, thursday, "11:00:00")
    assert answer.value.status == 200
    appointment.refresh_from_db()
    assert (appointment.start, appointment.end) == (
        dt.datetime.combine(thursday, dt.time(11), tzinfo=SP),
        dt.datetime.combine(thursday, dt.time(11, 50), tzinfo=SP),
    )
    expect(event_in(page, thursday, "Conceição Araújo")).to_have_count(1)

    # The calendar shows it there after a reload too, and only there.
    page.reload()
    moved = event_in(page, thursday, "Conceição Araújo")
    expect(moved).to_have_count(1)
    expect(moved).to_contain_text("11:00")
    expect(event_in(page, wednesday, "Conceição Araújo")).to_have_count(0)
    page.screenshot(path=str(screenshot_dir / "calendar-drag-moved.png"))


@pytest.mark.django_db(transaction=True)
def test_dragging_onto_the_professionals_busy_slot_is_refused(page, screenshot_dir) -> None:
    appointment, _busy, wednesday = week_with_an_appointment()
    thursday = wednesday + dt.timedelta(days=1)
    event = open_week(page, wednesday)

    with page.expect_response(lambda response: "/move/" in response.url) as answer:
        drag_event(page, event, thursday, "14:00:00")
    assert answer.value.status == 409
    toast = page.get_by_test_id("toast").filter(has_text="Otávio Lima")
    expect(toast).to_be_visible()
    expect(toast).to_have_css("opacity", "1")  # faded in, readable
    expect(toast).to_have_attribute("data-level", "danger")
    # Names the conflicting appointment by its time and patient, never an id.
    expect(toast).to_contain_text(f"{thursday:%d/%m/%Y} 14:00, Otávio Lima.")
    expect(toast).not_to_contain_text("agendamento")  # no "(agendamento 4)": people read names, not ids
    # The event went back to Wednesday 10:00.
    expect(event_in(page, wednesday, "Conceição Araújo")).to_have_count(1)
    expect(event_in(page, thursday, "Conceição Araújo")).to_have_count(0)
    page.screenshot(path=str(screenshot_dir / "calendar-drag-refused.png"))
    start, end = appointment.start, appointment.end
    appointment.refresh_from_db()
    assert (appointment.start, appointment.end) == (start, end)
    assert start == dt.datetime.combine(wednesday, dt.time(10), tzinfo=SP)


# The day view by professional (issue 14) ---------------------------------------------------------------------


def login_as(page, username: str) -> None:
    page.goto(page.base_url + "/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.locator("button[type=submit]").first.click()


def column(page, day: dt.date, professional_id: int | str):
    return page.locator(f".fc-timegrid-col[data-date='{day.isoformat()}'][data-resource-id='{professional_id}']")


def at_day(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=SP)


def helena_in(page, day: dt.date, professional):
    return column(page, day, professional.pk).get_by_test_id("calendar-event").filter(has_text="Helena Prado")


def point_in(page, target, time: str) -> tuple[float, float]:
    box = target.bounding_box()
    row = page.locator(f".fc-timegrid-slot-lane[data-time='{time}']").bounding_box()
    assert box
    assert row
    return box["x"] + box["width"] / 2, row["y"] + 6


def drag_to(page, event, target, time: str) -> None:
    """Drag `event` by its top onto the slot at `time` of the column `target`."""
    drag_onto(page, event, *point_in(page, target, time))


def two_professionals(day: dt.date):
    """A clinic of two physiotherapists who both work `day` 08:00-18:00."""
    tenant = make_tenant("Clínica Sol")
    make_member(tenant, "recepcao", Role.RECEPTIONIST)
    physio = ServiceFactory(clinic=tenant.central, name="Fisioterapia", price=Decimal("100.00"), duration_minutes=50)
    people = []
    for name in ("Ana Lima", "Renata Costa"):
        person = ProfessionalFactory(clinic=tenant.central, organization=tenant.organization, name=name)
        WorkingHoursFactory(professional=person, weekday=day.weekday(), starts_at=dt.time(8), ends_at=dt.time(18))
        people.append(person)
    return tenant, physio, people[0], people[1]


def next_wednesday() -> dt.date:
    today = timezone.now().astimezone(SP).date()
    return today - dt.timedelta(days=today.weekday()) + dt.timedelta(days=9)


@pytest.mark.django_db(transaction=True)
def test_receptionist_books_in_a_professionals_column_moves_it_to_another_and_undoes_it(page, screenshot_dir):
    day = next_wednesday()
    tenant, physio, ana, renata = two_professionals(day)
    login_as(page, "recepcao")
    page.goto(page.base_url + f"/calendar/?date={day.isoformat()}")

    # Several professionals: the day opens with a column each, their hours unshaded.
    resources = page.get_by_test_id("calendar-resource")
    expect(resources).to_have_text(["Ana Lima", "Renata Costa"])
    title = page.locator(".fc-toolbar-title")
    expect(title).to_have_text(re.compile(rf"^[a-zç]+-feira, {day.day} de [a-zç]+ de {day.year}$"))
    expect(page.locator(".fc-next-button")).to_have_attribute("title", "Próximo dia")

    # A click in Ana's column at 10:00 books with Ana; the patient is new: registered from the modal.
    page.mouse.click(*point_in(page, column(page, day, ana.pk), "10:00:00"))
    modal = page.get_by_test_id("appointment-modal")
    expect(modal.locator("#id_start")).to_have_value(f"{day.isoformat()}T10:00")
    expect(modal.locator("#id_professional")).to_have_value(str(ana.pk))
    modal.get_by_test_id("patient-search").fill("Helena Prado")
    expect(modal.get_by_test_id("patient-no-match")).to_be_visible()
    modal.get_by_test_id("patient-new").click()
    quick = modal.get_by_test_id("patient-new-form")
    expect(quick.locator("#id_new_patient-full_name")).to_have_value("Helena Prado")
    # The cursor moves to the name once htmx settles the form: typing before
    # that moment could land in the name instead of the field filled next.
    expect(quick.locator("#id_new_patient-full_name")).to_be_focused()
    expect(quick.locator("#id_new_patient-professional")).to_have_value(str(ana.pk))
    quick.locator("#id_new_patient-mobile").fill("123")
    quick.locator("#id_new_patient-email").fill("helena@")
    quick.locator("#id_new_patient-email").press("Enter")  # registers, never books
    errors = modal.get_by_test_id("patient-new-errors")
    expect(errors).to_be_visible()
    expect(modal.locator("#id_new_patient-mobile ~ .invalid-feedback")).to_have_count(1)
    expect(modal.locator("#id_new_patient-email ~ .invalid-feedback")).to_have_count(1)
    page.screenshot(path=str(screenshot_dir / "calendar-new-patient-errors.png"))
    modal.locator("#id_new_patient-mobile").fill("(11) 98765-4321")
    modal.locator("#id_new_patient-email").fill("helena@example.com")
    modal.get_by_test_id("patient-new-save").click()
    expect(modal.get_by_test_id("patient-chosen")).to_have_text("Helena Prado")
    expect(modal.get_by_test_id("patient-registered")).to_be_visible()
    with scopes_disabled():
        helena = Patient.objects.get(full_name="Helena Prado")
        assert (helena.mobile, helena.organization_id) == ("+5511987654321", tenant.organization.pk)
        assert not Appointment.objects.exists()
    expect(modal.locator("#id_patient")).to_have_value(str(helena.pk))
    modal.locator("#id_lines-0-service").select_option(str(physio.pk))
    modal.get_by_test_id("save-appointment").click()
    expect(modal).to_be_hidden()

    event = helena_in(page, day, ana)
    expect(event).to_have_count(1)
    with scopes_disabled():
        appointment = Appointment.objects.get(patient=helena)
    assert (appointment.start, appointment.professional_id) == (
        dt.datetime.combine(day, dt.time(10), tzinfo=SP),
        ana.pk,
    )
    page.screenshot(path=str(screenshot_dir / "calendar-day-by-professional.png"))

    # Dragged to Renata's column at 11:00: the session is Renata's, and the toast offers Undo.
    with page.expect_response(lambda response: "/move/" in response.url) as answer:
        drag_to(page, event, column(page, day, renata.pk), "11:00:00")
    assert answer.value.status == 200
    toast = page.get_by_test_id("toast").filter(has_text="Renata Costa")
    expect(toast).to_contain_text("11:00")
    expect(toast).to_have_attribute("data-level", "success")
    expect(column(page, day, renata.pk).get_by_test_id("calendar-event").filter(has_text="Helena Prado")).to_have_count(
        1
    )
    appointment.refresh_from_db()
    assert (appointment.start, appointment.professional_id) == (
        dt.datetime.combine(day, dt.time(11), tzinfo=SP),
        renata.pk,
    )
    page.screenshot(path=str(screenshot_dir / "calendar-moved-with-undo.png"))

    with page.expect_response(lambda response: "/move/" in response.url) as answer:
        toast.get_by_test_id("toast-action").click()
    assert answer.value.status == 200
    expect(page.get_by_test_id("toast").filter(has_text="Ana Lima")).to_contain_text("10:00")
    expect(helena_in(page, day, ana)).to_have_count(1)
    expect(column(page, day, renata.pk).get_by_test_id("calendar-event")).to_have_count(0)
    appointment.refresh_from_db()
    assert (appointment.start, appointment.professional_id) == (
        dt.datetime.combine(day, dt.time(10), tzinfo=SP),
        ana.pk,
    )

    # The week stays one click away, its title in lower case where the language writes it so.
    page.locator(".fc-timeGridWeek-button").click()
    expect(title).to_contain_text(f" de {day.year}")
    expect(title).not_to_contain_text(" De ")
    expect(page.locator(".fc-next-button")).to_have_attribute("title", "Próxima semana")


@pytest.mark.django_db(transaction=True)
def test_the_calendar_keeps_the_clinics_time_in_another_browser_time_zone(browser, live_server, screenshot_dir):
    today = timezone.now().astimezone(SP).date()
    tenant, physio, ana, _renata = two_professionals(today)
    with organization_scope(tenant.organization):
        services.appointment_book(
            clinic=tenant.central, patient=PatientFactory(clinic=tenant.central, full_name="Conceição Araújo"),
            start=dt.datetime.combine(today, dt.time(9), tzinfo=SP), lines=[services.LineInput(physio)],
            actor=None, professional=ana,
        )  # fmt: skip
    # A browser in Tokyo (12 hours ahead of São Paulo), whose clock says 15:00 at the clinic: 03:00 tomorrow there.
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="pt-BR", timezone_id="Asia/Tokyo")
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.base_url = live_server.url
    page.clock.set_fixed_time(dt.datetime.combine(today, dt.time(15), tzinfo=SP))
    try:
        assert page.evaluate("new Date().getHours()") == 3
        login_as(page, "recepcao")
        page.goto(page.base_url + "/calendar/")
        # The clinic's today, not Tokyo's.
        expect(column(page, today, ana.pk)).to_have_class(re.compile(r"\bfc-day-today\b"))
        event = page.get_by_test_id("calendar-event").filter(has_text="Conceição Araújo")
        expect(event).to_have_count(1)
        nine = page.locator(".fc-timegrid-slot-lane[data-time='09:00:00']").bounding_box()
        three_pm = page.locator(".fc-timegrid-slot-lane[data-time='15:00:00']").bounding_box()
        box = event.bounding_box()
        now_line = page.locator(".fc-timegrid-now-indicator-line").first
        expect(now_line).to_be_visible()
        line = now_line.bounding_box()
        assert nine
        assert three_pm
        assert box
        assert line
        assert abs(box["y"] - nine["y"]) < 3  # the 09:00 session at 09:00
        assert abs(line["y"] - three_pm["y"]) < 3  # the now line at the clinic's 15:00
        page.screenshot(path=str(screenshot_dir / "calendar-browser-in-tokyo.png"))
    finally:
        context.close()


@pytest.mark.django_db(transaction=True)
def test_a_phone_shows_one_day_in_one_column_filtered_by_professional(browser, live_server, screenshot_dir):
    day = next_wednesday()
    tenant, physio, ana, renata = two_professionals(day)
    with organization_scope(tenant.organization):
        for name, person, hour in (("Conceição Araújo", ana, 9), ("Otávio Lima", renata, 11)):
            services.appointment_book(
                clinic=tenant.central, patient=PatientFactory(clinic=tenant.central, full_name=name),
                start=dt.datetime.combine(day, dt.time(hour), tzinfo=SP), lines=[services.LineInput(physio)],
                actor=None, professional=person,
            )  # fmt: skip
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-US", is_mobile=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.base_url = live_server.url
    try:
        login_as(page, "recepcao")
        page.goto(page.base_url + f"/calendar/?date={day.isoformat()}")
        expect(page.locator(".fc-timegrid-col.fc-day")).to_have_count(1)
        expect(page.get_by_test_id("calendar-resource")).to_have_count(0)
        expect(page.get_by_test_id("calendar-event")).to_have_count(2)
        # English buttons are capitalised.
        expect(page.locator(".fc-today-button")).to_have_text("Today")
        expect(page.locator(".fc-timeGridDay-button")).to_have_text("Day")
        expect(page.locator(".fc-timeGridWeek-button")).to_have_text("Week")
        page.get_by_test_id("filter-professional").select_option(str(ana.pk))
        expect(page.get_by_test_id("calendar-event")).to_have_count(1)
        expect(page.get_by_test_id("calendar-event")).to_contain_text("Conceição Araújo")
        page.screenshot(path=str(screenshot_dir / "calendar-phone-day.png"), full_page=True)
    finally:
        context.close()
