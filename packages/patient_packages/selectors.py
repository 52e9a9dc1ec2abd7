"""Reads of patient packages: lists, a package's ledger, its balances."""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, QuerySet

from packages.patient_packages.models import EntryKind, LedgerEntry, PatientPackage


def patient_packages(*, patient: Any | None = None, include_deleted: bool = False) -> QuerySet[PatientPackage]:
    """Patient packages, newest first, with what their list rows show."""
    queryset = PatientPackage.objects.select_related("patient", "clinic", "template")
    if patient is not None:
        queryset = queryset.filter(patient=patient)
    if not include_deleted:
        queryset = queryset.filter(deleted_at__isnull=True)
    return queryset.order_by("-created_at", "-pk")


def package_entries(package: PatientPackage) -> QuerySet[LedgerEntry]:
    """The package's ledger in order, oldest first."""
    return LedgerEntry.objects.filter(package=package).select_related("actor").order_by("seq")


def patient_package_rows(*, patient: Any) -> QuerySet[PatientPackage]:
    """The patient's packages for their list page, each with `was_debited`:
    whether a session was ever debited, which decides between offering
    "delete" and "deactivate" (K4). One query whatever the number of rows."""

    debits = LedgerEntry.objects.filter(package=OuterRef("pk"), kind=EntryKind.DEBIT)
    return patient_packages(patient=patient).select_related("room").annotate(was_debited=Exists(debits))
