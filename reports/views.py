"""Reports (R1, R4): the general package report with its Excel export, and
the package's PDF session card. Every export and card writes the access log
(the patients whose data left the app)."""

from __future__ import annotations

from collections.abc import Callable
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from clinic.models import Clinic, User
from clinic.permissions import Perm, request_has_perm, require_perm
from packages.catalog.exporters import XLSX_CONTENT_TYPE
from packages.patient_packages import budgets
from packages.patient_packages.models import PatientPackage
from patients.models import AccessChannel, AccessKind, Patient
from patients.services import access_log_record
from reports import exporters, exports, selectors
from reports.forms import SalesForm, package_report_form
from reports.models import Export, ExportKind, ExportStatus

PAGE_SIZE = 50
SIZES = ("A4", "A5")


def _clinic(request: HttpRequest) -> Clinic:
    clinic: Clinic | None = getattr(request, "clinic", None)
    if clinic is None:
        raise Http404
    return clinic


@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    recent = Export.objects.none()
    if request_has_perm(request, Perm.EXPORT_REPORTS):
        recent = Export.objects.filter(requested_by=request.user.pk).order_by("-created_at")[:8]
    return render(request, "reports/index.html", {"exports": recent})


@login_required
@require_GET
def package_report(request: HttpRequest) -> HttpResponse:
    """One row per package with seed 001's columns, filtered, sorted and
    totalled; `?format=xlsx` downloads every row as Excel."""
    require_perm(request, Perm.EXPORT_REPORTS)
    clinic = _clinic(request)
    form = package_report_form(request.GET, clinic)
    filters = form.filters(time_zone=clinic.time_zone)
    rows = selectors.package_report_rows(filters)
    if request.GET.get("format") == "xlsx":
        return package_report_download(request, rows, clinic, queued=export_page_redirect)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    packages = list(page.object_list)
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "rows": [(package, balance) for package, balance in _with_balances(packages)],
        "totals": selectors.package_report_totals(filters),
        "currency": clinic.currency,
        "clinic": clinic,
        "sort": filters.sort,
        "query": query.urlencode(),
        "unsorted_query": _without(query, "sort"),
    }
    template = "reports/_package_table.html" if request.headers.get("HX-Request") else "reports/packages.html"
    return render(request, template, context)


def _without(query: QueryDict, name: str) -> str:
    copy = query.copy()
    copy.pop(name, None)
    text: str = copy.urlencode()
    return text


def _with_balances(packages: list[PatientPackage]) -> list[tuple[PatientPackage, budgets.Balance]]:
    balances = budgets.balances(packages)
    return [(package, balances[package.pk]) for package in packages]


Queued = Callable[[Export], HttpResponse]


def export_page_redirect(export: Export) -> HttpResponse:
    return redirect("reports:export", export_id=export.pk)


def export_response(request: HttpRequest, *, kind: ExportKind, clinic: Clinic, data: QueryDict, rows_total: int,
                    queued: Queued) -> HttpResponse:  # fmt: skip
    """The Excel file at once, or (over `EXPORT_ASYNC_ROWS` rows) a queued
    export, answered by `queued` (the progress page, or 202 in the API)."""
    if exports.is_large(rows_total):
        user = request.user
        assert isinstance(user, User)
        return queued(exports.export_start(user=user, clinic=clinic, kind=kind, data=data, rows_total=rows_total))
    built = exports.BUILDERS[kind](clinic, data, None)
    response = HttpResponse(built.content, content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{built.filename}"'
    return response


def package_report_download(
    request: HttpRequest, rows: QuerySet[PatientPackage], clinic: Clinic, *, queued: Queued
) -> HttpResponse:
    patients = Patient.objects.filter(pk__in=rows.order_by().values("patient_id"))
    access_log_record(request=request, patients=patients, channel=AccessChannel.EXPORT, what=AccessKind.PACKAGE_REPORT)
    return export_response(request, kind=ExportKind.PACKAGE_REPORT, clinic=clinic, data=request.GET,
                           rows_total=rows.count(), queued=queued)  # fmt: skip


def patient_packages_download(request: HttpRequest, patient: Patient, *, queued: Queued) -> HttpResponse:
    packages, entries = exports.patient_entries(patient)
    access_log_record(request=request, patients=[patient], channel=AccessChannel.EXPORT, what=AccessKind.PACKAGES_EXCEL)
    data = QueryDict(mutable=True)
    data["patient"] = str(patient.pk)
    return export_response(request, kind=ExportKind.PATIENT_PACKAGES, clinic=patient.clinic, data=data,
                           rows_total=len(packages) + entries.count(), queued=queued)  # fmt: skip


@login_required
@require_GET
def export_status(request: HttpRequest, export_id: int) -> HttpResponse:
    """An export's progress; the partial polls itself (htmx) until it is done,
    then offers the signed download link."""
    require_perm(request, Perm.EXPORT_REPORTS)
    export = Export.objects.filter(pk=export_id).first()
    if export is None:
        raise Http404
    context = {"export": export, "token": exports.download_token(export) if export.status == ExportStatus.READY else ""}
    template = "reports/_export_status.html" if request.headers.get("HX-Request") else "reports/export.html"
    return render(request, template, context)


@login_required
@require_GET
def export_download(request: HttpRequest, export_id: int) -> HttpResponseBase:
    require_perm(request, Perm.EXPORT_REPORTS)
    try:
        export = exports.export_for_download(export_id, request.GET.get("token", ""))
    except Export.DoesNotExist:
        raise Http404 from None
    except exports.ExportUnavailable as error:
        return render(request, "reports/export_gone.html", {"detail": error.detail}, status=error.status)
    return export_file_response(export)


def export_file_response(export: Export) -> FileResponse:
    response = FileResponse(export.file.open("rb"), as_attachment=True, filename=export.filename,
                            content_type=XLSX_CONTENT_TYPE)  # fmt: skip
    response["Cache-Control"] = "private, no-store"
    return response


def session_card_response(request: HttpRequest, package: PatientPackage, *, channel: AccessChannel) -> HttpResponse:
    """The package's session card as PDF (A4, or `?size=A5`), for staff: the
    patients' access log records it."""
    access_log_record(request=request, patients=[package.patient], channel=channel, what=AccessKind.SESSION_CARD)
    return session_card_pdf_response(request, package)


def session_card_pdf_response(request: HttpRequest, package: PatientPackage) -> HttpResponse:
    size = request.GET.get("size", "A4").upper()
    if size not in SIZES:
        size = "A4"
    # The QR code opens the card online: the patient's page for the patient,
    # the package's page for signed-in staff (`card_entry`).
    card_url = f"{settings.PUBLIC_URL}{reverse('portal:card', args=[package.clinic.portal_token, package.pk])}"
    html = exporters.session_card_html(package, selectors.session_card_rows(package), size=size, card_url=card_url)
    response = HttpResponse(exporters.session_card_pdf(html), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="session-card-{package.number}.pdf"'
    return response


@login_required
@require_GET
def session_card(request: HttpRequest, package_id: int) -> HttpResponse:
    package = (
        PatientPackage.objects.filter(pk=package_id, deleted_at__isnull=True)
        .select_related("patient", "clinic")
        .first()
    )
    if package is None:
        raise Http404
    return session_card_response(request, package, channel=AccessChannel.PAGE)


@login_required
@require_GET
def sales_and_usage(request: HttpRequest) -> HttpResponse:
    """Packages sold and sessions used in a period, and the packages to call
    the patient about (about to run out or to expire); `?format=xlsx`."""
    require_perm(request, Perm.EXPORT_REPORTS)
    clinic = _clinic(request)
    today = timezone.localdate(timezone=ZoneInfo(clinic.time_zone))
    data = request.GET.copy()
    data.setdefault("start", today.replace(day=1).isoformat())
    data.setdefault("end", today.isoformat())
    form = SalesForm(data)
    report = None
    if form.is_valid():
        free_at_most = form.cleaned_data["free_at_most"]
        report = selectors.sales_and_usage(
            clinic_id=clinic.pk, start=form.cleaned_data["start"], end=form.cleaned_data["end"],
            time_zone=clinic.time_zone, free_at_most=2 if free_at_most is None else free_at_most,
        )  # fmt: skip
        if request.GET.get("format") == "xlsx":
            title = _("Sales and usage from %(start)s to %(end)s") % {
                "start": date_format(form.cleaned_data["start"], "SHORT_DATE_FORMAT"),
                "end": date_format(form.cleaned_data["end"], "SHORT_DATE_FORMAT"),
            }
            content = exporters.sales_and_usage_xlsx(report, title=title, currency=clinic.currency,
                                                     time_zone=clinic.time_zone)  # fmt: skip
            access_log_record(request=request, patients=[p.patient for p in report.running_out],
                              channel=AccessChannel.EXPORT, what=AccessKind.SALES_AND_USAGE)  # fmt: skip
            response = HttpResponse(content, content_type=XLSX_CONTENT_TYPE)
            response["Content-Disposition"] = 'attachment; filename="sales-and-usage.xlsx"'
            return response
    query = data.copy()
    context = {"form": form, "report": report, "currency": clinic.currency, "clinic": clinic,
               "query": query.urlencode()}  # fmt: skip
    return render(request, "reports/sales.html", context)


@login_required
@require_GET
def patient_packages_export(request: HttpRequest, patient_id: int) -> HttpResponse:
    """A patient's packages in Excel: one sheet of packages, one of their history (seed 001)."""
    require_perm(request, Perm.EXPORT_REPORTS)
    patient = Patient.objects.select_related("clinic").filter(pk=patient_id).first()
    if patient is None:
        raise Http404
    return patient_packages_download(request, patient, queued=export_page_redirect)
