"""Reads of patients: the list with its search and filters, the change
history, and the public self-registration link."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import pgettext_lazy
from django_scopes import scopes_disabled

from clinic.models import Clinic
from clinic.normalize import digits, document_key, search_key
from patients.models import AccessLog, Patient, SelfRegistrationLink


class PatientStatus:
    ACTIVE = "active"
    ARCHIVED = "archived"
    TO_REVIEW = "to_review"
    MINOR_WITHOUT_GUARDIAN = "minor_without_guardian"
    ALL = "all"

    choices = [
        (ACTIVE, pgettext_lazy("patients", "Active")),
        (ARCHIVED, pgettext_lazy("patients", "Archived")),
        (TO_REVIEW, pgettext_lazy("patients", "To review")),
        (MINOR_WITHOUT_GUARDIAN, pgettext_lazy("patients", "Minors without guardian")),
        (ALL, pgettext_lazy("patients", "All")),
    ]


def adulthood_cutoff(today: dt.date) -> dt.date:
    """Born after this day means under 18 today (29 February counts as 1 March)."""
    try:
        return today.replace(year=today.year - 18)
    except ValueError:
        return today.replace(year=today.year - 18, month=3, day=1) - dt.timedelta(days=1)


def patient_search(queryset: QuerySet[Patient], term: str) -> QuerySet[Patient]:
    """Every word must match the name (accents and case ignored); a term with
    digits also matches the document and phone numbers."""
    term = term.strip()
    if not term:
        return queryset
    by_name = Q()
    for word in search_key(term).split():
        by_name &= Q(name_search__contains=word)
    condition = by_name
    number = digits(term)
    if len(number) >= 3:
        condition |= Q(document_normalized__contains=document_key(term)) | Q(mobile__contains=number)
        condition |= Q(phone__contains=number) | Q(guardian_mobile__contains=number)
    return queryset.filter(condition)


def patient_list(
    *,
    clinic: Clinic | None = None,
    search: str = "",
    status: str = PatientStatus.ACTIVE,
    professional_id: int | None = None,
    today: dt.date | None = None,
) -> QuerySet[Patient]:
    """The patients of the organization (of `clinic` when given), filtered."""
    queryset = Patient.objects.select_related("clinic").prefetch_related("professionals")
    if clinic is not None:
        queryset = queryset.filter(clinic=clinic)
    if status == PatientStatus.ACTIVE:
        queryset = queryset.filter(is_active=True)
    elif status == PatientStatus.ARCHIVED:
        queryset = queryset.filter(is_active=False)
    elif status == PatientStatus.TO_REVIEW:
        queryset = queryset.filter(needs_review=True)
    elif status == PatientStatus.MINOR_WITHOUT_GUARDIAN:
        assert today is not None, "the minors filter needs the clinic's today"
        queryset = queryset.filter(is_active=True, birth_date__gt=adulthood_cutoff(today), guardian_name="")
    if professional_id is not None:
        queryset = queryset.filter(professionals__id=professional_id)
    return patient_search(queryset, search).order_by("name_search", "pk")


@dataclass(frozen=True)
class Change:
    field: str
    label: str
    old: Any
    new: Any


@dataclass(frozen=True)
class HistoryEntry:
    when: dt.datetime
    user: Any
    kind: str  # "+" created, "~" changed, "-" deleted
    changes: list[Change]


def patient_history(patient: Patient) -> list[HistoryEntry]:
    """Who changed what and when, newest first, from django-simple-history."""
    records = list(patient.history.select_related("history_user").order_by("-history_date", "-history_id"))
    entries = []
    for record, previous in zip(records, [*records[1:], None], strict=True):
        changes: list[Change] = []
        if previous is not None:
            delta = record.diff_against(previous)
            for change in delta.changes:
                label = getattr(Patient._meta.get_field(change.field), "verbose_name", change.field)
                changes.append(Change(change.field, str(label), change.old, change.new))
        entries.append(HistoryEntry(record.history_date, record.history_user, record.history_type, changes))
    return entries


def patient_access_log(patient: Patient, limit: int = 200) -> QuerySet[AccessLog]:
    return AccessLog.objects.filter(patient=patient).select_related("user")[:limit]


def self_registration_link_live(clinic: Clinic) -> SelfRegistrationLink | None:
    return SelfRegistrationLink.objects.filter(clinic=clinic, revoked_at__isnull=True).first()


def self_registration_link_by_token(token: str) -> SelfRegistrationLink | None:
    """The live link with this token, in any organization.

    One of the few places that read without a tenant scope: a public visitor
    has no organization until the link tells which one it is. It returns the
    link only; the caller opens that organization's scope for everything else.
    """
    if not token or len(token) > 64:
        return None
    with scopes_disabled():
        return (
            SelfRegistrationLink.objects.select_related("clinic", "organization")
            .filter(token=token, revoked_at__isnull=True, clinic__is_active=True)
            .first()
        )
