from __future__ import annotations

import pytest

from tests.conftest import login

# A few strings of the shell and what each language must show for them.
NAVIGATION = {
    "pt-br": ["Pacientes", "Agenda", "Pacotes", "Financeiro", "Relatórios", "Configurações"],
    "en": ["Patients", "Calendar", "Packages", "Finance", "Reports", "Settings"],
    "es": ["Pacientes", "Agenda", "Paquetes", "Finanzas", "Informes", "Configuración"],
    "de": ["Patienten", "Kalender", "Pakete", "Finanzen", "Berichte", "Einstellungen"],
}


@pytest.mark.django_db
@pytest.mark.parametrize("language", NAVIGATION)
def test_switching_language_translates_the_shell(alice, language) -> None:
    client = login(alice)
    response = client.post("/i18n/setlang/", {"language": language, "next": "/"})
    assert response.status_code == 302
    assert response["Location"] == "/"
    content = client.get("/").content.decode()
    assert f'<html lang="{language}"' in content
    for label in NAVIGATION[language]:
        assert f"> {label}\n" in content, label


@pytest.mark.django_db
def test_default_language_is_brazilian_portuguese(alice, settings) -> None:
    settings.LANGUAGE_CODE = "pt-br"
    client = login(alice)
    content = client.get("/", HTTP_ACCEPT_LANGUAGE="").content.decode()
    assert '<html lang="pt-br"' in content
    assert "Sair" in content  # "Log out"


@pytest.mark.django_db
def test_login_page_is_translated(settings) -> None:
    from django.test import Client

    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "de"
    content = client.get("/accounts/login/").content.decode()
    assert "Anmelden" in content


@pytest.mark.django_db
def test_api_errors_follow_the_language(alice, settings) -> None:
    from tests.conftest import api_client

    response = api_client(alice).get("/api/v1/clinics/999999/", HTTP_ACCEPT_LANGUAGE="pt-br")
    assert response.json()["detail"] == "Não encontrado."
