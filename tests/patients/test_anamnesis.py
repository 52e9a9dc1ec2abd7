from __future__ import annotations

import pytest
from django_scopes import scopes_disabled

from patients.models import AnamnesisGroup
from tests.conftest import login


@pytest.mark.django_db
def test_owner_configures_a_questionnaire_and_staff_fill_it(alice, bob, joao) -> None:
    response = login(alice).post(
        "/patients/settings/questionnaires/new/",
        {
            "name": "Anamnese de Fisioterapia",
            "is_active": "on",
            "questions-TOTAL_FORMS": "3",
            "questions-INITIAL_FORMS": "0",
            "questions-0-text": "Qual é a queixa principal?",
            "questions-0-kind": "text",
            "questions-1-text": "Sente dor?",
            "questions-1-kind": "yes_no",
            "questions-2-text": "Intensidade",
            "questions-2-kind": "choice",
            "questions-2-options": "Leve\nModerada\nIntensa",
        },
    )
    assert response.status_code == 302
    with scopes_disabled():
        group = AnamnesisGroup.objects.get(organization=alice.organization)
        questions = list(group.questions.order_by("position"))
    assert [(q.text, q.kind, q.options) for q in questions] == [
        ("Qual é a queixa principal?", "text", []),
        ("Sente dor?", "yes_no", []),
        ("Intensidade", "choice", ["Leve", "Moderada", "Intensa"]),
    ]

    staff = login(bob)
    response = staff.post(
        f"/patients/{joao.pk}/anamnesis/?group={group.pk}",
        {str(questions[0].pk): "Dor no ombro", str(questions[1].pk): "yes", str(questions[2].pk): "Moderada"},
    )
    assert response.status_code == 302
    joao.refresh_from_db()
    assert joao.anamnesis_group == group
    assert joao.anamnesis_answers == {
        str(questions[0].pk): "Dor no ombro",
        str(questions[1].pk): True,
        str(questions[2].pk): "Moderada",
    }
    page = staff.get(f"/patients/{joao.pk}/").content.decode()
    assert "Dor no ombro" in page
    assert "Moderada" in page


@pytest.mark.django_db
def test_a_choice_question_needs_two_options(alice) -> None:
    response = login(alice).post(
        "/patients/settings/questionnaires/new/",
        {
            "name": "Q",
            "questions-TOTAL_FORMS": "1",
            "questions-INITIAL_FORMS": "0",
            "questions-0-text": "Cor?",
            "questions-0-kind": "choice",
            "questions-0-options": "Azul",
        },
    )
    assert response.status_code == 200
    assert "A choice question needs at least two options." in response.content.decode()
    with scopes_disabled():
        assert not AnamnesisGroup.objects.filter(organization=alice.organization).exists()


@pytest.mark.django_db
def test_receptionist_cannot_configure_questionnaires(bob) -> None:
    assert login(bob).get("/patients/settings/questionnaires/").status_code == 403


@pytest.mark.django_db
def test_questionnaire_errors_show_at_once(alice) -> None:
    """Issue 14: a name in use and a choice with one option, and a blank name
    with one, on the first submit."""
    with scopes_disabled():
        AnamnesisGroup.objects.create(organization=alice.organization, name="Physio")
    question = {
        "questions-TOTAL_FORMS": "1", "questions-INITIAL_FORMS": "0",
        "questions-0-text": "Cor?", "questions-0-kind": "choice", "questions-0-options": "Azul",
    }  # fmt: skip
    client = login(alice)
    taken = client.post("/patients/settings/questionnaires/new/", {"name": "Physio", **question})
    assert taken.context["form"].errors == {
        "name": ["A questionnaire with this name already exists."],
        "__all__": ["A choice question needs at least two options."],
    }
    blank = client.post("/patients/settings/questionnaires/new/", {"name": "", **question})
    assert blank.context["form"].errors == {
        "name": ["This field is required."],
        "__all__": ["A choice question needs at least two options."],
    }
    with scopes_disabled():
        assert AnamnesisGroup.objects.filter(organization=alice.organization).count() == 1
