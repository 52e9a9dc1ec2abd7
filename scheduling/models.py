"""Appointments, their service lines, statuses and evolution notes (A1-A3, A8).

An appointment may be linked to a patient package; its status (and whether it
was paid from the package) decides what the package's unit is
(`scheduling.package_sessions`): a releasing status releases it (crediting a
debited session back), a debiting status or a payment from the package debits
it, any other status keeps it reserved.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from clinic.models import HEX_COLOR, Clinic, Professional, Room, TenantModel, tenant_history


class BuiltinStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    CONFIRMED = "confirmed", _("Confirmed")
    ATTENDED = "attended", _("Attended")
    MISSED = "missed", _("Missed")
    JUSTIFIED_ABSENCE = "justified_absence", _("Justified absence")
    CANCELLED = "cancelled", _("Cancelled")


class AppointmentStatus(TenantModel):
    """A status an appointment can be in: the six built-ins of every
    organization and its own custom ones (A2)."""

    code = models.SlugField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=80)
    color = models.CharField(_("colour"), max_length=7, default="#64748b", validators=[HEX_COLOR])
    debits = models.BooleanField(
        _("debits the package session"), default=False, help_text=_("Like “attended”: one session is used.")
    )
    releases = models.BooleanField(
        _("releases the session for a new booking"),
        default=False,
        help_text=_("Like “justified absence”: the session goes back to the package."),
    )
    is_builtin = models.BooleanField(default=False, editable=False)
    position = models.PositiveSmallIntegerField(default=100)
    is_active = models.BooleanField(_("active"), default=True)

    history = tenant_history()

    class Meta:
        verbose_name = _("appointment status")
        verbose_name_plural = _("appointment statuses")
        ordering = ["position", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "code"],
                name="appointment_status_code_unique",
                violation_error_message=_("A status with this code already exists."),
            ),
            models.CheckConstraint(
                condition=~(Q(debits=True) & Q(releases=True)),
                name="appointment_status_debits_or_releases",
                violation_error_message=_("A status either debits the session or releases it, not both."),
            ),
            models.CheckConstraint(condition=Q(color__regex=r"^#[0-9a-fA-F]{6}$"), name="appointment_status_color"),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        """Built-ins in the reader's language; custom statuses as the clinic named them."""
        return str(BuiltinStatus(self.code).label) if self.is_builtin else self.name


class AppointmentSeries(TenantModel):
    """The recurrence rule that created a group of appointments (A3)."""

    rule = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)


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
    status = models.CharField(_("status"), max_length=40, default=BuiltinStatus.SCHEDULED)
    # False once cancelled: a cancelled appointment no longer holds its slot.
    holds_slot = models.BooleanField(default=True)
    patient_package = models.ForeignKey(
        "patient_packages.PatientPackage",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="appointments",
        verbose_name=_("patient package"),
    )
    # Paid from its package (K8, B2): the session stays debited whatever its
    # status, until a releasing status gives it back.
    paid_from_package = models.BooleanField(_("paid from the package"), default=False)
    authorization = models.CharField(_("insurer authorization"), max_length=100, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    # Its own reminder lead time, before the package link's and the clinic's (A7).
    reminder_hours = models.PositiveSmallIntegerField(_("reminder (hours before)"), null=True, blank=True)
    # Booked by the patient on their page or the clinic's booking link (A6).
    booked_online = models.BooleanField(_("booked online"), default=False)
    series = models.ForeignKey(
        AppointmentSeries, on_delete=models.SET_NULL, null=True, blank=True, related_name="appointments"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")

    history = tenant_history()

    class Meta:
        verbose_name = _("appointment")
        verbose_name_plural = _("appointments")
        ordering = ["start", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="appointment_ends_after_start"),
        ]
        indexes = [
            models.Index(fields=["organization", "clinic", "start"]),
            models.Index(fields=["organization", "patient", "start"]),
        ]

    def __str__(self) -> str:
        return f"{self.patient} · {self.start:%Y-%m-%d %H:%M}"


class AppointmentLine(TenantModel):
    """A service of an appointment: quantity and unit price (A1)."""

    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="lines")
    service = models.ForeignKey("catalog.Service", on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField(default=1)
    price = models.DecimalField(_("unit price"), max_digits=12, decimal_places=2)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="appointment_line_quantity_positive"),
            models.CheckConstraint(condition=Q(price__gte=0), name="appointment_line_price_not_negative"),
        ]


class EvolutionNote(TenantModel):
    """A professional's clinical note on a session (A8). Only professionals and
    owners may read them."""

    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="evolution_notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField(_("note"))
    created_at = models.DateTimeField(auto_now_add=True)

    history = tenant_history()

    class Meta:
        ordering = ["created_at", "pk"]
