"""Appointments.

This is the part of scheduling that the package ledger needs: an appointment
of a patient at a time, optionally linked to a patient package. The calendar,
service lines, statuses with their debit/release flags and recurrence build on
it (issue: scheduling).
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from clinic.models import Clinic, Professional, Room, TenantModel, tenant_history


class Appointment(TenantModel):
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+", verbose_name=_("clinic"))
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="appointments", verbose_name=_("patient")
    )
    professional = models.ForeignKey(
        Professional, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("professional")
    )
    room = models.ForeignKey(
        Room, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("room")
    )
    start = models.DateTimeField(_("start"))
    end = models.DateTimeField(_("end"))
    status = models.CharField(_("status"), max_length=40, default="scheduled")
    patient_package = models.ForeignKey(
        "packages.PatientPackage",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="appointments",
        verbose_name=_("patient package"),
    )
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    history = tenant_history()

    class Meta:
        verbose_name = _("appointment")
        verbose_name_plural = _("appointments")
        ordering = ["start", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="appointment_ends_after_start"),
        ]
        indexes = [models.Index(fields=["organization", "clinic", "start"])]

    def __str__(self) -> str:
        return f"{self.patient} · {self.start:%Y-%m-%d %H:%M}"
