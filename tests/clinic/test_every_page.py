"""Every page of the demo, in each of the four languages: no English msgid left
untranslated, no Portuguese row name in another language, and every date in
the language's own format.

The pages are found by walking the URL configuration, so a new page is
checked the day it lands; a route this test cannot fill in fails it until it
is named below (`SKIPPED` says why each one is left out).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django_scopes import scopes_disabled

LOCALE = Path(__file__).resolve().parents[2] / "locale"
LANGUAGES = {"pt-br": "pt_BR", "en": None, "de": "de", "es": "es"}

# Routes that are not pages a person reads: webhooks, redirects, sign-outs,
# links that only a message carries.
SKIPPED_PREFIXES = ("api/", "admin/", "messages/anymail/", "messages/callbacks/", "i18n/", "jsi18n/")
SKIPPED_NAMES = {
    "logout",
    "portal:sign-out",
    "portal:enter",  # a signed link: the test signs in through it
    "password_reset_confirm",  # needs a token from an e-mail (tests/clinic/test_team.py)
    "invitation-accept",  # idem
    "scheduling:ical",  # text/calendar
    "clinic-switch",  # POST only
}


def walk(patterns: list[Any], prefix: str = "", namespace: str = "") -> list[tuple[str, str]]:
    routes = []
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}:{pattern.namespace}" if namespace and pattern.namespace else pattern.namespace
            routes += walk(pattern.url_patterns, prefix + str(pattern.pattern), inner or namespace)
        elif isinstance(pattern, URLPattern):
            name = f"{namespace}:{pattern.name}" if namespace else (pattern.name or "")
            routes.append((prefix + str(pattern.pattern), name))
    return routes


# --- What a page must not show -------------------------------------------------


def read_catalogue(language: str) -> dict[str, str]:
    text = (LOCALE / language / "LC_MESSAGES" / "django.po").read_text()
    entries = {}
    for block in text.split("\n\n"):
        msgid = re.search(r'^msgid ((?:".*"\n?)+)', block, re.M)
        msgstr = re.search(r'^msgstr(?:\[0\])? ((?:".*"\n?)+)', block, re.M)
        if msgid and msgstr and "msgctxt" not in block:
            join = "".join
            entries[join(re.findall(r'"(.*)"', msgid.group(1)))] = join(re.findall(r'"(.*)"', msgstr.group(1)))
    return {k: v for k, v in entries.items() if k and v}


CATALOGUES = {code: read_catalogue(directory) for code, directory in LANGUAGES.items() if directory}
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]|\{\w*\}")


def _shown(text: str) -> bool:
    return not PLACEHOLDER.search(text) and bool(re.search(r"[^\W\d_]{2}", text))


# English msgids that a translated page must not show as they are: two words
# or more (one word may well be the same in both languages: "Status", "Total").
ENGLISH = {msgid for catalogue in CATALOGUES.values() for msgid in catalogue if _shown(msgid) and " " in msgid}
# What each language calls things, to tell a Portuguese leftover from a word
# the other language shares ("Atendido" is Spanish too).
WORDS = {code: {v for v in catalogue.values() if _shown(v)} for code, catalogue in CATALOGUES.items()}
MSGIDS = {msgid for catalogue in CATALOGUES.values() for msgid in catalogue}
PORTUGUESE = {
    word for msgid, word in CATALOGUES["pt-br"].items() if len(word) >= 6 and word != msgid and _shown(word)
} - MSGIDS

# Portuguese writes months in lower case: "2 de dezembro".
CAPITAL_MONTH = r"(Janeiro|Fevereiro|Março|Abril|Maio|Junho|Julho|Agosto|Setembro|Outubro|Novembro|Dezembro)\b"
ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
SLASHED = re.compile(r"\b(\d{1,2})/(\d{1,2})(?:/(\d{4}))?\b")
DOTTED = re.compile(r"\b\d{1,2}\.\d{1,2}\.\d{4}\b")


def date_faults(text: str, language: str) -> list[str]:
    faults = [f"ISO date {m.group()!r}" for m in ISO_DATE.finditer(text)]
    for match in SLASHED.finditer(text):
        first, second = int(match.group(1)), int(match.group(2))
        if language == "de" and match.group(3):
            faults.append(f"{match.group()!r} is not German (dd.mm.yyyy)")
        elif language == "en" and first > 12 and second <= 12:
            faults.append(f"{match.group()!r} is day/month in English")
        elif language in ("pt-br", "es") and second > 12 and first <= 12:
            faults.append(f"{match.group()!r} is month/day")
    if language != "de":
        faults += [f"{m.group()!r} is German" for m in DOTTED.finditer(text)]
    if language == "en" and re.search(r"\b[ap]\.m\.", text):
        faults.append("a.m./p.m. instead of AM/PM")
    if language == "pt-br" and re.search(rf"-Feira|\d De |\bde {CAPITAL_MONTH}", text):
        faults.append(f"title case in Portuguese: {text!r}")
    return faults


class TextOf(HTMLParser):
    """The page's visible text nodes and readable attributes."""

    ATTRIBUTES = ("title", "placeholder", "aria-label", "alt")

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self.language = ""
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "html":
            self.language = values.get("lang") or ""
        if tag in ("script", "style", "template", "textarea"):
            self._hidden += 1
        for name in self.ATTRIBUTES:
            if values.get(name):
                self.texts.append(" ".join(str(values[name]).split()))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "template", "textarea"):
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        text = " ".join(data.split())
        if text and not self._hidden:
            self.texts.append(text)


def page_faults(html: str, language: str) -> list[str]:
    parser = TextOf()
    parser.feed(html)
    shown_in = parser.language or language
    faults = []
    for text in parser.texts:
        if shown_in != "en" and text in ENGLISH and CATALOGUES[shown_in].get(text, text) != text:
            faults.append(f"untranslated: {text!r}")
        if shown_in != "pt-br" and text in PORTUGUESE and text not in WORDS.get(shown_in, set()):
            faults.append(f"Portuguese in {shown_in}: {text!r}")
        faults += date_faults(text, shown_in)
    return faults


# --- The demo's pages -----------------------------------------------------------


@pytest.fixture
def demo(db) -> dict[str, Any]:
    from billing.models import Payment, Receivable
    from clinic.demo import seed_demo
    from clinic.models import Clinic, Professional, Room, User
    from packages.catalog.models import PackageTemplate, Service
    from packages.patient_packages.models import PatientPackage
    from patients.models import AnamnesisGroup, SelfRegistrationLink
    from scheduling.models import Appointment, AppointmentStatus

    seed_demo()
    with scopes_disabled():
        payment = (
            Payment.objects.filter(patient_package__isnull=False).order_by("pk").first() or Payment.objects.first()
        )
        package = payment.patient_package if payment and payment.patient_package else PatientPackage.objects.first()
        patient = package.patient
        appointment = Appointment.objects.filter(patient=patient).order_by("-start").first()
        clinic = Clinic.objects.get(pk=patient.clinic_id)
        link = SelfRegistrationLink.objects.filter(organization=clinic.organization).first()
        values = {
            "patient_id": patient.pk,
            "package_id": package.pk,
            "appointment_id": appointment.pk if appointment else None,
            "clinic_id": clinic.pk,
            "professional_id": Professional.objects.filter(clinic=clinic).first().pk,
            "room_id": getattr(Room.objects.filter(clinic=clinic).first(), "pk", None),
            "template_id": PackageTemplate.objects.first().pk,
            "service_id": Service.objects.first().pk,
            "payment_id": getattr(payment, "pk", None),
            "receivable_id": getattr(Receivable.objects.filter(patient=patient).first(), "pk", None),
            "status_id": AppointmentStatus.objects.filter(organization=clinic.organization).first().pk,
            "group_id": getattr(AnamnesisGroup.objects.first(), "pk", None),
            "user_id": User.objects.filter(organization=clinic.organization).exclude(username="owner").first().pk,
            "export_id": None,
        }
        return {"values": values, "clinic": clinic, "patient": patient, "link": link}


def fill(route: str, demo: dict[str, Any]) -> str | None:
    """The route with the demo's ids, or None when one is missing."""
    values = dict(demo["values"])

    def one(match: re.Match[str]) -> str:
        name = match.group(2)
        if name == "token":
            if route.startswith("register/"):
                return demo["link"].token if demo["link"] else "-"
            return demo["clinic"].portal_token
        value = values.get(name)
        if value is None:
            raise KeyError(name)
        return str(value)

    try:
        return "/" + re.sub(r"<(?:(\w+):)?(\w+)>", one, route)
    except KeyError:
        return None


def texts_of(html: str) -> set[str]:
    parser = TextOf()
    parser.feed(html)
    return set(parser.texts)


# The words of the English source strings: a text made only of them, shown
# alike in all four languages, is English nobody marked for translation
# (demo data, "Gabriel Santos Oliveira", "Sessão de fisioterapia", is not).
VOCABULARY = {word.lower() for msgid in MSGIDS for word in re.findall(r"[^\W\d_]+", msgid)}
TRANSLATED_ALIKE = {value for catalogue in CATALOGUES.values() for value in catalogue.values()}


def unmarked(text: str) -> bool:
    words = re.findall(r"[^\W\d_]+", text)
    return (
        len(words) >= 2
        and " " in text  # not a code ("justified_absence", "FIS-SES")
        and text.isascii()  # English UI text has no "São Paulo"
        and text not in TRANSLATED_ALIKE
        and all(word.lower() in VOCABULARY for word in words)
        and any(word.lower() not in {"pix", "cpf", "cnpj", "e", "mail", "sms", "whatsapp", "ok"} for word in words)
    )


@pytest.mark.django_db
def test_every_page_speaks_the_reader_s_language(demo, settings) -> None:
    """Each page in the four languages: no catalogued string left in English,
    no Portuguese row name elsewhere, dates in each locale's format, and no
    English text that stays the same in all four (a string not marked)."""
    from clinic.models import User
    from patients.portal.services import patient_link

    clients = {}
    for language in LANGUAGES:
        staff, patient_side = Client(), Client()
        for client in (staff, patient_side):
            client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        staff.force_login(User.objects.get(username="owner"))
        with scopes_disabled():
            link = patient_link(demo["patient"], demo["clinic"])
        patient_side.get("/" + link.split("/", 3)[3])
        clients[language] = (staff, patient_side)

    checked, faults, unfilled = [], [], []
    for route, name in walk(get_resolver().url_patterns):
        if route.startswith(SKIPPED_PREFIXES) or name in SKIPPED_NAMES:
            continue
        path = fill(route, demo)
        if path is None:
            unfilled.append(route)
            continue
        shown: dict[str, set[str]] = {}
        for language, (staff, patient_side) in clients.items():
            response = (patient_side if route.startswith("c/") else staff).get(path)
            assert response.status_code < 500, (path, language, response.status_code)
            if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
                continue
            html = response.content.decode()
            shown[language] = texts_of(html)
            faults += [f"{path} [{language}]: {fault}" for fault in page_faults(html, language)]
        if len(shown) == len(LANGUAGES):
            checked.append(path)
            alike = set.intersection(*shown.values())
            faults += [f"{path}: not marked for translation: {text!r}" for text in sorted(alike) if unmarked(text)]
    assert not faults, "\n".join(sorted(set(faults)))
    assert unfilled == [
        "accounts/access/tokens/<int:token_id>/revoke/",  # a POST (tests/clinic/test_member_access.py)
        "settings/team/<int:user_id>/tokens/<int:token_id>/revoke/",  # a POST (the same test file)
        "reports/exports/<int:export_id>/",
        "reports/exports/<int:export_id>/download/",
    ]
    assert len(checked) >= 50, checked


def test_a_string_nobody_marked_is_told_from_demo_data() -> None:
    assert unmarked("Take a payment")  # once a shortcut nobody had marked
    assert not unmarked("Gabriel Santos Oliveira")
    assert not unmarked("Sessão de fisioterapia")


@pytest.mark.parametrize(
    ("html", "language", "fault"),
    [
        ('<html lang="de"><p>Session card</p></html>', "de", "untranslated"),
        ('<html lang="en"><td>05/29/2003</td></html>', "pt-br", None),
        ('<html lang="en"><td>29/05/2003</td></html>', "en", "day/month"),
        ('<html lang="pt-br"><td>05/29/2003</td></html>', "pt-br", "month/day"),
        ('<html lang="de"><td>29/05/2003</td></html>', "de", "German"),
        ('<html lang="en"><span>at 9 a.m..</span></html>', "en", "AM/PM"),
        ('<html lang="pt-br"><h2>Terça-Feira</h2></html>', "pt-br", "title case"),
        ('<html lang="pt-br"><h2>2 de Dezembro de 2026</h2></html>', "pt-br", "title case"),
        ('<html lang="en"><p>2026-12-01</p></html>', "en", "ISO"),
        ('<html lang="de"><p title="Session card">x</p></html>', "de", "untranslated"),
        ('<html lang="de"><script>"Session card"</script></html>', "de", None),
    ],
)
def test_the_checks_find_what_they_look_for(html, language, fault) -> None:
    found = page_faults(html, language)
    if fault is None:
        assert not [f for f in found if "untranslated" in f or "ISO" in f]
    else:
        assert any(fault in f for f in found), found
