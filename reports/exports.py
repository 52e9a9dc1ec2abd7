"""Excel exports, written in the request or, over `EXPORT_ASYNC_ROWS` rows,
by a Celery task (R3).

One builder per kind writes the file from the request's query, so the
request and the task write the same bytes; the task replays the query the
request stored on its `Export` row, in the requester's language. The finished
file is served through a link signed with the export's id and a timestamp,
valid for `EXPORT_TTL_HOURS`, and only to users of the export's organization
who may export (the scoped query finds no other organization's export).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.core.files.base import ContentFile
from django.db.models import Q, QuerySet
from django.http import QueryDict
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from clinic.errors import ApplicationError
from clinic.jobs import enqueue
from clinic.models import Clinic, User
from clinic.spreadsheets import Progress
from clinic.tenancy import organization_scope
from packages.patient_packages.models import LedgerEntry, PatientPackage
from patients.models import Patient
from reports import exporters, selectors
from reports.forms import package_report_form
from reports.models import Export, ExportKind, ExportStatus

logger = logging.getLogger(__name__)

_SALT = "reports.export"
# A task that has not reported progress for this long is taken as crashed and
# may be run again (tasks are acknowledged late, so a lost worker's task comes back).
STALE_AFTER = dt.timedelta(minutes=10)


@dataclass(frozen=True)
class Built:
    content: bytes
    filename: str


class ExportUnavailable(ApplicationError):
    code = "export_unavailable"
    status = 410


def package_report(clinic: Clinic, data: QueryDict, progress: Progress | None = None) -> Built:
    form = package_report_form(data, clinic)
    rows = selectors.package_report_rows(form.filters(time_zone=clinic.time_zone))
    title = _("Package report") + (f" — {form.described()}" if form.described() else "")
    content = exporters.package_report_xlsx(
        rows, title=title, currency=clinic.currency, time_zone=clinic.time_zone, progress=progress
    )
    return Built(content, f"packages-{timezone.localdate().isoformat()}.xlsx")


def patient_entries(patient: Patient) -> tuple[list[PatientPackage], QuerySet[LedgerEntry]]:
    packages = list(PatientPackage.objects.filter(patient=patient, deleted_at__isnull=True).order_by("created_at"))
    entries = LedgerEntry.objects.filter(package__in=packages).select_related("actor").order_by("package_id", "seq")
    return packages, entries


def patient_packages(clinic: Clinic, data: QueryDict, progress: Progress | None = None) -> Built:
    patient = Patient.objects.select_related("clinic").get(pk=int(str(data["patient"])))
    packages, entries = patient_entries(patient)
    content = exporters.patient_packages_xlsx(
        patient, packages, entries,
        currency=patient.clinic.currency, time_zone=patient.clinic.time_zone, progress=progress,
    )  # fmt: skip
    return Built(content, f"packages-{patient.pk}.xlsx")


BUILDERS: dict[str, Callable[[Clinic, QueryDict, Progress | None], Built]] = {
    ExportKind.PACKAGE_REPORT: package_report,
    ExportKind.PATIENT_PACKAGES: patient_packages,
}


def is_large(rows_total: int) -> bool:
    return rows_total > settings.EXPORT_ASYNC_ROWS


def export_start(*, user: User, clinic: Clinic, kind: ExportKind, data: QueryDict, rows_total: int) -> Export:
    """Queue an export (entry point). The task runs once this commits; without
    a broker it runs inline, so the export may already be ready on return."""
    params = {key: data.getlist(key) for key in data if key != "format"}
    export = Export.objects.create(
        organization_id=clinic.organization_id, clinic=clinic, requested_by=user, kind=kind, params=params,
        language=translation.get_language() or settings.LANGUAGE_CODE, rows_total=rows_total,
        filename="export.xlsx",
    )  # fmt: skip
    from reports.tasks import export_run

    enqueue(export_run, export.pk, clinic.organization_id)
    return export


def export_run(export_id: int) -> bool:
    """Write the export's file (the task's body, inside the tenant scope).

    Claims the row first: a second delivery of the same task finds it running
    (or done) and returns False; a claim left by a crashed worker (no progress
    for `STALE_AFTER`) is taken over and the file written anew.
    """
    now = timezone.now()
    claimable = Q(status=ExportStatus.QUEUED) | Q(status=ExportStatus.RUNNING, started_at__lt=now - STALE_AFTER)
    claimed = Export.objects.filter(claimable, pk=export_id).update(
        status=ExportStatus.RUNNING, started_at=now, rows_done=0
    )
    if not claimed:
        return False
    export = Export.objects.select_related("clinic").get(pk=export_id)

    def report(done: int) -> None:
        # Outside any transaction: each update commits, and the page polling sees it.
        Export.objects.filter(pk=export_id).update(rows_done=done, started_at=timezone.now())

    data = QueryDict(mutable=True)
    for key, values in export.params.items():
        data.setlist(key, values)
    try:
        with translation.override(export.language):
            built = BUILDERS[export.kind](export.clinic, data, Progress(report, every=exporters.CHUNK))
    except Exception as error:
        logger.exception("export %s failed", export_id)
        Export.objects.filter(pk=export_id).update(
            status=ExportStatus.FAILED, error=f"{type(error).__name__}: {error}"[:500], finished_at=timezone.now()
        )
        return False
    export.file.save(export.filename, ContentFile(built.content), save=False)
    finished = timezone.now()
    Export.objects.filter(pk=export_id).update(
        status=ExportStatus.READY, file=export.file.name, filename=built.filename, rows_done=export.rows_total,
        finished_at=finished, expires_at=finished + dt.timedelta(hours=settings.EXPORT_TTL_HOURS),
    )  # fmt: skip
    return True


def download_token(export: Export) -> str:
    token: str = signing.TimestampSigner(salt=_SALT).sign(str(export.pk))
    return token


def export_for_download(export_id: int, token: str) -> Export:
    """The ready export the signed link names, or ExportUnavailable.

    The caller has checked the user's permission; the scoped query answers
    DoesNotExist (404) for another organization's export.
    """
    export = Export.objects.get(pk=export_id)
    try:
        signed = signing.TimestampSigner(salt=_SALT).unsign(
            token, max_age=dt.timedelta(hours=settings.EXPORT_TTL_HOURS)
        )
    except signing.SignatureExpired:
        raise ExportUnavailable(_("This download link has expired. Export again.")) from None
    except signing.BadSignature:
        raise Export.DoesNotExist from None
    if signed != str(export.pk):
        raise Export.DoesNotExist
    if export.status == ExportStatus.EXPIRED or (export.expires_at and export.expires_at <= timezone.now()):
        raise ExportUnavailable(_("This export has expired and its file was deleted. Export again."))
    if export.status != ExportStatus.READY:
        raise ExportUnavailable(_("This export is not ready."))
    return export


def exports_purge(now: dt.datetime | None = None) -> int:
    """Delete the files of expired exports (every organization; beat, hourly)."""
    now = now or timezone.now()
    with scopes_disabled():  # the one cross-tenant listing, to open each scope
        due = list(
            Export.objects.filter(status=ExportStatus.READY, expires_at__lte=now).values_list("pk", "organization_id")
        )
    for export_id, organization_id in due:
        with organization_scope(organization_id):
            export = Export.objects.get(pk=export_id)
            export.file.delete(save=False)
            Export.objects.filter(pk=export_id).update(status=ExportStatus.EXPIRED, file="")
    return len(due)
