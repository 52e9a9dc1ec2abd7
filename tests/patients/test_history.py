"""The patient's change history as people read it (issue 14): field labels,
values in the reader's locale, "from → to", who and when (in the clinic's
time zone); a flat number of queries; another organization's answers 404."""

from __future__ import annotations

import html as html_module
import re
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import formats, timezone, translation
from django_scopes import scopes_disabled

from clinic.models import Clinic
from patients.models import AnamnesisGroup, AnamnesisQuestion, QuestionKind
from tests.conftest import api_client, login
from tests.patients.factories import PatientFactory


def _history(content: bytes) -> list[tuple[str, str, list[str]]]:
    """(kind, who, change lines) of each entry of the history tab, newest first."""
    html = content.decode()
    block = html[html.index('data-testid="patient-history"') :]
    ends = [block.find(marker) for marker in ('<div class="tab-pane', "</main>") if block.find(marker) > 0]
    block = block[: min(ends)]
    entries = []
    for item in block.split('data-testid="history-entry"')[1:]:
        kind = re.search(r"<strong>(.*?)</strong>", item).group(1)
        who = re.search(r'data-testid="history-who">(.*?)</span>', item).group(1)
        lines = [
            " ".join(html_module.unescape(re.sub(r"<[^>]+>", "", line)).split())
            for line in re.findall(r"<li>(.*?)</li>", item, re.S)
        ]
        entries.append((kind, who, lines))
    return entries


def _edit(client, patient, physio, **changes: str):
    data = {
        "full_name": patient.full_name, "birth_date": "1980-05-17", "document": patient.document,
        "mobile": "(11) 98765-4321", "professionals": [physio.pk],
    }  # fmt: skip
    response = client.post(f"/patients/{patient.pk}/edit/", {**data, **changes})
    assert response.status_code == 302, response.context["form"].errors
    return response


@pytest.fixture
def questionnaire(tenant_a) -> tuple[AnamnesisGroup, list[AnamnesisQuestion]]:
    with scopes_disabled():
        group = AnamnesisGroup.objects.create(organization=tenant_a.organization, name="Physiotherapy")
        questions = [
            AnamnesisQuestion.objects.create(
                organization=tenant_a.organization, group=group, position=position, text=text, kind=kind
            )
            for position, (text, kind) in enumerate(
                [("Main complaint", QuestionKind.TEXT), ("Any pain now?", QuestionKind.YES_NO)]
            )
        ]
    return group, questions


@pytest.mark.django_db
def test_history_shows_labels_values_from_to_who_and_when(alice, bob, joao, physio, questionnaire, tenant_a) -> None:
    with scopes_disabled():
        Clinic.objects.filter(pk=joao.clinic_id).update(time_zone="Asia/Tokyo")
    group, (complaint, pain) = questionnaire
    staff = login(bob)
    _edit(staff, joao, physio, birth_date="1981-05-17", city="Santos", referral_source="doctor", opt_out_sms="on")
    response = staff.post(
        f"/patients/{joao.pk}/anamnesis/?group={group.pk}", {str(complaint.pk): "Low back pain", str(pain.pk): "yes"}
    )
    assert response.status_code == 302

    page = login(alice).get(f"/patients/{joao.pk}/")
    assert _history(page.content) == [
        ("Changed", bob.get_full_name(), [
            "Anamnesis questionnaire: — → Physiotherapy",
            "Anamnesis: Main complaint: — → Low back pain",
            "Anamnesis: Any pain now? — → Yes",
        ]),
        ("Changed", bob.get_full_name(), [
            "Birth date: 05/17/1980 → 05/17/1981",
            "City: — → Santos",
            "How they found the clinic: — → Doctor's referral",
            "No SMS: No → Yes",
        ]),
        ("Created", "automatic", []),
    ]  # fmt: skip
    content = page.content.decode()
    history = content.split('data-testid="patient-history"')[1].split('<div class="tab-pane')[0]
    for raw in ("True", "{'", "anamnesis_answers", f"{group.pk} →"):
        assert raw not in history
    # When: in the clinic's time zone (Tokyo), in the reader's format.
    with scopes_disabled():
        latest = joao.history.order_by("-history_date").first()
    with translation.override("en"):
        expected = formats.date_format(
            timezone.localtime(latest.history_date, timezone=ZoneInfo("Asia/Tokyo")), "SHORT_DATETIME_FORMAT"
        )
    assert f">{expected}</time>" in content


@pytest.mark.django_db
def test_history_reads_in_the_readers_language(alice, bob, joao, physio) -> None:
    _edit(login(bob), joao, physio, opt_out_sms="on", referral_source="doctor", birth_date="1981-05-17")
    page = login(alice).get(f"/patients/{joao.pk}/", HTTP_ACCEPT_LANGUAGE="pt-br")
    lines = _history(page.content)[0][2]
    assert "Data de nascimento: 17/05/1980 → 17/05/1981" in lines
    assert any(line.endswith("Não → Sim") for line in lines)


@pytest.mark.django_db
def test_a_self_registration_reads_as_the_patient_and_a_phone_as_written(alice, bob, physio, tenant_a) -> None:
    patient = PatientFactory(
        clinic=tenant_a.central, full_name="Rita", self_registered=True, mobile="+5511987654321",
        professionals=[physio],
    )  # fmt: skip
    data = {"full_name": "Rita", "mobile": "(11) 91234-5678", "professionals": [physio.pk]}
    assert login(bob).post(f"/patients/{patient.pk}/edit/", data).status_code == 302
    entries = _history(login(alice).get(f"/patients/{patient.pk}/").content)
    assert entries[0][2] == ["Mobile: +55 11 98765-4321 → +55 11 91234-5678"]
    assert entries[-1][:2] == ("Created", "the patient, through the registration link")


def _page_queries(client, patient) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(f"/patients/{patient.pk}/").status_code == 200
    return len(queries)


@pytest.mark.django_db
def test_history_queries_do_not_grow_with_the_changes(alice, bob, physio, questionnaire, tenant_a) -> None:
    group, (complaint, pain) = questionnaire
    one, many = (PatientFactory(clinic=tenant_a.central, full_name=name, professionals=[physio]) for name in "AB")
    staff = login(bob)
    for patient, times in ((one, 1), (many, 12)):
        for n in range(times):
            _edit(staff, patient, physio, city=f"City {n}", referral_source=("doctor", "insurer")[n % 2])
            staff.post(
                f"/patients/{patient.pk}/anamnesis/?group={group.pk}",
                {str(complaint.pk): f"Complaint {n}", str(pain.pk): ("yes", "no")[n % 2]},
            )
    owner = login(alice)
    _page_queries(owner, one)  # warm the caches (sessions, content types)
    assert len(_history(owner.get(f"/patients/{many.pk}/").content)) == 25
    assert _page_queries(owner, one) == _page_queries(owner, many)


@pytest.mark.django_db
def test_another_organizations_patient_history_answers_404(charlie, joao, bob, physio) -> None:
    _edit(login(bob), joao, physio, city="Santos")
    assert login(charlie).get(f"/patients/{joao.pk}/").status_code == 404
    response = api_client(charlie).get(f"/api/v1/patients/{joao.pk}/history/")
    assert response.status_code == 404
    assert "Santos" not in response.content.decode()
