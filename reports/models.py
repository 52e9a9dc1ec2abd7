"""Exports too big to write inside a request (R3).

An export over `EXPORT_ASYNC_ROWS` rows is written by a Celery task: the row
says how far it got (`rows_done` of `rows_total`), and once ready its file is
kept for `EXPORT_TTL_HOURS` and served through a signed, expiring link to
users of the same organization who may export. Without Redis the task runs
inline and the export is ready when the page first shows it.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from clinic.models import Clinic, TenantModel


class ExportKind(models.TextChoices):
    PACKAGE_REPORT = "package_report", _("Package report")
    PATIENT_PACKAGES = "patient_packages", _("Packages in Excel")


class ExportStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Being written")
    READY = "ready", _("Ready")
    FAILED = "failed", _("Failed")
    EXPIRED = "expired", _("Expired")


def export_path(export: Export, filename: str) -> str:
    # A random name: the file is never reachable by guessing its path.
    return f"exports/{export.organization_id}/{uuid.uuid4().hex}.xlsx"


class Export(TenantModel):
    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="+", verbose_name=_("clinic"))
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("by")
    )
    kind = models.CharField(_("kind"), max_length=32, choices=ExportKind.choices)
    # The request's query (a QueryDict as lists), replayed by the task.
    params = models.JSONField(_("filters"), default=dict)
    language = models.CharField(_("language"), max_length=16)
    status = models.CharField(_("status"), max_length=16, choices=ExportStatus.choices, default=ExportStatus.QUEUED)
    rows_total = models.PositiveIntegerField(_("rows"), default=0)
    rows_done = models.PositiveIntegerField(_("rows written"), default=0)
    file = models.FileField(_("file"), upload_to=export_path, blank=True)
    filename = models.CharField(_("file name"), max_length=120)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)

    class Meta:
        verbose_name = _("export")
        verbose_name_plural = _("exports")
        indexes = [
            models.Index(fields=["organization", "requested_by", "-created_at"], name="export_by_user"),
            models.Index(fields=["status", "expires_at"], name="export_expiry"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    @property
    def finished(self) -> bool:
        return self.status in (ExportStatus.READY, ExportStatus.FAILED, ExportStatus.EXPIRED)

    @property
    def percent(self) -> int:
        if self.status == ExportStatus.READY:
            return 100
        return min(99, self.rows_done * 100 // self.rows_total) if self.rows_total else 0
