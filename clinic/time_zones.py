"""Time zones as a person picks them: the clinic's country's first, each with
a readable name and its offset from UTC ("São Paulo (UTC-03:00)", not
"America/Sao_Paulo").

Which zones a country has comes from the IANA database's `zone.tab`, shipped
with the system's zoneinfo and with the `tzdata` package that `zoneinfo`
falls back to, so no list is kept by hand here.
"""

from __future__ import annotations

import datetime as dt
import functools
import unicodedata
import zoneinfo
from importlib import resources
from pathlib import Path

from django.utils.translation import gettext as _

# City names as written in their own language, where the database's ASCII
# spelling drops the accents (the countries of the clinics we serve first).
ACCENTED = {
    "Araguaina": "Araguaína", "Belem": "Belém", "Cuiaba": "Cuiabá", "Maceio": "Maceió",
    "Santarem": "Santarém", "Sao Paulo": "São Paulo", "Asuncion": "Asunción", "Bogota": "Bogotá",
    "Cancun": "Cancún", "Ciudad Juarez": "Ciudad Juárez", "Merida": "Mérida", "Tucuman": "Tucumán",
    "Cordoba": "Córdoba", "Busingen": "Büsingen", "Zurich": "Zürich", "Reykjavik": "Reykjavík", "Curacao": "Curaçao",
    "Eirunepe": "Eirunepé",
}  # fmt: skip


def _tab_lines(name: str) -> list[str]:
    for directory in zoneinfo.TZPATH:
        path = Path(directory) / name
        if path.is_file():
            return path.read_text(encoding="utf-8").splitlines()
    try:
        return (resources.files("tzdata.zoneinfo") / name).read_text(encoding="utf-8").splitlines()
    except (ModuleNotFoundError, FileNotFoundError):
        return []


@functools.cache
def zones_by_country() -> dict[str, tuple[str, ...]]:
    """ISO 3166 country code -> its zones, in the database's order (roughly
    from the most populous or the capital outwards)."""
    countries: dict[str, list[str]] = {}
    for line in _tab_lines("zone.tab"):
        if not line or line.startswith("#"):
            continue
        code, _coordinates, zone, *_comment = line.split("\t")
        countries.setdefault(code.upper(), []).append(zone)
    return {code: tuple(zones) for code, zones in countries.items()}


@functools.cache
def selectable_zones() -> tuple[str, ...]:
    """Every zone a clinic can choose: the countries' zones and UTC; the
    database's old aliases (Brazil/East, US/Pacific...) are left out."""
    available = zoneinfo.available_timezones()
    listed = {zone for zones in zones_by_country().values() for zone in zones} & available
    if not listed:  # no zone.tab anywhere: every region/city name
        listed = {zone for zone in available if "/" in zone and not zone.startswith("Etc/")}
    return tuple(sorted(listed | {"UTC"}))


def city_name(zone: str) -> str:
    """The readable last part of a zone name: "America/Sao_Paulo" -> "São Paulo"."""
    city = zone.rsplit("/", 1)[-1].replace("_", " ")
    return ACCENTED.get(city, city)


def utc_offset(zone: str, at: dt.datetime | None = None) -> str:
    """The zone's offset now (or at `at`) as "UTC-03:00", "UTC+05:30", "UTC" (with a true minus sign)."""
    moment = (at or dt.datetime.now(dt.UTC)).astimezone(zoneinfo.ZoneInfo(zone))
    offset = moment.utcoffset() or dt.timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    if minutes == 0:
        return "UTC"
    sign = "+" if minutes > 0 else "\N{MINUS SIGN}"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02d}:{rest:02d}"


def zone_label(zone: str, *, with_region: bool = False, at: dt.datetime | None = None) -> str:
    """'São Paulo (UTC-03:00)'; with the region, for the world list,
    'São Paulo · America (UTC-03:00)'."""
    if zone == "UTC":
        return _("Coordinated Universal Time (UTC)")
    city = city_name(zone)
    if with_region and "/" in zone:
        region = " / ".join(part.replace("_", " ") for part in zone.split("/")[:-1])
        city = f"{city} · {region}"
    return f"{city} ({utc_offset(zone, at)})"


def _sort_key(label: str) -> str:
    return unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode().casefold()


def time_zone_choices(country: str | None, *, current: str | None = None) -> list[tuple[str, object]]:
    """Choices for a time-zone select: the zones of `country` in a group of
    their own first, then every other zone by city name (typing a city's
    first letter in the select finds it). `current`, a zone saved before and
    no longer listed (an old alias), is kept so that saving the form does
    not change it."""
    at = dt.datetime.now(dt.UTC)
    selectable = selectable_zones()
    local = [zone for zone in zones_by_country().get((country or "").upper(), ()) if zone in selectable]
    rest = [zone for zone in selectable if zone not in local]
    if current and current not in selectable and current in zoneinfo.available_timezones():
        rest.append(current)
    world = sorted(((zone, zone_label(zone, with_region=True, at=at)) for zone in rest), key=lambda c: _sort_key(c[1]))
    if not local:
        return [(_("All time zones"), world)]
    country_group = sorted(((zone, zone_label(zone, at=at)) for zone in local), key=lambda c: _sort_key(c[1]))
    return [(_("The clinic's country"), country_group), (_("Other time zones"), world)]
