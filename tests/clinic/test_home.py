"""The home page per role (issue 14): today's agenda, unpaid sessions,
packages about to run out, notes to write and the week's figures, in the
clinic's time zone and the reader's language, a fixed number of queries
whatever the rows, and nothing of another organization or clinic."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from django.utils.formats import date_format, time_format
from django_scopes import scopes_disabled

from billing.models import Method, Receivable
from clinic.models import Clinic, Professional, Role
from clinic.tenancy import organization_scope
from packages.patient_packages import ledger
from packages.patient_packages.models import PatientPackage
from patients.models import AccessLog, Patient
from scheduling import services
from scheduling.models import Appointment, EvolutionNote
from tests.conftest import login, make_member
from tests.factories import ProfessionalFactory
from tests.ledger.conftest import make_appointment
from tests.packages.factories import ServiceFactory, make_template
from tests.patients.factories import PatientFactory

NBSP = "\N{NO-BREAK SPACE}"


def clinic_now(clinic: Clinic) -> dt.datetime:
    return timezone.localtime(timezone.now(), ZoneInfo(clinic.time_zone))


def today_at(clinic: Clinic, hour: int, minute: int = 0) -> dt.datetime:
    """A time today in the clinic's time zone (past or future: still today)."""
    day = clinic_now(clinic).date()
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=ZoneInfo(clinic.time_zone))


def panel_names(response) -> list[str]:
    panels = response.context["panels"]
    return [panel.name for area in ("top", "main", "side") for panel in panels[area]]


def panel(response, name: str) -> dict:
    for area in ("top", "main", "side"):
        for rendered in response.context["panels"][area]:
            if rendered.name == name:
                return rendered.context
    raise AssertionError(f"no {name} card")


@pytest.fixture
def maggie(tenant_a):
    return make_member(tenant_a, "maggie", Role.MANAGER)


@pytest.fixture
def paula_calendar(tenant_a, paula) -> Professional:
    return ProfessionalFactory(clinic=tenant_a.central, organization=tenant_a.organization, name="Paula Reis",
                               user=paula)  # fmt: skip


@pytest.fixture
def colleague(tenant_a) -> Professional:
    return ProfessionalFactory(clinic=tenant_a.central, organization=tenant_a.organization, name="Renata Costa")


@pytest.fixture
def session_service(tenant_a):
    return ServiceFactory(clinic=tenant_a.central, name="Fisioterapia", price=Decimal("100.00"), duration_minutes=30)


def book(patient: Patient, start: dt.datetime, service, professional=None, status="scheduled", package=None):
    with organization_scope(patient.organization_id):
        return services.appointment_book(
            clinic=patient.clinic, patient=patient, start=start, lines=[services.LineInput(service)], actor=None,
            professional=professional, status=status, patient_package=package,
        ).appointment  # fmt: skip


def link_package(patient: Patient, sessions: int = 1, total: str = "300.00", **kwargs) -> PatientPackage:
    with organization_scope(patient.organization_id):
        return ledger.package_link(
            patient=patient, clinic=patient.clinic, actor=None, sessions=sessions, total_price=Decimal(total), **kwargs
        )


def scenario(tenant, professional: Professional, service, index: int, *, hour: int = 6) -> Patient:
    """One row of every card for one patient of the central clinic: a session
    today, an attended one yesterday without a note (overdue, unpaid), a
    package with one session left and a self-registration to review."""
    clinic = tenant.central
    patient = PatientFactory(clinic=clinic, full_name=f"Paciente {tenant.organization.name} {index:02d}",
                             needs_review=True, self_registered=True)  # fmt: skip
    book(patient, today_at(clinic, hour) + dt.timedelta(minutes=30 * index), service, professional)
    yesterday = today_at(clinic, hour) - dt.timedelta(days=1) + dt.timedelta(minutes=30 * index)
    book(patient, yesterday, service, professional, status="attended")
    link_package(patient)
    return patient


# Who sees what


@pytest.mark.django_db
def test_home_receptionist_sees_the_clinic_agenda_unpaid_sessions_and_packages_running_out(
    tenant_a, bob, paula_calendar, colleague, session_service
) -> None:
    patient = scenario(tenant_a, paula_calendar, session_service, 0, hour=7)
    other = PatientFactory(clinic=tenant_a.central, full_name="Otávio Colega")
    book(other, today_at(tenant_a.central, 9), session_service, colleague)

    response = login(bob).get("/")

    assert response.status_code == 200
    assert panel_names(response) == ["agenda", "unpaid", "running_out", "to_review"]
    agenda = panel(response, "agenda")
    assert [row.appointment.patient.full_name for row in agenda["rows"]] == [patient.full_name, "Otávio Colega"]
    assert agenda["total"] == 2
    assert not agenda["own"]
    unpaid = panel(response, "unpaid")["unpaid"]
    # Due today: the two sessions and the package's sale; overdue: yesterday's session.
    assert (unpaid.today_count, unpaid.today_open) == (3, Decimal("500.00"))
    assert (unpaid.overdue_count, unpaid.overdue_open) == (1, Decimal("100.00"))
    today = clinic_now(tenant_a.central).date()
    # Today's sessions by time, the sale after them, then the overdue ones.
    assert [(r.patient.full_name, r.kind, r.due_date) for r in unpaid.rows] == [
        (patient.full_name, "session", today),
        ("Otávio Colega", "session", today),
        (patient.full_name, "package", today),
        (patient.full_name, "session", today - dt.timedelta(days=1)),
    ]
    running_out = panel(response, "running_out")
    assert running_out["count"] == 1
    assert [(row.package.patient_id, row.free, row.low) for row, _url in running_out["rows"]] == [(patient.pk, 1, True)]
    assert panel(response, "to_review")["count"] == 1
    page = response.content.decode()
    assert "Otávio Colega" in page
    assert "Renata Costa" in page


@pytest.mark.django_db
def test_home_professional_sees_only_their_own_sessions_and_their_notes_to_write(
    tenant_a, paula, paula_calendar, colleague, session_service
) -> None:
    mine = PatientFactory(clinic=tenant_a.central, full_name="Mirela Minha")
    theirs = PatientFactory(clinic=tenant_a.central, full_name="Tales Alheio")
    book(mine, today_at(tenant_a.central, 8), session_service, paula_calendar)
    book(theirs, today_at(tenant_a.central, 8), session_service, colleague)
    yesterday = today_at(tenant_a.central, 10) - dt.timedelta(days=1)
    without_note = book(mine, yesterday, session_service, paula_calendar, status="attended")
    with_note = book(mine, yesterday + dt.timedelta(hours=1), session_service, paula_calendar, status="attended")
    book(theirs, yesterday, session_service, colleague, status="attended")
    with organization_scope(tenant_a.organization):
        services.evolution_note_add(appointment=with_note, author=paula, text="Evoluiu bem.")
    # Older than the card's 30 days: no longer asked for.
    book(mine, yesterday - dt.timedelta(days=40), session_service, paula_calendar, status="attended")

    response = login(paula).get("/")

    assert panel_names(response) == ["agenda", "notes"]
    agenda = panel(response, "agenda")
    assert agenda["own"]
    assert [row.appointment.patient.full_name for row in agenda["rows"]] == ["Mirela Minha"]
    notes = panel(response, "notes")
    assert notes["count"] == 1
    assert [appointment.pk for appointment, _url in notes["rows"]] == [without_note.pk]
    assert notes["rows"][0][1] == f"/calendar/?date={yesterday.date().isoformat()}"
    page = response.content.decode()
    assert "Tales Alheio" not in page
    assert "Your sessions today" in page
    assert "1 attended session of the last 30 days has no evolution note yet." in page


@pytest.mark.django_db
def test_home_professional_without_a_calendar_is_told_how_to_get_one(tenant_a, paula, colleague,
                                                                     session_service) -> None:  # fmt: skip
    other = PatientFactory(clinic=tenant_a.central, full_name="Tales Alheio")
    book(other, today_at(tenant_a.central, 8), session_service, colleague)

    response = login(paula).get("/")

    assert panel_names(response) == ["agenda"]
    assert panel(response, "agenda")["no_calendar"] is True
    page = response.content.decode()
    assert "not linked to a professional's calendar in this clinic yet" in page
    assert "Tales Alheio" not in page


@pytest.mark.django_db
def test_home_manager_and_owner_see_the_week_but_only_the_owner_with_a_calendar_notes(
    tenant_a, alice, maggie, session_service
) -> None:
    ProfessionalFactory(clinic=tenant_a.central, organization=tenant_a.organization, name="Alice Dona", user=alice)

    owner = login(alice).get("/")
    manager = login(maggie).get("/")

    assert panel_names(owner) == ["week", "agenda", "notes", "unpaid", "running_out"]
    assert panel_names(manager) == ["week", "agenda", "unpaid", "running_out"]
    assert [figure.name for figure in panel(manager, "week")["figures"]] == [
        "attended", "cancelled", "new_patients", "revenue", "packages_sold"
    ]  # fmt: skip


@pytest.mark.django_db
def test_home_empty_cards_say_so_and_offer_the_next_step(tenant_a, bob) -> None:
    page = login(bob).get("/").content.decode()

    assert "No sessions are booked for today." in page
    assert "Nothing is due today and nothing is overdue." in page
    assert "No active package is about to run out." in page
    assert 'data-testid="home-review"' not in page  # nothing to review: no card
    today = clinic_now(tenant_a.central).date()
    assert f'href="/calendar/?date={today.isoformat()}"' in page
    assert "Book a session" in page


@pytest.mark.django_db
def test_home_empty_agenda_tells_when_the_next_session_is(tenant_a, bob, session_service) -> None:
    patient = PatientFactory(clinic=tenant_a.central, full_name="Amanhã Cedo")
    cancelled = book(patient, today_at(tenant_a.central, 8), session_service)
    with organization_scope(tenant_a.organization):
        services.appointment_set_status(appointment=cancelled, status="cancelled", actor=None)
    tomorrow = today_at(tenant_a.central, 9) + dt.timedelta(days=1)
    book(patient, tomorrow, session_service)

    response = login(bob).get("/")

    agenda = panel(response, "agenda")
    assert (agenda["total"], agenda["released"]) == (0, 1)
    assert agenda["next_url"] == f"/calendar/?date={tomorrow.date().isoformat()}"
    page = response.content.decode()
    assert "No sessions are booked for today. 1 session was cancelled." in page
    day, date, time = (date_format(tomorrow, name) for name in ("l", "SHORT_DATE_FORMAT", "TIME_FORMAT"))
    assert f"Next session: {day}, {date} at {time}" in page


# The week's figures


@pytest.mark.django_db
def test_home_week_figures_compare_with_the_same_days_of_last_week(tenant_a, maggie, session_service) -> None:
    clinic = tenant_a.central
    now = clinic_now(clinic)
    monday = dt.datetime.combine(now.date() - dt.timedelta(days=now.weekday()), dt.time.min, tzinfo=now.tzinfo)
    this_week = monday + (now - monday) / 2
    last_week = this_week - dt.timedelta(days=7)
    patients = [PatientFactory(clinic=clinic, full_name=f"Semana {i}") for i in range(4)]
    old = PatientFactory(clinic=clinic, full_name="Semana passada")
    with scopes_disabled():
        Patient.objects.filter(pk=old.pk).update(created_at=last_week)
    for patient, status in zip(patients, ["attended", "attended", "cancelled", "missed"], strict=True):
        appointment = make_appointment(patient, this_week)
        with scopes_disabled():
            Appointment.objects.filter(pk=appointment.pk).update(status=status)
    with scopes_disabled():
        Appointment.objects.filter(pk=make_appointment(old, last_week).pk).update(status="attended")
        # Next week's sessions are not this week's figures.
        Appointment.objects.filter(pk=make_appointment(old, now + dt.timedelta(days=8)).pk).update(status="attended")
    with organization_scope(tenant_a.organization):
        from billing import services as billing

        billing.payment_take(clinic=clinic, patient=patients[0], method=Method.PIX, amount=Decimal("150.00"),
                             actor=None, received_at=this_week)  # fmt: skip
        billing.payment_take(clinic=clinic, patient=old, method=Method.CASH, amount=Decimal("80.00"), actor=None,
                             received_at=last_week)  # fmt: skip
    sold = link_package(patients[1], sessions=10, total="1000.00")
    earlier = link_package(old, sessions=5, total="500.00")
    with scopes_disabled():
        PatientPackage.objects.filter(pk=earlier.pk).update(created_at=last_week)

    response = login(maggie).get("/")

    figures = {figure.name: figure for figure in panel(response, "week")["figures"]}
    assert {name: (figure.value, figure.previous) for name, figure in figures.items()} == {
        "attended": (2, 1),
        "cancelled": (2, 0),
        "new_patients": (4, 1),
        "revenue": (Decimal("150.00"), Decimal("80.00")),
        "packages_sold": (1, 1),
    }
    assert figures["cancelled"].trend == "bad"
    assert figures["attended"].trend == "good"
    assert figures["cancelled"].detail == "1 cancelled · 1 absence"
    assert figures["packages_sold"].detail == f"R${NBSP}1,000.00"
    assert figures["revenue"].url == "/finance/payments/"
    assert figures["attended"].url == f"/calendar/?date={monday.date().isoformat()}"
    assert figures["packages_sold"].url == (
        f"/reports/sales/?start={monday.date().isoformat()}&end={now.date().isoformat()}"
    )
    assert sold.pk
    page = response.content.decode()
    assert f"R${NBSP}150.00" in page
    assert f"last week: R${NBSP}80.00" in page


# Time zone and language


@pytest.mark.django_db
def test_home_today_is_the_clinic_today_not_the_server_day(tenant_a, bob) -> None:
    # A zone whose date differs from UTC's right now (one of the two always does).
    now = timezone.now()
    zone = next(
        name
        for name in ("Pacific/Kiritimati", "Pacific/Pago_Pago")
        if timezone.localtime(now, ZoneInfo(name)).date() != now.astimezone(dt.UTC).date()
    )
    with scopes_disabled():
        Clinic.objects.filter(pk=tenant_a.central.pk).update(time_zone=zone)
    tz = ZoneInfo(zone)
    local_day, utc_day = timezone.localtime(now, tz).date(), now.astimezone(dt.UTC).date()
    today = PatientFactory(clinic=tenant_a.central, full_name="Hoje Local")
    server_day = PatientFactory(clinic=tenant_a.central, full_name="Dia do Servidor")
    noon = dt.datetime.combine(local_day, dt.time(12), tzinfo=tz)
    make_appointment(today, noon)
    make_appointment(server_day, dt.datetime.combine(utc_day, dt.time(12), tzinfo=tz))

    response = login(bob).get("/")

    agenda = panel(response, "agenda")
    assert [row.appointment.patient.full_name for row in agenda["rows"]] == ["Hoje Local"]
    assert agenda["calendar_url"] == f"/calendar/?date={local_day.isoformat()}"
    assert response.context["today"] == local_day
    page = response.content.decode()
    # Its time is read in the clinic's zone, not in UTC's.
    assert time_format(dt.time(12), "TIME_FORMAT") in page
    assert time_format(noon.astimezone(dt.UTC).time(), "TIME_FORMAT") not in page


@pytest.mark.django_db
def test_home_speaks_the_reader_language_with_its_money_and_dates(tenant_a, bob, paula_calendar,
                                                                  session_service) -> None:  # fmt: skip
    patient = scenario(tenant_a, paula_calendar, session_service, 0)
    client = login(bob)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "pt-br"

    page = client.get("/").content.decode()

    yesterday = clinic_now(tenant_a.central).date() - dt.timedelta(days=1)
    assert f"R${NBSP}100,00" in page
    with translation.override("pt-br"):
        assert date_format(yesterday, "SHORT_DATE_FORMAT") in page
    assert patient.full_name in page

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    english = client.get("/").content.decode()
    assert f"R${NBSP}100.00" in english
    assert date_format(yesterday, "SHORT_DATE_FORMAT") in english
    assert "2 sessions today" not in english
    assert "1 session today" in english


# Links


@pytest.mark.django_db
def test_home_numbers_link_to_the_calendar_receivables_and_packages(tenant_a, bob, paula_calendar,
                                                                    session_service) -> None:  # fmt: skip
    patient = scenario(tenant_a, paula_calendar, session_service, 0)
    today = clinic_now(tenant_a.central).date()
    yesterday = today - dt.timedelta(days=1)

    response = login(bob).get("/")

    page = response.content.decode()
    with scopes_disabled():
        package = PatientPackage.objects.get(patient=patient)
        receivable_ids = list(Receivable.objects.filter(patient=patient).values_list("pk", flat=True))
    assert len(receivable_ids) == 3  # today's session, yesterday's, the package's sale
    assert f'href="/calendar/?date={today.isoformat()}"' in page
    assert f'href="/finance/?status=open&amp;start={today.isoformat()}&amp;end={today.isoformat()}"' in page
    assert f'href="/finance/?status=open&amp;end={yesterday.isoformat()}"' in page
    assert f'href="/patients/{patient.pk}/packages/#package-{package.pk}"' in page
    assert f'href="/patients/{patient.pk}/"' in page
    for receivable_id in receivable_ids:
        assert f'href="/finance/pay/?receivables={receivable_id}"' in page
    assert 'href="/patients/?status=to_review"' in page


# Query counts


def _count_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/")
    assert response.status_code == 200
    return len(queries)


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["alice", "bob", "paula", "maggie"])
def test_home_query_count_does_not_grow_with_the_rows(
    request, persona, tenant_a, alice, bob, paula, maggie, paula_calendar, session_service
) -> None:
    if persona == "alice":
        ProfessionalFactory(clinic=tenant_a.central, organization=tenant_a.organization, name="Alice", user=alice)
    client = login(request.getfixturevalue(persona))
    scenario(tenant_a, paula_calendar, session_service, 0)
    client.get("/")  # the first request warms what is read once per process
    one = _count_queries(client)
    for index in range(1, 9):
        scenario(tenant_a, paula_calendar, session_service, index)
    many = _count_queries(client)

    assert many == one
    response = client.get("/")
    assert len(panel(response, "agenda")["rows"]) == 9


@pytest.mark.django_db
def test_home_agenda_shows_the_first_sessions_and_says_how_many_more(tenant_a, bob, paula_calendar,
                                                                     session_service) -> None:  # fmt: skip
    from scheduling import home_panel

    for index in range(home_panel.AGENDA_ROWS + 2):
        patient = PatientFactory(clinic=tenant_a.central, full_name=f"Fila {index:02d}")
        make_appointment(patient, today_at(tenant_a.central, 0, 0) + dt.timedelta(minutes=20 * index))

    response = login(bob).get("/")

    agenda = panel(response, "agenda")
    assert len(agenda["rows"]) == home_panel.AGENDA_ROWS
    assert agenda["more"] == 2
    assert agenda["total"] == home_panel.AGENDA_ROWS + 2
    assert "And 2 more in the calendar" in response.content.decode()


# Tenancy and the access log


@pytest.mark.django_db
def test_home_shows_nothing_of_another_organization_or_another_clinic(
    tenant_a, tenant_b, alice, bob, charlie, paula_calendar, session_service
) -> None:
    ours = scenario(tenant_a, paula_calendar, session_service, 0)
    foreign_calendar = ProfessionalFactory(clinic=tenant_b.central, organization=tenant_b.organization,
                                           name="Profissional Beta")  # fmt: skip
    foreign_service = ServiceFactory(clinic=tenant_b.central, name="Sessão Beta", price=Decimal("777.00"),
                                     duration_minutes=30)  # fmt: skip
    theirs = scenario(tenant_b, foreign_calendar, foreign_service, 0)
    branch_patient = PatientFactory(clinic=tenant_a.branch, full_name="Filial Alfa", needs_review=True)
    book(branch_patient, today_at(tenant_a.branch, 9), ServiceFactory(clinic=tenant_a.branch, name="Filial"))
    link_package(branch_patient)

    for user in (alice, bob):
        response = login(user).get("/")
        page = response.content.decode()
        assert ours.full_name in page
        assert theirs.full_name not in page
        assert "Profissional Beta" not in page
        assert "777" not in page
        assert "Filial Alfa" not in page
        assert panel(response, "running_out")["count"] == 1
        assert panel(response, "unpaid")["unpaid"].count == 3
    beta = login(charlie).get("/")
    page = beta.content.decode()
    assert theirs.full_name in page
    assert ours.full_name not in page
    assert "Filial Alfa" not in page
    figures = {figure.name: figure.value for figure in panel(beta, "week")["figures"]}
    assert figures["new_patients"] == 1
    assert figures["packages_sold"] == 1


@pytest.mark.django_db
def test_home_records_who_read_which_patients(tenant_a, bob, paula_calendar, session_service) -> None:
    patients = [scenario(tenant_a, paula_calendar, session_service, index) for index in range(2)]
    hidden = PatientFactory(clinic=tenant_a.central, full_name="Sem Nada Hoje")

    login(bob).get("/")

    with scopes_disabled():
        logged = list(AccessLog.objects.filter(user=bob, what="home").values_list("patient_id", flat=True))
    assert sorted(logged) == sorted(patient.pk for patient in patients)
    assert hidden.pk not in logged


# Packages about to run out


@pytest.mark.django_db
def test_running_out_counts_budget_limits_validity_and_leaves_monthly_plans_alone(
    tenant_a, bob, session_service
) -> None:
    clinic = tenant_a.central
    many_free = PatientFactory(clinic=clinic, full_name="Muitas Livres")
    link_package(many_free, sessions=10, total="1000.00")
    # Ten sessions, but the budget allows two appointments: one booked leaves one.
    capped = PatientFactory(clinic=clinic, full_name="Orçamento Curto")
    template = make_template(clinic, [(session_service, 10)], name="Convênio", max_appointments=2)
    with organization_scope(tenant_a.organization):
        capped_package = ledger.package_link(patient=capped, clinic=clinic, actor=None, template=template)
    book(capped, today_at(clinic, 10) + dt.timedelta(days=3), session_service, package=capped_package)
    # A monthly plan renews: a full month is no reason to call.
    monthly = PatientFactory(clinic=clinic, full_name="Plano Mensal")
    with organization_scope(tenant_a.organization):
        plan = ledger.package_link(
            patient=monthly,
            clinic=clinic,
            actor=None,
            sessions=1,
            template=make_template(
                clinic, [(session_service, 8)], name="Pilates 2x", price=Decimal("480.00"), renewal="monthly"
            ),
        )
    # Validity: one ends in ten days, one ended last week, one in two months.
    ending = PatientFactory(clinic=clinic, full_name="Validade Curta")
    ended = PatientFactory(clinic=clinic, full_name="Validade Vencida")
    later = PatientFactory(clinic=clinic, full_name="Validade Longa")
    today = clinic_now(clinic).date()
    for patient, days_left in ((ending, 10), (ended, -7), (later, 60)):
        package = link_package(patient, sessions=10, total="1000.00")
        with scopes_disabled():
            PatientPackage.objects.filter(pk=package.pk).update(validity_days=30)
            linked = dt.datetime.combine(today - dt.timedelta(days=30 - days_left), dt.time(12),
                                         tzinfo=ZoneInfo(clinic.time_zone))  # fmt: skip
            PatientPackage.objects.filter(pk=package.pk).update(created_at=linked)

    response = login(bob).get("/")

    card = panel(response, "running_out")
    rows = {row.package.patient.full_name: row for row, _url in card["rows"]}
    assert set(rows) == {"Orçamento Curto", "Validade Curta", "Validade Vencida"}
    assert (rows["Orçamento Curto"].free, rows["Orçamento Curto"].low) == (1, True)
    assert rows["Validade Curta"].expires == today + dt.timedelta(days=10)
    assert rows["Validade Vencida"].expires == today - dt.timedelta(days=7)
    assert next(iter(rows)) == "Orçamento Curto"  # fewest free first
    assert plan.pk
    page = response.content.decode()
    assert "expired on" in page
    assert "valid until" in page


@pytest.mark.django_db
def test_notes_to_write_ignore_sessions_with_a_note_and_other_clinics(tenant_a, paula, paula_calendar,
                                                                      session_service) -> None:  # fmt: skip
    patient = PatientFactory(clinic=tenant_a.central, full_name="Nota Pendente")
    yesterday = today_at(tenant_a.central, 9) - dt.timedelta(days=1)
    pending = [book(patient, yesterday + dt.timedelta(hours=h), session_service, paula_calendar, status="attended")
               for h in range(3)]  # fmt: skip
    with scopes_disabled():
        EvolutionNote.objects.create(organization=tenant_a.organization, appointment=pending[0], author=paula,
                                     text="Ok")  # fmt: skip

    response = login(paula).get("/")

    notes = panel(response, "notes")
    assert notes["count"] == 2
    assert [appointment.pk for appointment, _url in notes["rows"]] == [pending[2].pk, pending[1].pk]
