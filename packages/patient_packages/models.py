"""Packages sold to patients and their append-only ledger (K1-K12).

Three tables work together:

- `PatientPackage` holds the terms copied from the template at link time and
  caches the balances (sessions total, booked, used; amounts total and open).
- `PackageUsage` is the current state of one session's unit of a package
  (reserved, debited, released) and what the session uses of the package's
  budget. A session is an opaque reference (an appointment's id): this app
  never imports scheduling; `scheduling.package_sessions` keeps the two in
  step. A partial unique constraint lets a session hold at most one live
  unit, so a second live debit for the same session is impossible even if
  code forgets the lock.
- `LedgerEntry` is the append-only history: every change to the balances is
  an entry with its deltas and the resulting balances, written in the same
  transaction as the cached balances, under a row lock on the package. Entries
  are never updated or deleted (model, admin, and a PostgreSQL trigger).

The balances on the package always equal the sums of the ledger's deltas;
`packages.patient_packages.ledger.package_reconcile` proves it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, NoReturn

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from clinic import money
from clinic.models import AppendOnlyQuerySet, Clinic, Room, TenantModel, tenant_history
from packages.catalog.models import CommissionKind, PackageTemplate, Posting, Renewal

# Installments a package's price can be split into: a year's worth of months.
MAX_INSTALLMENTS = 12


class PackageStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    INACTIVE = "inactive", _("Inactive")
    FINISHED = "finished", _("Finished")


class UsageState(models.TextChoices):
    RESERVED = "reserved", _("Reserved")
    DEBITED = "debited", _("Debited")
    RELEASED = "released", _("Released")


# A unit that holds a session of its package: booked (reserved) or used (debited).
LIVE_STATES = (UsageState.RESERVED, UsageState.DEBITED)


class EntryKind(models.TextChoices):
    CREATED = "created", _("Created")
    RESERVE = "reserve", _("Session booked")
    RELEASE = "release", _("Session released")
    DEBIT = "debit", _("Session debited")
    CREDIT = "credit", _("Session credited")
    MANUAL_CHANGE = "manual_change", _("Manually changed")
    RENEWAL = "renewal", _("Renewed")


class PatientPackage(TenantModel):
    number = models.CharField(_("number"), max_length=20, editable=False)
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+", verbose_name=_("clinic"))
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="packages", verbose_name=_("patient")
    )
    template = models.ForeignKey(
        PackageTemplate,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("package template"),
    )
    name = models.CharField(_("name"), max_length=200)
    # The template's terms as they were when the package was sold (X4): items,
    # budget limits, prices. Editing the template never changes them.
    terms = models.JSONField(_("terms"), default=dict, blank=True)
    posting = models.CharField(_("financial posting"), max_length=20, choices=Posting.choices, default=Posting.TOTAL)
    renewal = models.CharField(_("renewal"), max_length=10, choices=Renewal.choices, default=Renewal.NONE)
    validity_days = models.PositiveIntegerField(_("validity (days)"), null=True, blank=True)
    commission_kind = models.CharField(
        _("commission"), max_length=10, choices=CommissionKind.choices, default=CommissionKind.NONE
    )
    commission_value = models.DecimalField(_("commission value"), max_digits=12, decimal_places=2, default=0)

    # The sale's price in monthly installments (billing posts them, B4).
    installments = models.PositiveSmallIntegerField(_("installments"), default=1)
    paid_at = models.DateField(_("payment date"), null=True, blank=True)
    # Applied to every appointment booked through the package (K1).
    insurer = models.CharField(_("insurer"), max_length=200, blank=True)
    authorization = models.CharField(_("authorization code"), max_length=100, blank=True)
    room = models.ForeignKey(
        Room, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("room")
    )
    mobile = models.CharField(_("mobile for SMS"), max_length=20, blank=True)
    reminder_hours = models.PositiveSmallIntegerField(_("SMS reminder (hours before)"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)

    status = models.CharField(_("status"), max_length=10, choices=PackageStatus.choices, default=PackageStatus.ACTIVE)
    # Cached balances. They change only together with a ledger entry, through
    # `packages.patient_packages.ledger` (a locked row and an UPDATE), never by save().
    sessions_total = models.PositiveIntegerField(_("sessions"))
    sessions_booked = models.PositiveIntegerField(_("booked"), default=0)
    sessions_used = models.PositiveIntegerField(_("used"), default=0)
    amount_total = models.DecimalField(_("total value"), max_digits=12, decimal_places=2)
    amount_open = models.DecimalField(_("open value"), max_digits=12, decimal_places=2)
    # First day of the last month a monthly package was renewed for.
    renewed_through = models.DateField(_("renewed through"), null=True, blank=True)
    # The `seq` of the package's last ledger entry, kept with the balances
    # under the row lock, so appending an entry needs no MAX() query.
    last_seq = models.PositiveIntegerField(default=0, editable=False)

    created_at = models.DateTimeField(_("linked at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+", verbose_name=_("linked by")
    )
    # Deleting a package that was never debited hides it; its ledger stays.
    deleted_at = models.DateTimeField(_("deleted at"), null=True, blank=True)

    history = tenant_history(
        excluded_fields=["sessions_booked", "sessions_used", "amount_open", "renewed_through", "terms", "last_seq"]
    )

    class Meta:
        verbose_name = _("patient package")
        verbose_name_plural = _("patient packages")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "number"], name="patient_package_number_unique"),
            models.CheckConstraint(condition=Q(sessions_total__gte=1), name="patient_package_sessions_positive"),
            models.CheckConstraint(
                condition=Q(sessions_used__lte=F("sessions_total")), name="patient_package_used_within_total"
            ),
            models.CheckConstraint(
                condition=Q(sessions_used__lte=F("sessions_total") - F("sessions_booked")),
                name="patient_package_available_not_negative",
            ),
            models.CheckConstraint(condition=Q(amount_open__gte=0), name="patient_package_open_not_negative"),
            models.CheckConstraint(
                condition=Q(amount_open__lte=F("amount_total")), name="patient_package_open_within_total"
            ),
            models.CheckConstraint(condition=Q(status__in=PackageStatus.values), name="patient_package_status_valid"),
        ]
        indexes = [models.Index(fields=["organization", "patient", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.number} · {self.name}"

    @property
    def sessions_remaining(self) -> int:
        return self.sessions_total - self.sessions_used

    @property
    def sessions_available(self) -> int:
        """Sessions that can still be booked: neither used nor held by an appointment."""
        return self.sessions_total - self.sessions_used - self.sessions_booked

    @property
    def session_item(self) -> dict[str, Any] | None:
        """The item its sessions are: the one with the most of them (the
        physiotherapy of "1 assessment + 6 sessions"); None for a direct package."""
        items = self.terms.get("items") or []
        return max(items, key=lambda item: int(item.get("quantity") or 0), default=None)

    @property
    def average_price(self) -> Decimal:
        return money.average(self.amount_total, self.sessions_total)


class PackageUsage(TenantModel):
    """One session's unit of a package: reserved, then debited, or released.

    `session` is the id of the appointment the unit belongs to, an opaque
    reference: the ledger never reads scheduling's tables. `session_start`
    places the session in a monthly plan's cycle, and `consumption` is what
    the session uses of the package's budget (its service lines), so budget
    limits are checked from this table alone, under the package's lock.
    """

    package = models.ForeignKey(PatientPackage, on_delete=models.PROTECT, related_name="usages")
    session = models.PositiveBigIntegerField()
    session_start = models.DateTimeField()
    state = models.CharField(max_length=10, choices=UsageState.choices)
    # The session's value when it was debited; a credit gives back exactly this.
    amount = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    # [{"service": id, "quantity": n, "unit_price": "120.00"}]
    consumption = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            # A session holds at most one live unit, in one package: this
            # makes a second live debit impossible whatever the code does.
            models.UniqueConstraint(
                fields=["organization", "session"],
                condition=Q(state__in=LIVE_STATES),
                name="package_usage_one_live_unit_per_session",
            ),
            models.CheckConstraint(condition=Q(state__in=UsageState.values), name="package_usage_state_valid"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="package_usage_amount_not_negative"),
        ]
        indexes = [models.Index(fields=["package", "state"])]


class LedgerEntry(TenantModel):
    """One change to a package's balances. Append-only: never updated, never deleted."""

    package = models.ForeignKey(PatientPackage, on_delete=models.PROTECT, related_name="entries")
    # Position in the package's ledger: two writers that skipped the lock
    # would collide here instead of interleaving silently.
    seq = models.PositiveIntegerField()
    kind = models.CharField(max_length=20, choices=EntryKind.choices)
    # The session (appointment id) a consumption entry is about; a plain
    # reference, as in `PackageUsage`: the entry outlives a deleted appointment.
    session = models.PositiveBigIntegerField(null=True, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    status = models.CharField(max_length=10, choices=PackageStatus.choices)

    # What the entry changed...
    d_sessions_total = models.IntegerField(default=0)
    d_sessions_booked = models.IntegerField(default=0)
    d_sessions_used = models.IntegerField(default=0)
    d_amount_total = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    d_amount_open = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    # ...and the balances right after it.
    sessions_total = models.PositiveIntegerField()
    sessions_booked = models.PositiveIntegerField()
    sessions_used = models.PositiveIntegerField()
    amount_total = models.DecimalField(max_digits=12, decimal_places=2)
    amount_open = models.DecimalField(max_digits=12, decimal_places=2)
    average_price = models.DecimalField(max_digits=12, decimal_places=2)

    # The month a renewal is for (first day), so a month renews once.
    period = models.DateField(null=True, blank=True)
    # Structured details: the session's start for debits and credits, the
    # diff [{field, from, to}] of a manual change.
    details = models.JSONField(default=dict, blank=True)
    note = models.TextField(blank=True)

    # Scoped like every tenant model, with the append-only queryset.
    objects = ScopedManager(  # type: ignore[misc]
        _manager_class=models.Manager.from_queryset(AppendOnlyQuerySet), organization="organization"
    )

    class Meta:
        verbose_name = _("package history entry")
        verbose_name_plural = _("package history")
        ordering = ["package", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["package", "seq"], name="ledger_entry_seq_unique"),
            models.UniqueConstraint(
                fields=["package", "period"],
                condition=Q(kind="renewal"),
                name="ledger_entry_one_renewal_per_month",
            ),
            models.CheckConstraint(condition=Q(kind__in=EntryKind.values), name="ledger_entry_kind_valid"),
        ]

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise TypeError("Ledger entries are append-only: write a correcting entry instead.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise TypeError("Ledger entries are append-only: write a correcting entry instead.")

    @property
    def sessions_balance(self) -> int:
        """The "session balance" column of the history: sessions not yet used."""
        return self.sessions_total - self.sessions_used
