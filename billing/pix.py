"""Pix copy-and-paste codes (BR Code) for an open receivable.

A static BR Code is an EMV QRCPS merchant-presented payload: ID-length-value
fields, the Pix key under the `br.gov.bcb.pix` GUI (field 26), currency 986,
the amount, the receiver's name and city, a reference (field 62, sub-field
05) and a CRC16/CCITT-FALSE over everything before it (field 63). Checked
against the Central Bank's published example in `tests/billing/test_pix.py`.
The money arrives at the bank, not here: staff mark the receivable paid
when it does.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal

GUI = "br.gov.bcb.pix"
NAME_LENGTH = 25
CITY_LENGTH = 15
REFERENCE_LENGTH = 25


def crc16(payload: str) -> str:
    """CRC-16/CCITT-FALSE (polynomial 0x1021, initial 0xFFFF), four hex digits."""
    crc = 0xFFFF
    for byte in payload.encode("utf-8"):
        crc ^= byte << 8
        for _bit in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return f"{crc:04X}"


def _field(tag: str, value: str) -> str:
    if len(value) > 99:
        raise ValueError(f"BR Code field {tag} is longer than 99 characters")
    return f"{tag}{len(value):02d}{value}"


def _plain(text: str, length: int) -> str:
    """Letters without accents, as banks' apps read the name and the city."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"\s+", " ", ascii_text).strip()[:length]


def reference(text: str) -> str:
    """Field 62-05: letters and digits only, at most 25; '***' for none."""
    cleaned = re.sub(r"[^A-Za-z0-9]", "", text)[:REFERENCE_LENGTH]
    return cleaned or "***"


def brcode(*, key: str, name: str, city: str, amount: Decimal | None = None, txid: str = "***") -> str:
    account = _field("00", GUI) + _field("01", key)
    payload = (
        _field("00", "01")
        + _field("26", account)
        + _field("52", "0000")
        + _field("53", "986")
        + (_field("54", f"{amount:.2f}") if amount else "")
        + _field("58", "BR")
        + _field("59", _plain(name, NAME_LENGTH))
        + _field("60", _plain(city, CITY_LENGTH))
        + _field("62", _field("05", txid))
        + "6304"
    )
    return payload + crc16(payload)


@dataclass(frozen=True)
class PixCharge:
    code: str
    svg: str  # the QR code, inline SVG


def qr_svg(code: str) -> str:
    import segno

    svg: str = segno.make(code, error="m", micro=False).svg_inline(scale=5, border=2)
    return svg
