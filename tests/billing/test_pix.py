"""Pix BR Codes against the Central Bank's published examples, and the
receivable's Pix page."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django_scopes import scopes_disabled

from billing import pix
from billing.models import Payment
from clinic.models import Clinic
from clinic.tenancy import organization_scope
from tests.billing.conftest import book_session, fresh, receivable_of
from tests.conftest import api_client, login

# Manual de Padrões para Iniciação do Pix, static example (random key, no amount, txid ***).
MANUAL_STATIC = (
    "00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-426655440000"
    "5204000053039865802BR5913Fulano de Tal6008BRASILIA62070503***63041D3D"
)
# The manual's composite example: only its CRC is checked here (it carries fields a clinic does not use).
MANUAL_COMPOSITE = (
    "00020104141234567890123426580014BR.GOV.BCB.PIX0136123e4567-e12b-12d1-a456-42665544000027300012BR.COM.OUTRO"
    "011001234567895204000053039865406123.455802BR5917NOME DO RECEBEDOR6008BRASILIA61087007490062190515RP12345678-"
    "201980390012BR.COM.OUTRO01190123.ABCD.3456.WXYZ6304AD38"
)


def test_crc16_is_ccitt_false():
    assert pix.crc16("123456789") == "29B1"  # the algorithm's published check value
    assert pix.crc16(MANUAL_COMPOSITE[:-4]) == "AD38"


def test_the_static_example_of_the_manual():
    code = pix.brcode(key="123e4567-e12b-12d1-a456-426655440000", name="Fulano de Tal", city="BRASILIA")
    assert code == MANUAL_STATIC


def test_amount_reference_and_accents():
    code = pix.brcode(key="clinica@example.com", name="Clínica São João Fisioterapia Ltda", city="São Paulo",
                      amount=Decimal("120.00"), txid=pix.reference("REC-42"))  # fmt: skip
    assert "5406120.00" in code
    assert "5925Clinica Sao Joao Fisioter" in code  # at most 25 letters, no accents
    assert "6009Sao Paulo" in code
    assert "62090505REC42" in code
    assert code[-4:] == pix.crc16(code[:-4])
    assert pix.qr_svg(code).startswith("<svg")


@pytest.fixture
def pix_clinic(patient):
    with scopes_disabled():
        Clinic.objects.filter(pk=patient.clinic_id).update(pix_key="+5511987654321", pix_city="São Paulo")


@pytest.mark.django_db
def test_the_pix_page_shows_the_code_and_registers_the_payment(bob, patient, pix_clinic):
    with organization_scope(patient.organization_id):
        receivable = receivable_of(book_session(None, patient=patient))
    client = login(bob)
    listing = client.get(f"/finance/?patient={patient.pk}").content.decode()
    assert f"/finance/receivables/{receivable.pk}/pix/" in listing
    page = client.get(f"/finance/receivables/{receivable.pk}/pix/")
    code = page.context["code"]
    assert "0114+5511987654321" in code
    assert "5406100.00" in code
    assert code[-4:] == pix.crc16(code[:-4])
    assert 'data-testid="pix-qr"' in page.content.decode()
    response = client.post(f"/finance/receivables/{receivable.pk}/pix/")
    assert response.status_code == 302
    with scopes_disabled():
        payment = Payment.objects.get()
    assert (payment.method, payment.amount) == ("pix", Decimal("100.00"))
    assert fresh(receivable).status == "paid"


@pytest.mark.django_db
def test_without_a_pix_key_the_page_says_where_to_add_it(bob, patient):
    with organization_scope(patient.organization_id):
        receivable = receivable_of(book_session(None, patient=patient))
    html = login(bob).get(f"/finance/receivables/{receivable.pk}/pix/").content.decode()
    assert 'data-testid="pix-no-key"' in html


@pytest.mark.django_db
def test_another_organizations_receivable_has_no_pix_page(alice, foreign_patient_b):
    with organization_scope(foreign_patient_b.organization_id):
        receivable = receivable_of(book_session(None, patient=foreign_patient_b))
    client = login(alice)
    assert client.get(f"/finance/receivables/{receivable.pk}/pix/").status_code == 404
    assert client.post(f"/finance/receivables/{receivable.pk}/pix/").status_code == 404
    with scopes_disabled():
        assert not Payment.objects.filter(patient=foreign_patient_b).exists()


@pytest.mark.django_db
def test_the_clinic_keeps_a_valid_pix_key(alice, tenant_a):
    client = api_client(alice)
    url = f"/api/v1/clinics/{tenant_a.central.pk}/"
    bad = client.patch(url, {"pix_key": "not a key"}, format="json")
    assert (bad.status_code, list(bad.json()["fields"])) == (400, ["pix_key"])
    good = client.patch(url, {"pix_key": "12345678000195", "pix_city": "Curitiba"}, format="json")
    assert (good.status_code, good.json()["pix_key"], good.json()["pix_city"]) == (200, "12345678000195", "Curitiba")
