"""The template list as Excel (S4, R3), read back with openpyxl."""

from __future__ import annotations

from decimal import Decimal
from io import BytesIO

import pytest
from openpyxl import load_workbook

from packages.catalog.models import CommissionKind, Posting, Renewal
from tests.conftest import login
from tests.packages.factories import ServiceLimitFactory, add_own_item, make_template

HEADER = [
    "Name",
    "Clinic",
    "Shared",
    "Status",
    "Items",
    "Sessions",
    "Total price",
    "Price per session",
    "Last session price",
    "Validity (days)",
    "Renewal",
    "Financial posting",
    "Commission",
    "Commission value",
    "Maximum appointments",
    "Maximum total amount",
    "Trigger service",
]
BRL = '"R$" #,##0.00;-"R$" #,##0.00'


def _sheet(response):
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response["Content-Disposition"] == 'attachment; filename="package-templates.xlsx"'
    return load_workbook(BytesIO(response.content)).active


@pytest.mark.django_db
def test_export_has_real_numbers_currency_formats_frozen_header_and_autofilter(alice, tenant_a, catalog) -> None:
    make_template(
        tenant_a.central,
        [(catalog.physio, 3)],
        name="Physio 3",
        price=Decimal("1000.00"),
        validity_days=30,
        renewal=Renewal.MONTHLY,
        posting=Posting.TOTAL,
        commission_kind=CommissionKind.PERCENT,
        commission_value=Decimal("30.00"),
        max_appointments=3,
        max_amount=Decimal("1500.00"),
        trigger_service=catalog.physio,
        is_shared=True,
    )
    sheet = _sheet(login(alice).get("/packages/templates/export.xlsx"))
    assert sheet.title == "Package templates"
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:Q4"
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == HEADER
    assert [row[0] for row in rows[1:]] == ["Home visits 5", "Physio 10", "Physio 3"]
    assert list(rows[3]) == [
        "Physio 3",
        "Alpha Central",
        "Yes",
        "Active",
        "3 \N{MULTIPLICATION SIGN} Physiotherapy session",
        3,
        1000,
        333.33,
        333.34,
        30,
        "Renews every month",
        "Total (the whole price when linked)",
        "Percent of the session value",
        30,
        3,
        1500,
        "Physiotherapy session",
    ]
    cells = {sheet.cell(row=1, column=i + 1).value: sheet.cell(row=4, column=i + 1) for i in range(len(HEADER))}
    for title in ("Total price", "Price per session", "Last session price", "Maximum total amount"):
        assert cells[title].data_type == "n"
        assert cells[title].number_format == BRL
    assert cells["Sessions"].data_type == "n"
    assert cells["Commission value"].number_format == '0.00" %"'
    assert sheet.cell(row=1, column=1).font.bold
    # A template without commission, validity or limits leaves those cells empty.
    assert list(rows[1])[9:] == [
        None,
        "No renewal",
        "Per procedure (each attended session)",
        "No commission",
        None,
        None,
        None,
        None,
    ]


@pytest.mark.django_db
def test_export_follows_the_list_filters(alice, tenant_a, catalog) -> None:
    make_template(tenant_a.central, [(catalog.physio, 4)], name="Physio 4 (old)", is_active=False, is_shared=True)
    client = login(alice)

    def names(query: str) -> list[str]:
        sheet = _sheet(client.get(f"/packages/templates/export.xlsx{query}"))
        return [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]

    assert names("") == ["Home visits 5", "Physio 10"]
    assert names("?status=deactivated") == ["Physio 4 (old)"]
    assert names("?status=all&name=physio") == ["Physio 10", "Physio 4 (old)"]
    assert names("?status=all&shared=false") == ["Home visits 5"]
    assert names("?name=nothing") == []
    empty = _sheet(client.get("/packages/templates/export.xlsx?name=nothing"))
    assert empty.auto_filter.ref == "A1:Q1"


@pytest.mark.django_db
def test_export_from_a_clinic_shows_what_that_clinic_sees(mary, tenant_a, catalog) -> None:
    add_own_item(catalog.physio_10, tenant_a.branch, catalog.kinesio, 2)
    ServiceLimitFactory(template=catalog.physio_10, service=catalog.physio, max_quantity=10)
    rows = list(_sheet(login(mary).get("/packages/templates/export.xlsx")).iter_rows(min_row=2, values_only=True))
    assert [(row[0], row[1], row[4], row[5], row[7]) for row in rows] == [
        ("Kinesio 4", "Alpha Branch", "4 \N{MULTIPLICATION SIGN} Kinesio taping", 4, 50),
        (
            "Physio 10",
            "Alpha Central",
            "10 \N{MULTIPLICATION SIGN} Physiotherapy session; 2 \N{MULTIPLICATION SIGN} Kinesio taping",
            12,
            83.33,
        ),
    ]


@pytest.mark.django_db
def test_export_is_translated(alice, catalog) -> None:
    client = login(alice)
    client.post("/i18n/setlang/", {"language": "pt-br"})
    sheet = _sheet(client.get("/packages/templates/export.xlsx"))
    assert sheet.cell(row=1, column=1).value == "Nome"
