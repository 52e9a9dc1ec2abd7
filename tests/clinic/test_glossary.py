"""Every translation keeps the glossary's words and register
(`locale/glossary.toml`): German never says "Fachkraft" where the glossary
says "Behandler", nor "du"; Spanish never says "tú"."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

LOCALE = Path(__file__).resolve().parents[2] / "locale"
GLOSSARY = tomllib.loads((LOCALE / "glossary.toml").read_text())


def catalog(language: str) -> dict[str, str]:
    """msgid → msgstr of the language's django.po, plural forms joined."""
    text = (LOCALE / language / "LC_MESSAGES" / "django.po").read_text()
    entries: dict[str, str] = {}
    for block in text.split("\n\n"):
        if block.lstrip().startswith("#~"):
            continue
        msgid = re.search(r'^msgid ((?:".*"\n?)+)', block, re.M)
        strs = re.findall(r'^msgstr(?:\[\d\])? ((?:".*"\n?)+)', block, re.M)
        if msgid and strs:
            joined = lambda chunk: "".join(re.findall(r'"(.*)"', chunk))  # noqa: E731
            entries[joined(msgid.group(1))] = " | ".join(joined(s) for s in strs)
    return entries


def words(text: str) -> set[str]:
    text = re.sub(r"%\(\w+\)s|\{\w+\}|<[^>]+>", " ", text)
    return {word.lower() for word in re.findall(r"\w+", text)}


@pytest.mark.parametrize("language", ["pt_BR", "es", "de"])
def test_translations_use_the_glossary_words_and_the_formal_register(language) -> None:
    entries = catalog(language)
    assert len(entries) > 500, "the catalogue could not be read"
    avoid = GLOSSARY[language]["avoid"]
    phrases = [phrase.lower() for phrase in avoid.get("words", [])]
    informal = {word.lower() for word in avoid.get("informal", [])}
    offending = []
    for msgid, msgstr in entries.items():
        if not msgid:
            continue
        lowered = msgstr.lower()
        found = [p for p in phrases if re.search(rf"\b{re.escape(p)}", lowered)]
        found += sorted(words(msgstr) & informal)
        if found:
            offending.append(f"{msgid!r} → {msgstr!r}: {found}")
    assert not offending, "\n".join(offending)


@pytest.mark.parametrize("language", ["pt_BR", "es", "de"])
def test_the_glossary_terms_are_the_translations_of_their_english_words(language) -> None:
    """A term in the glossary is what the catalogue says for the English word
    as a label ("Professional" → "Behandler")."""
    entries = catalog(language)
    terms = GLOSSARY[language]["terms"]
    checked = 0
    for english, word in terms.items():
        label = english[0].upper() + english[1:]
        if label in entries:
            checked += 1
            assert entries[label].lower().startswith(word.lower().split(" ")[0][:5]), (english, entries[label])
    assert checked >= 10


def test_the_catalogue_reader_sees_a_planted_offence(tmp_path, monkeypatch) -> None:
    """The check above can fail: a German "du" planted in a catalogue is found."""
    planted = tmp_path / "de" / "LC_MESSAGES"
    planted.mkdir(parents=True)
    (planted / "django.po").write_text('msgid ""\nmsgstr ""\n\nmsgid "Choose a date."\nmsgstr "Wähle ein Datum, du."\n')
    monkeypatch.setattr(f"{__name__}.LOCALE", tmp_path)
    entries = catalog("de")
    assert words(entries["Choose a date."]) & {"du", "wähle"}


@pytest.mark.parametrize("language", ["de", "es"])
def test_library_validation_messages_keep_the_formal_register(language) -> None:
    """Django REST framework's German says "Gib eine gültige E-Mail Adresse
    an."; the project's catalogue, read first, says it formally."""
    from django.core import validators
    from django.core.exceptions import ValidationError
    from django.utils import translation

    informal = {word.lower() for word in GLOSSARY[language.replace("-", "_")]["avoid"].get("informal", [])}
    checks = [validators.EmailValidator(), validators.URLValidator(), validators.validate_slug,
              validators.validate_unicode_slug]  # fmt: skip
    with translation.override(language):
        for check in checks:
            with pytest.raises(ValidationError) as raised:
                check("not valid at all ✗")
            message = " ".join(raised.value.messages)
            assert not words(message) & informal, message
