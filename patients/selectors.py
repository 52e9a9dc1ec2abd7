"""Reads of patients: the list with its search and filters, the change
history, and the public self-registration link."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy
from django_scopes import scopes_disabled

from clinic.history import EMPTY, Expander, FieldChange, HistoryEntry, Renderer, history_entries, yes_no
from clinic.models import Clinic
from clinic.normalize import digits, document_key, phone_display, search_key
from patients.models import AccessLog, AnamnesisQuestion, Patient, SelfRegistrationLink


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


def _answer_text(value: Any) -> str:
    if value is True or value is False:
        return yes_no(value)
    return EMPTY if value in (None, "") else str(value)


def _anamnesis_expander(questions: dict[str, AnamnesisQuestion]) -> Expander:
    """The answers' changes as "Anamnesis: <question>: old → new" lines, in
    the questionnaire's order (the answers are stored by question id)."""

    def expand(old: Any, new: Any) -> list[FieldChange]:
        old, new = old if isinstance(old, dict) else {}, new if isinstance(new, dict) else {}
        keys = [key for key in {*old, *new} if old.get(key) != new.get(key)]

        def order(key: str) -> tuple[int, int, str]:
            question = questions.get(key)
            return (0, question.position, key) if question else (1, 0, key)

        changes = []
        for key in sorted(keys, key=order):
            question = questions.get(key)
            text = question.text if question else _("a question no longer asked")
            changes.append(
                FieldChange(
                    f"anamnesis_answers.{key}",
                    _("Anamnesis: %(question)s") % {"question": text},
                    _answer_text(old.get(key)),
                    _answer_text(new.get(key)),
                    old.get(key),
                    new.get(key),
                )
            )
        return changes

    return expand


def _nobody(record: Any) -> str:
    """Who made a change no staff member made: the patient registering
    through the clinic's link, or the system (an import, a task)."""
    if record.history_type == "+" and record.self_registered:
        return _("the patient, through the registration link")
    return _("automatic")


def patient_history(patient: Patient) -> list[HistoryEntry]:
    """Who changed what and when, newest first, from django-simple-history,
    as people read it (`clinic.history`). Three queries at most, whatever the
    number of changes: the versions with their users, the questions of the
    anamnesis answers, the questionnaires chosen."""
    records = list(patient.history.select_related("history_user").order_by("-history_date", "-history_id"))
    keys = {str(key) for record in records for key in (record.anamnesis_answers or {})}
    ids = [int(key) for key in keys if key.isdigit()]
    questions = {str(q.pk): q for q in AnamnesisQuestion.objects.filter(pk__in=ids)} if ids else {}
    clinic = patient.clinic
    renderer = Renderer(
        currency=clinic.currency,
        time_zone=clinic.time_zone,
        formatters={name: phone_display for name in ("mobile", "phone", "guardian_mobile")},
        expanders={"anamnesis_answers": _anamnesis_expander(questions)},
        nobody=_nobody,
    )
    return history_entries(records, model=Patient, renderer=renderer)


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


# The home page's reads (issue 14): each a fixed number of queries.


def patients_to_review(*, clinic: Clinic, limit: int = 5) -> tuple[int, list[Patient]]:
    """Self-registered patients the clinic has not reviewed yet (P4): how
    many, and the oldest `limit` of them, in two queries."""
    rows = Patient.objects.filter(clinic=clinic, needs_review=True)
    return rows.count(), list(rows.order_by("created_at", "pk")[:limit])


def new_patients(*, clinic_id: int, periods: Sequence[tuple[dt.datetime, dt.datetime]]) -> list[int]:
    """Per period [start, end), the patients registered in the clinic: one
    query for all the periods."""
    if not periods:
        return []
    counts = {
        f"p{index}": Count("pk", filter=Q(created_at__gte=start, created_at__lt=end))
        for index, (start, end) in enumerate(periods)
    }
    earliest, latest = min(start for start, _end in periods), max(end for _start, end in periods)
    row = Patient.objects.filter(clinic_id=clinic_id, created_at__gte=earliest, created_at__lt=latest).aggregate(
        **counts
    )
    return [row[f"p{index}"] for index in range(len(periods))]
