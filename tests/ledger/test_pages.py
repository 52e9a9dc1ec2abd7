"""The patient's package pages: list (K4), history (R2), link form (K1), manual
change (K7), deactivate / reactivate, renew now (K6) and delete."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import formats, timezone, translation
from django_scopes import scopes_disabled

from clinic.models import Role, Room
from clinic.tenancy import organization_scope
from packages.patient_packages import ledger
from packages.patient_packages.models import EntryKind, LedgerEntry, PackageStatus, PatientPackage
from scheduling import services as scheduling_services
from tests.conftest import login, make_member
from tests.ledger.conftest import book_session, set_status
from tests.packages.factories import ServiceFactory, make_template
from tests.patients.factories import PatientFactory

SAO_PAULO = ZoneInfo("America/Sao_Paulo")


class _Cells(HTMLParser):
    """The text of each cell of the rows marked `data-testid=<row_id>`, and the
    header cells of the table marked `data-testid=<table_id>`."""

    def __init__(self, row_id: str, table_id: str | None = None) -> None:
        super().__init__()
        self.row_id, self.table_id = row_id, table_id
        self.rows: list[list[str]] = []
        self.header: list[str] = []
        self._in_row = self._in_table = False
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "table" and self.table_id and attributes.get("data-testid") == self.table_id:
            self._in_table = True
        if tag == "tr" and attributes.get("data-testid") == self.row_id:
            self._in_row = True
            self.rows.append([])
        if tag in ("td", "th") and (self._in_row or (self._in_table and tag == "th")):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            text = re.sub(r"[ \t\r\n]+", " ", "".join(self._cell)).strip()
            if self._in_row:
                self.rows[-1].append(text)
            elif self._in_table:
                self.header.append(text)
            self._cell = None
        elif tag == "tr":
            self._in_row = False
        elif tag == "table":
            self._in_table = False

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def cells(content: bytes, row_id: str, table_id: str | None = None) -> _Cells:
    parser = _Cells(row_id, table_id)
    parser.feed(content.decode())
    return parser


def _list(patient) -> str:
    return f"/patients/{patient.pk}/packages/"


def _url(package, action: str) -> str:
    return f"/patients/{package.patient_id}/packages/{package.pk}/{action}/"


def _debit(package, start: dt.datetime | None = None):
    """A session of the package, booked and attended."""
    return book_session(package, start=start, status="attended")


def _credit(package, appointment) -> None:
    """The attended session was marked by mistake: back to scheduled."""
    set_status(appointment, "scheduled")


def _fresh(package) -> PatientPackage:
    with scopes_disabled():
        return PatientPackage.objects.get(pk=package.pk)


def _entries(package) -> list[str]:
    with scopes_disabled():
        return list(LedgerEntry.objects.filter(package=package).order_by("seq").values_list("kind", flat=True))


def _count_packages() -> int:
    with scopes_disabled():
        return PatientPackage.objects.count()


def _count_entries() -> int:
    with scopes_disabled():
        return LedgerEntry.objects.count()


@pytest.fixture
def manager(tenant_a):
    return make_member(tenant_a, "mary", Role.MANAGER)


@pytest.fixture
def physio_10(tenant_a):
    physio = ServiceFactory(clinic=tenant_a.central, name="Physiotherapy", price=Decimal("100.00"))
    return make_template(tenant_a.central, [(physio, 10)], name="Physio 10", price=Decimal("1000.00"))


# The list (K4) ------------------------------------------------------------------


@pytest.mark.django_db
def test_list_shows_number_values_balance_status_and_renewal(alice, patient, link) -> None:
    package = link(sessions=5, total="1000.00")
    _debit(package)
    _debit(package)
    response = login(alice).get(_list(patient))
    assert response.status_code == 200
    table = cells(response.content, "package-row", "packages-table")
    assert table.header == [
        "Package",
        "Linked on",
        "Total value",
        "Open value",
        "Sessions (balance)",
        "Status",
        "Renewal",
        "Actions",
    ]
    [row] = table.rows
    linked_on = _fresh(package).created_at.astimezone(SAO_PAULO)  # the clinic's time zone
    # Below 1400 px the link date and the renewal go under the name. A direct
    # package's name is stored in the clinic's language (pt-BR), whoever reads it.
    assert row[0] == f"Pacote de 5 sessões No. {package.number} · {linked_on:%m/%d/%Y} No renewal"
    assert row[1:7] == [
        f"{linked_on:%m/%d/%Y}",
        "R$\xa01,000.00",
        "R$\xa0600.00",
        "3 of 5",
        "Active",
        "No renewal",
    ]


@pytest.mark.django_db
def test_list_formats_money_in_the_users_language(alice, patient, link) -> None:
    link(sessions=5, total="1000.00")
    response = login(alice).get(_list(patient), headers={"accept-language": "pt-br"})
    [row] = cells(response.content, "package-row").rows
    assert row[2:4] == ["R$\xa01.000,00", "R$\xa01.000,00"]


@pytest.mark.django_db
def test_list_shows_monthly_renewal_and_finished_status(alice, patient, link, catalog_monthly) -> None:
    with organization_scope(patient.organization_id):
        monthly = ledger.package_link(patient=patient, clinic=patient.clinic, actor=alice, template=catalog_monthly)
    one = link(sessions=1, total="80.00")
    _debit(one)
    content = login(alice).get(_list(patient)).content
    rows = {row[0].split(" No. ")[0]: row for row in cells(content, "package-row").rows}
    month = monthly.renewed_through.strftime("%B %Y")
    assert rows["Pilates 2x"][6] == f"Renews monthly · renewed through {month}"
    assert rows["Pilates 2x"][4] == "8 of 8"
    assert rows["Pacote de 1 sessão"][4:6] == ["0 of 1", "Finished"]


@pytest.mark.django_db
def test_list_balance_details_show_booked_attended_remaining_available(alice, patient, link) -> None:
    package = link(sessions=5, total="500.00")
    _debit(package)
    book_session(package)
    content = login(alice).get(_list(patient)).content.decode()
    for name, value in {"total": 5, "used": 1, "booked": 1, "remaining": 4, "free": 3}.items():
        assert f'data-testid="balance-{name}">{value}<' in content


@pytest.mark.django_db
def test_list_shows_each_package_s_budget_this_month_for_a_monthly_plan(alice, tenant_a, patient) -> None:
    from scheduling import services as scheduling

    pilates = ServiceFactory(clinic=tenant_a.central, name="Pilates", price=Decimal("60.00"))
    plan = make_template(
        tenant_a.central, [(pilates, 16)], name="Pilates mensal", price=Decimal("960.00"), renewal="monthly",
        max_appointments=4,
    )  # fmt: skip
    insured = make_template(tenant_a.central, [(pilates, 10)], name="Convênio", max_amount=Decimal("240.00"))
    first_day = timezone.localdate(timezone=SAO_PAULO).replace(day=1)
    this_month = [dt.datetime.combine(first_day + dt.timedelta(days=d), dt.time(9), SAO_PAULO) for d in (1, 2, 3)]
    next_month = dt.datetime.combine((first_day + dt.timedelta(days=32)).replace(day=5), dt.time(9), SAO_PAULO)
    with organization_scope(patient.organization_id):
        monthly = ledger.package_link(patient=patient, clinic=patient.clinic, actor=alice, template=plan)
        budgeted = ledger.package_link(patient=patient, clinic=patient.clinic, actor=alice, template=insured)
        bookings = [(start, monthly) for start in [*this_month, next_month]]
        for start, package in [*bookings, (this_month[0] + dt.timedelta(hours=2), budgeted)]:
            scheduling.appointment_book(
                clinic=patient.clinic, patient=patient, start=start, actor=alice,
                lines=[scheduling.LineInput(pilates)], patient_package=package,
            )  # fmt: skip
    content = login(alice).get(_list(patient), headers={"accept-language": "en"}).content.decode()
    found = re.findall(r'data-package-id="(\d+)".*?data-level="(\w+)".*?aria-valuenow="([\d.]+)"', content, re.S)
    bars = {package_id: (level, percent) for package_id, level, percent in found}
    # 3 of this month's 4 appointments are booked (next month's does not
    # count): 75 % taken, but none used yet, so green.
    assert bars[str(monthly.pk)] == ("ok", "75.0")
    assert bars[str(budgeted.pk)] == ("ok", "25.0")
    assert "Budget this month" in content


@pytest.mark.django_db
def test_list_hides_deleted_packages_and_other_patients(alice, tenant_a, patient, link) -> None:
    kept = link(sessions=2, total="200.00")
    deleted = link(sessions=3, total="300.00")
    other = PatientFactory(clinic=tenant_a.central, full_name="Other Patient")
    link(sessions=7, total="700.00", patient=other)
    with organization_scope(patient.organization_id):
        scheduling_services.patient_package_delete(package=deleted, actor=alice)
    response = login(alice).get(_list(patient))
    assert [row.package.pk for row in response.context["rows"]] == [kept.pk]


def _actions(content: bytes) -> set[str]:
    text = content.decode()
    names = [
        "link-package",
        "balance-details",
        "package-history",
        "edit-package",
        "renew-package",
        "deactivate-package",
        "reactivate-package",
        "delete-package",
    ]
    return {name for name in names if f'data-testid="{name}"' in text}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        (
            "alice",
            {"link-package", "balance-details", "package-history", "edit-package", "deactivate-package"}
            | {"delete-package"},
        ),
        (
            "manager",
            {"link-package", "balance-details", "package-history", "edit-package", "deactivate-package"}
            | {"delete-package"},
        ),
        ("bob", {"link-package", "balance-details", "package-history"}),
        ("paula", {"balance-details", "package-history"}),
    ],
)
def test_list_offers_the_actions_each_role_may_take(persona, expected, request, patient, link) -> None:
    link(sessions=4, total="400.00")
    user = request.getfixturevalue(persona)
    assert _actions(login(user).get(_list(patient)).content) == expected


@pytest.mark.django_db
def test_list_offers_delete_only_without_debits_and_renew_only_for_monthly(
    alice, patient, link, catalog_monthly
) -> None:
    debited = link(sessions=4, total="400.00")
    _debit(debited)
    with organization_scope(patient.organization_id):
        monthly = ledger.package_link(patient=patient, clinic=patient.clinic, actor=alice, template=catalog_monthly)
    content = login(alice).get(_list(patient)).content.decode()
    rows = {pk: content.split(f'id="package-{pk}"')[1].split("</tr>")[0] for pk in (debited.pk, monthly.pk)}
    assert 'data-testid="delete-package"' not in rows[debited.pk]
    assert 'data-testid="deactivate-package"' in rows[debited.pk]
    assert 'data-testid="renew-package"' not in rows[debited.pk]
    assert 'data-testid="delete-package"' in rows[monthly.pk]
    assert 'data-testid="renew-package"' in rows[monthly.pk]


@pytest.mark.django_db
def test_list_of_a_patient_without_packages_invites_to_link(bob, patient) -> None:
    content = login(bob).get(_list(patient)).content.decode()
    assert "No packages yet" in content
    assert f'href="/patients/{patient.pk}/packages/link/"' in content


# History (R2) ---------------------------------------------------------------------


@pytest.mark.django_db
def test_history_shows_seed_columns_and_rows_after_debit_and_credit(bob, alice, patient, link) -> None:
    package = link(sessions=4, total="1000.00")
    session = dt.datetime(2025, 4, 1, 10, 0, tzinfo=SAO_PAULO)
    appointment = _debit(package, session)
    _credit(package, appointment)
    response = login(bob).get(_url(package, "history"))
    assert response.status_code == 200
    table = cells(response.content, "history-row", "history-table")
    assert table.header == [
        "Type",
        "Date",
        "Status",
        "Note",
        "Session balance",
        "Balance R$",
        "Average value",
        "By",
    ]
    with scopes_disabled(), translation.override("en"):
        dates = [
            formats.date_format(entry.created_at.astimezone(SAO_PAULO), "SHORT_DATETIME_FORMAT")
            for entry in LedgerEntry.objects.filter(package=package).order_by("seq")
        ]
    assert [row[1] for row in table.rows] == dates
    assert [[cell for i, cell in enumerate(row) if i != 1] for row in table.rows] == [
        ["created", "active", "Package created", "4", "1,000.00", "250.00", alice.get_full_name()],
        ["session debited", "active", "Debited by session Apr 1 10:00 AM", "3", "750.00", "250.00", "automatic"],
        ["session credited", "active", "Credited by session Apr 1 10:00 AM", "4", "1,000.00", "250.00", "automatic"],
    ]
    summary = response.content.decode()
    assert f"No. {package.number}" in summary
    assert "4 of 4" in summary


@pytest.mark.django_db
def test_history_shows_manual_changes_and_renewals(alice, patient, link, catalog_monthly) -> None:
    package = link(sessions=4, total="1000.00")
    with organization_scope(patient.organization_id):
        ledger.package_change(package=package, actor=alice, status=PackageStatus.INACTIVE)
        monthly = ledger.package_link(patient=patient, clinic=patient.clinic, actor=alice, template=catalog_monthly)
        ledger.package_renew(package=monthly, actor=alice)
    rows = cells(login(alice).get(_url(package, "history")).content, "history-row").rows
    assert rows[-1][0] == "manually changed"
    assert rows[-1][2:] == [
        "inactive", "Package changed: status: active \N{RIGHTWARDS ARROW} inactive", "4", "1,000.00", "250.00",
        alice.get_full_name(),
    ]  # fmt: skip
    monthly_rows = cells(login(alice).get(_url(monthly, "history")).content, "history-row").rows
    assert monthly_rows[-1][0] == "renewed"
    assert monthly_rows[-1][3].startswith("Renewed for ")
    assert monthly_rows[-1][4:] == ["16", "960.00", "60.00", alice.get_full_name()]


# Linking (K1) ---------------------------------------------------------------------


def _link_data(**changes) -> dict[str, str]:
    data = {
        "template": "",
        "sessions": "",
        "total_price": "",
        "paid_at": "2026-03-02",
        "insurer": "",
        "authorization": "",
        "room": "",
        "mobile": "",
        "reminder_hours": "",
        "notes": "",
    }
    return {**data, **changes}


@pytest.mark.django_db
def test_link_form_prefills_payment_date_mobile_and_insurer(bob, tenant_a) -> None:
    patient = PatientFactory(
        clinic=tenant_a.central, full_name="Ana Prefill", mobile="+5511987654321", default_insurer="Unimed"
    )
    response = login(bob).get(f"/patients/{patient.pk}/packages/link/")
    assert response.status_code == 200
    form = response.context["form"]
    assert form["mobile"].value() == "+55 11 98765-4321"
    assert form["insurer"].value() == "Unimed"
    assert form["paid_at"].value() is not None


@pytest.mark.django_db
def test_link_form_lists_only_active_templates_the_clinic_sees(bob, tenant_a, tenant_b, patient, physio_10) -> None:
    other_clinic = make_template(tenant_a.branch, [(ServiceFactory(clinic=tenant_a.branch), 3)], name="Branch only")
    make_template(tenant_a.central, [(ServiceFactory(clinic=tenant_a.central), 3)], name="Old", is_active=False)
    make_template(tenant_b.central, [(ServiceFactory(clinic=tenant_b.central), 3)], name="Foreign")
    response = login(bob).get(f"/patients/{patient.pk}/packages/link/")
    choices = [label for value, label in response.context["form"].fields["template"].choices if value]
    assert choices == ["Physio 10 · 10 sessions · R$\xa01,000.00"]
    # Posting a template the clinic does not see is refused like any invalid choice.
    response = login(bob).post(f"/patients/{patient.pk}/packages/link/", _link_data(template=str(other_clinic.pk)))
    assert response.status_code == 200
    assert "template" in response.context["form"].errors
    assert _count_packages() == 0


@pytest.mark.django_db
def test_link_from_template_with_appointment_fields(bob, tenant_a, patient, physio_10) -> None:
    with scopes_disabled():
        room = Room.objects.create(organization=tenant_a.organization, clinic=tenant_a.central, name="Room 2")
    data = _link_data(
        template=str(physio_10.pk),
        sessions="10",
        total_price="1,000.00",
        insurer="Unimed",
        authorization="AUTH-77",
        room=str(room.pk),
        mobile="(11) 98765-4321",
        reminder_hours="24",
        notes="Mondays",
    )
    response = login(bob).post(f"/patients/{patient.pk}/packages/link/", data)
    with scopes_disabled():
        package = PatientPackage.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/patients/{patient.pk}/packages/#package-{package.pk}"
    assert (package.name, package.template_id, package.sessions_total, package.amount_total) == (
        "Physio 10",
        physio_10.pk,
        10,
        Decimal("1000.00"),
    )
    assert (package.insurer, package.authorization, package.room_id, package.mobile) == (
        "Unimed",
        "AUTH-77",
        room.pk,
        "+5511987654321",
    )
    assert (package.reminder_hours, package.notes, package.paid_at) == (24, "Mondays", dt.date(2026, 3, 2))
    assert package.created_by.username == "bob"
    assert _entries(package) == [EntryKind.CREATED]
    assert package.terms["items"][0]["quantity"] == 10
    page = login(bob).get(_list(patient)).content
    assert cells(page, "package-row").rows[0][4] == "10 of 10"


@pytest.mark.django_db
def test_link_from_template_with_a_months_own_sessions_and_price(bob, patient, catalog_monthly) -> None:
    data = _link_data(template=str(catalog_monthly.pk), sessions="9", total_price="540.00")
    assert login(bob).post(f"/patients/{patient.pk}/packages/link/", data).status_code == 302
    with scopes_disabled():
        package = PatientPackage.objects.get()
    assert (package.name, package.sessions_total, package.amount_total, package.renewal) == (
        "Pilates 2x",
        9,
        Decimal("540.00"),
        "monthly",
    )


@pytest.mark.django_db
def test_link_direct_package(alice, patient) -> None:
    data = _link_data(sessions="3", total_price="1000.00")
    assert login(alice).post(f"/patients/{patient.pk}/packages/link/", data).status_code == 302
    with scopes_disabled():
        package = PatientPackage.objects.get()
    assert (package.name, package.template_id, package.sessions_total, package.amount_open) == (
        "Pacote de 3 sessões",  # stored in the clinic's language
        None,
        3,
        Decimal("1000.00"),
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"sessions": "0", "total_price": "1000.00"}, "sessions", "The number of sessions must be at least 1."),
        ({"sessions": "-2", "total_price": "1000.00"}, "sessions", "The number of sessions must be at least 1."),
        ({"sessions": "5", "total_price": "-10.00"}, "total_price", "The amount cannot be negative."),
        ({"sessions": "", "total_price": "100.00"}, "sessions", "Enter the number of sessions."),
        ({"sessions": "5", "total_price": ""}, "total_price", "Enter the total paid."),
        ({"sessions": "5", "total_price": "10", "mobile": "12"}, "mobile", "“12” is not a valid phone number."),
        ({"sessions": "five", "total_price": "10"}, "sessions", "Enter a whole number."),
    ],
)
def test_link_errors_show_on_the_form_and_write_nothing(bob, patient, changes, field, message) -> None:
    response = login(bob).post(f"/patients/{patient.pk}/packages/link/", _link_data(**changes))
    assert response.status_code == 200
    assert response.context["form"].errors[field] == [message]
    content = response.content.decode()
    assert message.replace("“", "&ldquo;").replace("”", "&rdquo;") in content or message in content
    assert "NaN" not in content
    assert (_count_packages(), _count_entries()) == (0, 0)


@pytest.mark.django_db
def test_link_refuses_a_room_of_another_clinic(alice, tenant_a, patient) -> None:
    with scopes_disabled():
        branch_room = Room.objects.create(organization=tenant_a.organization, clinic=tenant_a.branch, name="B1")
    data = _link_data(sessions="3", total_price="300.00", room=str(branch_room.pk))
    response = login(alice).post(f"/patients/{patient.pk}/packages/link/", data)
    assert "room" in response.context["form"].errors
    assert _count_packages() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "language", "texts"),
    [
        ("sessions=3&total_price=1000.00", "en", ["R$\xa0333.33", "(last R$\xa0333.34)"]),
        ("sessions=3&total_price=1.000,00", "pt-br", ["R$\xa0333,33", "R$\xa0333,34"]),
        ("sessions=4&total_price=1000.00", "en", ["R$\xa0250.00"]),
        (
            "sessions=0&total_price=1000.00",
            "en",
            ["The number of sessions must be at least 1: a price per session cannot be computed for zero sessions."],
        ),
        ("sessions=3&total_price=-5", "en", ["The amount cannot be negative."]),
        ("sessions=&total_price=", "en", ["the price per session is computed here"]),
    ],
)
def test_link_preview_computes_the_price_per_session(bob, patient, query, language, texts) -> None:
    response = login(bob).get(
        f"/patients/{patient.pk}/packages/link/preview/?{query}", headers={"accept-language": language}
    )
    content = response.content.decode()
    for text in texts:
        assert text in content
    assert "NaN" not in content
    if query.startswith("sessions=4"):
        assert 'data-testid="preview-last"' not in content


@pytest.mark.django_db
def test_link_terms_prefill_sessions_and_price_from_the_template(bob, patient, physio_10) -> None:
    response = login(bob).get(f"/patients/{patient.pk}/packages/link/terms/?template={physio_10.pk}")
    content = response.content.decode()
    assert 'name="sessions" value="10"' in content
    assert 'name="total_price" value="1000.00"' in content
    assert "R$\xa0100.00" in content
    direct = login(bob).get(f"/patients/{patient.pk}/packages/link/terms/?template=").content.decode()
    assert 'name="sessions" value=' not in direct


@pytest.mark.django_db
def test_link_terms_of_an_invisible_template_is_404(bob, tenant_b, patient) -> None:
    foreign = make_template(tenant_b.central, [(ServiceFactory(clinic=tenant_b.central), 3)], name="Foreign")
    response = login(bob).get(f"/patients/{patient.pk}/packages/link/terms/?template={foreign.pk}")
    assert response.status_code == 404


# Manual change (K7) ---------------------------------------------------------------


def _edit_data(package, **changes) -> dict[str, str]:
    data = {
        "sessions_total": str(package.sessions_total),
        "amount_total": str(package.amount_total),
        "paid_at": package.paid_at.isoformat() if package.paid_at else "",
        "status": package.status,
        "notes": package.notes,
    }
    return {**data, **changes}


@pytest.mark.django_db
def test_edit_sends_only_what_changed(manager, patient, link) -> None:
    package = link(sessions=4, total="1000.00", paid_at=dt.date(2026, 1, 5))
    response = login(manager).post(_url(package, "edit"), _edit_data(package, amount_total="1200.00"))
    assert response.status_code == 302
    with scopes_disabled():
        entry = LedgerEntry.objects.filter(package=package).latest("seq")
    assert entry.kind == EntryKind.MANUAL_CHANGE
    assert entry.details == {"changes": [{"field": "amount_total", "from": "1000.00", "to": "1200.00"}]}
    assert entry.average_price == Decimal("300.00")


@pytest.mark.django_db
def test_edit_without_changes_writes_nothing(alice, patient, link) -> None:
    package = link(sessions=4, total="1000.00")
    response = login(alice).post(_url(package, "edit"), _edit_data(package), follow=True)
    assert "Nothing was changed." in response.content.decode()
    assert _entries(package) == [EntryKind.CREATED]


@pytest.mark.django_db
def test_edit_refuses_fewer_sessions_than_used(alice, patient, link) -> None:
    package = link(sessions=4, total="1000.00")
    _debit(package)
    _debit(package)
    book_session(package)
    response = login(alice).post(_url(package, "edit"), _edit_data(package, sessions_total="2"))
    assert response.status_code == 200
    message = "Attended: 2, booked: 1. The package cannot have fewer than 3 sessions."
    assert response.context["form"].errors["sessions_total"] == [message]
    assert message in response.content.decode()
    assert _fresh(package).sessions_total == 4
    assert EntryKind.MANUAL_CHANGE not in _entries(package)


@pytest.mark.django_db
def test_edit_refuses_a_total_below_what_was_debited(alice, patient, link) -> None:
    package = link(sessions=4, total="1000.00")
    _debit(package)
    response = login(alice).post(_url(package, "edit"), _edit_data(package, amount_total="100.00"))
    assert response.context["form"].errors["amount_total"] == [
        "250.00 was already debited from this package: the total cannot be lower."
    ]


@pytest.mark.django_db
def test_edit_of_a_finished_package_keeps_its_status(alice, patient, link) -> None:
    package = link(sessions=1, total="100.00")
    _debit(package)
    package = _fresh(package)
    assert package.status == PackageStatus.FINISHED
    response = login(alice).post(_url(package, "edit"), _edit_data(package, sessions_total="3"))
    assert response.status_code == 302
    package = _fresh(package)
    assert (package.sessions_total, package.status) == (3, PackageStatus.ACTIVE)


# Deactivate, reactivate, renew, delete ----------------------------------------------


@pytest.mark.django_db
def test_deactivate_and_reactivate(alice, patient, link) -> None:
    package = link()
    client = login(alice)
    assert client.post(_url(package, "status"), {"status": "inactive"}).status_code == 302
    assert _fresh(package).status == PackageStatus.INACTIVE
    content = client.get(_list(patient)).content.decode()
    assert 'data-testid="reactivate-package"' in content
    assert client.post(_url(package, "status"), {"status": "active"}).status_code == 302
    assert _fresh(package).status == PackageStatus.ACTIVE
    assert client.post(_url(package, "status"), {"status": "finished"}).status_code == 400
    assert _entries(package) == [EntryKind.CREATED, EntryKind.MANUAL_CHANGE, EntryKind.MANUAL_CHANGE]


@pytest.mark.django_db
def test_renew_now_adds_the_next_month(alice, patient, catalog_monthly) -> None:
    with organization_scope(patient.organization_id):
        package = ledger.package_link(patient=patient, clinic=patient.clinic, actor=alice, template=catalog_monthly)
    first = package.renewed_through
    response = login(alice).post(_url(package, "renew"), follow=True)
    package = _fresh(package)
    assert (package.sessions_total, package.amount_total) == (16, Decimal("960.00"))
    assert package.renewed_through == (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    assert f"Package no. {package.number} renewed for {package.renewed_through:%B %Y}." in response.content.decode()


@pytest.mark.django_db
def test_renew_now_of_a_package_that_does_not_renew_is_refused(alice, patient, link) -> None:
    package = link()
    response = login(alice).post(_url(package, "renew"), follow=True)
    assert "This package does not renew." in response.content.decode()
    assert _entries(package) == [EntryKind.CREATED]


@pytest.mark.django_db
def test_delete_a_package_never_debited(alice, patient, link) -> None:
    package = link()
    client = login(alice)
    assert 'data-testid="confirm-delete"' in client.get(_url(package, "delete")).content.decode()
    response = client.post(_url(package, "delete"))
    assert response.status_code == 302
    assert _fresh(package).deleted_at is not None
    assert client.get(_list(patient)).context["rows"] == []
    assert client.get(_url(package, "history")).status_code == 404


@pytest.mark.django_db
def test_delete_of_a_debited_package_is_refused_and_suggests_deactivating(alice, patient, link) -> None:
    package = link()
    _debit(package)
    client = login(alice)
    page = client.get(_url(package, "delete")).content.decode()
    assert 'data-testid="delete-refused"' in page
    assert 'data-testid="confirm-delete"' not in page
    assert 'data-testid="deactivate-package"' in page
    response = client.post(_url(package, "delete"), follow=True)
    assert "Sessions of this package were already debited: deactivate it instead of deleting it." in (
        response.content.decode()
    )
    assert _fresh(package).deleted_at is None


# Permissions ------------------------------------------------------------------------


@pytest.mark.django_db
def test_receptionist_links_but_cannot_change_renew_or_delete(bob, patient, link) -> None:
    package = link()
    client = login(bob)
    assert client.get(f"/patients/{patient.pk}/packages/link/").status_code == 200
    assert client.get(_url(package, "edit")).status_code == 403
    assert client.post(_url(package, "edit"), _edit_data(package, sessions_total="9")).status_code == 403
    assert client.post(_url(package, "status"), {"status": "inactive"}).status_code == 403
    assert client.post(_url(package, "renew")).status_code == 403
    assert client.get(_url(package, "delete")).status_code == 403
    assert client.post(_url(package, "delete")).status_code == 403
    assert _entries(package) == [EntryKind.CREATED]


@pytest.mark.django_db
def test_professional_reads_but_cannot_link(paula, patient, link) -> None:
    package = link()
    client = login(paula)
    assert client.get(_list(patient)).status_code == 200
    assert client.get(_url(package, "history")).status_code == 200
    assert client.get(f"/patients/{patient.pk}/packages/link/").status_code == 403
    assert client.post(f"/patients/{patient.pk}/packages/link/", _link_data(sessions="3")).status_code == 403
    assert client.get(f"/patients/{patient.pk}/packages/link/preview/?sessions=3").status_code == 403
    assert _count_packages() == 1


@pytest.mark.django_db
def test_pages_need_a_login(patient, link) -> None:
    package = link()
    for url in (_list(patient), _url(package, "history"), f"/patients/{patient.pk}/packages/link/"):
        response = Client().get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


# Isolation: another organization's ids, another patient's package -------------------


def _all_urls(patient_id: int, package_id: int) -> list[tuple[str, str, dict[str, str]]]:
    base = f"/patients/{patient_id}/packages"
    return [
        ("get", f"{base}/", {}),
        ("get", f"{base}/link/", {}),
        ("post", f"{base}/link/", _link_data(sessions="3", total_price="300.00")),
        ("get", f"{base}/link/terms/?template=", {}),
        ("get", f"{base}/link/preview/?sessions=3&total_price=300", {}),
        ("get", f"{base}/{package_id}/history/", {}),
        ("get", f"{base}/{package_id}/edit/", {}),
        ("post", f"{base}/{package_id}/edit/", {"sessions_total": "9", "amount_total": "1", "status": "active"}),
        ("post", f"{base}/{package_id}/status/", {"status": "inactive"}),
        ("post", f"{base}/{package_id}/renew/", {}),
        ("get", f"{base}/{package_id}/delete/", {}),
        ("post", f"{base}/{package_id}/delete/", {}),
    ]


@pytest.mark.django_db
def test_another_organizations_patient_and_package_are_404_and_leak_nothing(
    alice, charlie, patient, foreign_patient_b, link
) -> None:
    own = link(sessions=4, total="1000.00")
    foreign = link(sessions=6, total="600.00", patient=foreign_patient_b)
    entries_before = _count_entries()
    for client, target, other in ((login(alice), foreign, own), (login(charlie), own, foreign)):
        for method, url, data in _all_urls(target.patient_id, target.pk):
            response = getattr(client, method)(url, data)
            assert response.status_code == 404, (method, url)
            content = response.content.decode()
            assert target.patient.full_name not in content
            assert target.number not in content
        # The same ids through one's own patient: the package is not that patient's.
        for method, url, data in _all_urls(other.patient_id, target.pk)[5:]:
            assert getattr(client, method)(url, data).status_code == 404, (method, url)
    assert _count_entries() == entries_before
    assert _count_packages() == 2


@pytest.mark.django_db
def test_another_patients_package_is_404_under_this_patient(alice, tenant_a, patient, link) -> None:
    other = PatientFactory(clinic=tenant_a.central, full_name="Other Patient")
    package = link(patient=other)
    client = login(alice)
    for method, url, data in _all_urls(patient.pk, package.pk)[5:]:
        assert getattr(client, method)(url, data).status_code == 404, (method, url)
    assert client.get("/patients/999999/packages/").status_code == 404
    assert client.get(f"/patients/{other.pk}/packages/999999/history/").status_code == 404


# The patient's file ---------------------------------------------------------------


@pytest.mark.django_db
def test_patient_file_lists_active_packages_with_their_balance(bob, patient, link) -> None:
    active = link(sessions=10, total="1000.00")
    _debit(active)
    _debit(active)
    _debit(active)
    inactive = link(sessions=2, total="100.00")
    with organization_scope(patient.organization_id):
        ledger.package_change(package=inactive, actor=None, status=PackageStatus.INACTIVE)
    response = login(bob).get(f"/patients/{patient.pk}/")
    (panel,) = [panel for panel in response.context["panels"] if panel.name == "packages"]
    assert panel.context["active_packages"] == [active]
    card = response.content.decode().split('data-testid="patient-packages"')[1].split("</div></div>")[0]
    items = [" ".join(item.split("</li>")[0].split()) for item in card.split('data-testid="file-package">')[1:]]
    assert len(items) == 1
    assert ">Pacote de 10 sessões</a>" in items[0]
    assert ">7 of 10</span>" in items[0]
    assert f'href="/patients/{patient.pk}/packages/"' in card
    assert f'href="/patients/{patient.pk}/packages/link/"' in card


# Query counts -------------------------------------------------------------------------


def _queries(client, path: str) -> int:
    with CaptureQueriesContext(connection) as context:
        assert client.get(path).status_code == 200
    return len(context.captured_queries)


@pytest.mark.django_db
def test_package_list_and_file_query_counts_do_not_grow(alice, tenant_a, patient, link) -> None:
    with scopes_disabled():
        room = Room.objects.create(organization=tenant_a.organization, clinic=tenant_a.central, name="Room 1")
    first = link(sessions=3, total="300.00", room=room)
    _debit(first)
    client = login(alice)
    paths = [_list(patient), f"/patients/{patient.pk}/"]
    one = [_queries(client, path) for path in paths]
    for i in range(12):
        package = link(sessions=4 + i, total="400.00", room=room if i % 2 else None)
        if i % 3 == 0:
            _debit(package)
    assert [_queries(client, path) for path in paths] == one


@pytest.mark.django_db
def test_history_query_count_does_not_grow(alice, patient, link) -> None:
    package = link(sessions=40, total="4000.00")
    client = login(alice)
    one = _queries(client, _url(package, "history"))
    for _ in range(15):
        appointment = _debit(package)
        _credit(package, appointment)
    with organization_scope(patient.organization_id):
        ledger.package_change(package=package, actor=alice, sessions_total=45)
    assert _queries(client, _url(package, "history")) == one
