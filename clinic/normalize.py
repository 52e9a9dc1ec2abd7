"""Normal forms of what people type, for comparing and searching."""

from __future__ import annotations

import re
import unicodedata

import phonenumbers
from django.utils.translation import gettext as _

from clinic.errors import ValidationFailed


def search_key(text: str) -> str:
    """Lower-case, accent-free, single-spaced: "  João  d'Ávila" -> "joao d'avila"."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(stripped.casefold().split())


def document_key(document: str) -> str:
    """A document number's letters and digits only, upper-case: "123.456.789-09" -> "12345678909"."""
    return re.sub(r"[^0-9A-Za-z]", "", document).upper()


def code_key(text: str) -> str:
    """A code as it is kept: trimmed, in capitals letter by letter, so that it
    keeps its length ("ß" stays "ß" rather than becoming "SS"): " fis-ß1 " -> "FIS-ß1"."""
    return "".join(upper if len(upper := char.upper()) == 1 else char for char in text.strip())


def digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def phone_e164(raw: str, *, region: str, field: str) -> str:
    """A phone number in E.164 (+5511987654321), read as local to `region` when it
    has no country code. Empty stays empty; anything unreadable is a field error."""
    raw = raw.strip()
    if not raw:
        return ""
    try:
        number = phonenumbers.parse(raw, region.upper())
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise ValidationFailed(
            fields={field: [_("“%(value)s” is not a valid phone number.") % {"value": raw}]},
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_display(e164: str) -> str:
    """E.164 as people read it: +5511987654321 -> +55 11 98765-4321."""
    if not e164:
        return ""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def phone_example(region: str) -> str:
    """A mobile number as people of `region` write it, for a help text:
    "(11) 96123-4567" in Brazil, "01512 3456789" in Germany."""
    number = phonenumbers.example_number_for_type(region.upper(), phonenumbers.PhoneNumberType.MOBILE)
    if number is None:
        return ""
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


# Tax ids checked per country (python-stdnum): a Brazilian clinic has a CNPJ,
# or a CPF when it is one professional's practice.
_TAX_IDS = {"BR": ("br.cnpj", "br.cpf"), "DE": ("de.vat", "de.stnr"), "ES": ("es.nif",), "PT": ("pt.nif",)}
# A person's id checked per country: a patient's or a guardian's CPF in
# Brazil. Elsewhere people show an id card, a passport, a foreign id...: kept
# as typed.
_PERSON_IDS = {"BR": ("br.cpf",)}


def _checked_id(raw: str, names: tuple[str, ...] | None) -> str:
    from importlib import import_module

    raw = raw.strip()
    if not raw or not names:
        return raw
    for name in names:
        module = import_module(f"stdnum.{name}")
        if module.is_valid(raw):
            formatted: str = module.format(raw) if hasattr(module, "format") else module.compact(raw)
            return formatted
    raise ValueError(raw)


def tax_id_normal(raw: str, *, country: str) -> str:
    """A tax id as it is written in `country` ("11.222.333/0001-81"), or
    ValueError when its check digits are wrong; other countries' ids are kept
    as typed."""
    return _checked_id(raw, _TAX_IDS.get(country.upper()))


def person_id_normal(raw: str, *, country: str) -> str:
    """A person's id (a CPF in Brazil: "123.456.789-09") as it is written in
    `country`, or ValueError when its check digits are wrong; other
    countries' ids are kept as typed. The same python-stdnum check as the
    clinic's tax id."""
    return _checked_id(raw, _PERSON_IDS.get(country.upper()))
