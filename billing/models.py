"""What patients owe and what they paid (B1-B3).

- `Receivable`: one charge. A session without a package, or of a package
  that posts per procedure, owes its service lines' prices from the moment
  it is booked; a package that posts its total owes its price when it is
  linked, in one or more installments. Its `paid` is the sum of its
  allocations, kept in the same transaction as they are written.
- `Payment`: money received (or a package's session used to pay), never
  edited, never deleted. What of it is not allocated to receivables is the
  patient's account credit.
- `Allocation`: a part of a payment applied to a receivable (positive), or
  taken back from it (negative: the session was cancelled, or the part was
  refunded). Append-only.
- `Refund`: money (or a package session) given back from a payment.
  Append-only; a refund of an allocated part writes its negative allocation
  in the same transaction.
- `PatientAccount`: the patient's account credit, the sum of their payments'
  unallocated rests, locked when it is spent.

On PostgreSQL, triggers refuse UPDATE and DELETE on payments, allocations
and refunds (migration 0002).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from clinic.models import AppendOnlyQuerySet, Clinic, Professional, TenantModel
from packages.patient_packages.models import PatientPackage
from patients.models import Patient
from scheduling.models import Appointment

ZERO = Decimal("0.00")


def _money(verbose_name: Any, **kwargs: Any) -> models.DecimalField:
    return models.DecimalField(verbose_name, max_digits=12, decimal_places=2, **kwargs)


class ReceivableKind(models.TextChoices):
    SESSION = "session", _("Session")
    PACKAGE = "package", _("Package sale")


class ReceivableStatus(models.TextChoices):
    OPEN = "open", _("Open")
    PARTIAL = "partial", _("Partly paid")
    PAID = "paid", _("Paid")
    CANCELLED = "cancelled", _("Cancelled")


class Method(models.TextChoices):
    CASH = "cash", _("Cash")
    CARD = "card", _("Card")
    PIX = "pix", _("Pix")
    TRANSFER = "transfer", _("Bank transfer")
    PACKAGE = "package", _("Package")


MONEY_METHODS = [Method.CASH, Method.CARD, Method.PIX, Method.TRANSFER]


class PayerKind(models.TextChoices):
    PATIENT = "patient", _("The patient")
    GUARDIAN = "guardian", _("The guardian")


class AllocationKind(models.TextChoices):
    PAYMENT = "payment", _("Payment")  # the payment's own money, when it was taken
    CREDIT = "credit", _("Account credit")  # an earlier payment's rest, spent later
    RELEASE = "release", _("Released")  # the receivable was cancelled or lowered: back to credit
    REFUND = "refund", _("Refunded")


class Receivable(TenantModel):
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+", verbose_name=_("clinic"))
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+", verbose_name=_("patient"))
    kind = models.CharField(_("kind"), max_length=10, choices=ReceivableKind.choices)
    # The session charged; kept (null) when the appointment is deleted, so the
    # history of what was charged and paid survives it.
    appointment = models.ForeignKey(
        Appointment, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("session")
    )
    # The package sold (kind package), or the package whose session this is.
    patient_package = models.ForeignKey(
        PatientPackage, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("package")
    )
    # The session's professional, copied for the filters (kept by the owner
    # when the session moves).
    professional = models.ForeignKey(
        Professional, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("professional"),
    )  # fmt: skip
    installment = models.PositiveSmallIntegerField(_("installment"), null=True, blank=True)
    installments = models.PositiveSmallIntegerField(_("installments"), null=True, blank=True)
    description = models.CharField(_("description"), max_length=300)
    due_date = models.DateField(_("due date"))
    amount = _money(_("amount"))
    # The price before a confirmed adjustment to a package's average (K11).
    list_amount = _money(_("price before adjustment"), null=True, blank=True)
    paid = _money(_("paid"), default=ZERO)
    status = models.CharField(
        _("status"), max_length=10, choices=ReceivableStatus.choices, default=ReceivableStatus.OPEN
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)

    class Meta:
        verbose_name = _("receivable")
        verbose_name_plural = _("receivables")
        constraints = [
            models.UniqueConstraint(
                fields=["appointment"], condition=Q(appointment__isnull=False), name="receivable_one_per_session"
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="receivable_amount_not_negative"),
            models.CheckConstraint(
                condition=Q(paid__gte=0, paid__lte=models.F("amount")), name="receivable_paid_in_range"
            ),
            models.CheckConstraint(condition=Q(status__in=ReceivableStatus.values), name="receivable_status_valid"),
            models.CheckConstraint(condition=Q(kind__in=ReceivableKind.values), name="receivable_kind_valid"),
        ]
        indexes = [
            models.Index(fields=["organization", "due_date", "id"], name="receivable_by_due_date"),
            models.Index(fields=["patient", "status"], name="receivable_by_patient"),
            models.Index(fields=["patient_package"], name="receivable_by_package"),
        ]

    def __str__(self) -> str:
        return self.description

    @property
    def open(self) -> Decimal:
        return ZERO if self.status == ReceivableStatus.CANCELLED else self.amount - self.paid


class Payment(TenantModel):
    number = models.PositiveIntegerField(_("number"), editable=False)
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+", verbose_name=_("clinic"))
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+", verbose_name=_("patient"))
    method = models.CharField(_("method"), max_length=10, choices=Method.choices)
    amount = _money(_("amount"))
    payer = models.CharField(_("paid by"), max_length=10, choices=PayerKind.choices, default=PayerKind.PATIENT)
    payer_name = models.CharField(_("payer's name"), max_length=200)
    patient_package = models.ForeignKey(
        PatientPackage, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("package")
    )
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+", verbose_name=_("received by")
    )
    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    note = models.CharField(_("note"), max_length=300, blank=True)

    objects = ScopedManager(  # type: ignore[misc]
        _manager_class=models.Manager.from_queryset(AppendOnlyQuerySet), organization="organization"
    )

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        constraints = [
            models.UniqueConstraint(fields=["organization", "number"], name="payment_number_unique"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="payment_amount_not_negative"),
            models.CheckConstraint(condition=Q(method__in=Method.values), name="payment_method_valid"),
            models.CheckConstraint(
                condition=Q(method=Method.PACKAGE, patient_package__isnull=False)
                | (~Q(method=Method.PACKAGE) & Q(patient_package__isnull=True)),
                name="payment_package_iff_method_package",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "received_at"], name="payment_by_received_at"),
            models.Index(fields=["patient", "received_at"], name="payment_by_patient"),
        ]

    def __str__(self) -> str:
        return f"Nº {self.number}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise TypeError("Payments are never edited: refund and take a new payment.")
        super().save(*args, **kwargs)


class Refund(TenantModel):
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount = _money(_("amount"))
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    created_at = models.DateTimeField(_("refunded at"), default=timezone.now)

    objects = ScopedManager(  # type: ignore[misc]
        _manager_class=models.Manager.from_queryset(AppendOnlyQuerySet), organization="organization"
    )

    class Meta:
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive")]

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise TypeError("Refunds are append-only.")
        super().save(*args, **kwargs)


class Allocation(TenantModel):
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="allocations")
    receivable = models.ForeignKey(Receivable, on_delete=models.PROTECT, related_name="allocations")
    kind = models.CharField(max_length=10, choices=AllocationKind.choices)
    amount = _money(_("amount"))
    refund = models.ForeignKey(Refund, on_delete=models.PROTECT, null=True, blank=True, related_name="allocations")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager(  # type: ignore[misc]
        _manager_class=models.Manager.from_queryset(AppendOnlyQuerySet), organization="organization"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="allocation_amount_not_zero"),
            models.CheckConstraint(
                condition=Q(kind__in=[AllocationKind.PAYMENT, AllocationKind.CREDIT], amount__gt=0)
                | Q(kind__in=[AllocationKind.RELEASE, AllocationKind.REFUND], amount__lt=0),
                name="allocation_sign_follows_kind",
            ),
            models.CheckConstraint(
                condition=Q(kind=AllocationKind.REFUND, refund__isnull=False)
                | (~Q(kind=AllocationKind.REFUND) & Q(refund__isnull=True)),
                name="allocation_refund_iff_kind_refund",
            ),
        ]
        indexes = [models.Index(fields=["receivable", "payment"], name="allocation_by_receivable")]

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise TypeError("Allocations are append-only.")
        super().save(*args, **kwargs)


class PatientAccount(TenantModel):
    """The patient's account credit: kept equal to the sum of their money
    payments' unallocated rests, and the row a payment that spends it locks."""

    patient = models.OneToOneField(Patient, on_delete=models.PROTECT, related_name="+")
    credit = _money(_("account credit"), default=ZERO)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(credit__gte=0), name="patient_account_credit_not_negative")]
