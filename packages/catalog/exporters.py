"""Excel export of the package template list (S4, R3): real number cells,
currency formats, a frozen header and an autofilter. openpyxl is imported here
only, so that start-up and tests that export nothing stay fast; the workbook is
streamed (write-only), so memory stays flat as rows grow."""

from __future__ import annotations

from collections.abc import Iterable
from io import BytesIO
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from clinic import money
from packages.catalog.models import CommissionKind, PackageTemplate

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PERCENT_FORMAT = '0.00" %"'
INTEGER_FORMAT = "0"


def _templates(templates: Iterable[PackageTemplate]) -> Iterable[PackageTemplate]:
    if isinstance(templates, QuerySet):
        # Chunks keep memory flat; prefetches still run once per chunk.
        return templates.iterator(chunk_size=500)
    return templates


def package_templates_xlsx(templates: Iterable[PackageTemplate]) -> bytes:
    """The templates (loaded with `selectors.with_visible_items`) as an .xlsx file."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    columns: list[tuple[str, int]] = [
        (_("Name"), 38),
        (_("Clinic"), 26),
        (_("Shared"), 10),
        (_("Status"), 13),
        (_("Items"), 44),
        (_("Sessions"), 10),
        (_("Total price"), 15),
        (_("Price per session"), 17),
        (_("Last session price"), 17),
        (_("Validity (days)"), 14),
        (_("Renewal"), 20),
        (_("Financial posting"), 28),
        (_("Commission"), 26),
        (_("Commission value"), 16),
        (_("Maximum appointments"), 14),
        (_("Maximum total amount"), 17),
        (_("Trigger service"), 28),
    ]
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=_("Package templates")[:31])
    for index, (_title, width) in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"

    header_font = Font(bold=True, color="FFFFFF")
    header_fill = PatternFill("solid", fgColor="0F766E")

    def header(title: str) -> Any:
        cell = WriteOnlyCell(sheet, value=title)
        cell.font = header_font
        cell.fill = header_fill
        cell.alignment = Alignment(vertical="center", wrap_text=True)
        return cell

    def number(value: Any, number_format: str) -> Any:
        cell = WriteOnlyCell(sheet, value=value)
        if value is not None:
            cell.number_format = number_format
        return cell

    sheet.append([header(title) for title, _width in columns])
    rows = 0
    yes, no = _("Yes"), _("No")
    for template in _templates(templates):
        currency = money.excel_currency_format(template.clinic.currency)
        commission_format = PERCENT_FORMAT if template.commission_kind == CommissionKind.PERCENT else currency
        items = "; ".join(
            f"{item.quantity} \N{MULTIPLICATION SIGN} {item.service.name}" for item in template.visible_items
        )
        sheet.append(
            [
                template.name,
                template.clinic.name,
                yes if template.is_shared else no,
                _("Active") if template.is_active else _("Deactivated"),
                items,
                number(template.sessions, INTEGER_FORMAT),
                number(template.price, currency),
                number(template.price_per_session, currency),
                number(template.last_session_price, currency),
                number(template.validity_days, INTEGER_FORMAT),
                template.get_renewal_display(),
                template.get_posting_display(),
                template.get_commission_kind_display(),
                number(
                    None if template.commission_kind == CommissionKind.NONE else template.commission_value,
                    commission_format,
                ),
                number(template.max_appointments, INTEGER_FORMAT),
                number(template.max_amount, currency),
                template.trigger_service.name if template.trigger_service else None,
            ]
        )
        rows += 1
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{rows + 1}"
    output = BytesIO()
    workbook.save(output)
    return output.getvalue()
