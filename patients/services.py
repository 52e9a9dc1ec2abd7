"""Every write on patients, their questionnaires, the self-registration link
and the access log."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.request import Request

from clinic.errors import ApplicationError, ValidationFailed, full_clean
from clinic.models import Clinic, Organization, Professional, User
from clinic.normalize import document_key, phone_e164, search_key
from patients.models import (
    AccessChannel,
    AccessLog,
    AnamnesisGroup,
    AnamnesisQuestion,
    Patient,
    PatientProfessional,
    QuestionKind,
    SelfRegistrationLink,
)

# The fields a caller may set on a patient, by section of the file.
PERSONAL_FIELDS = ("full_name", "birth_date", "document", "sex", "email", "mobile", "phone")
FINANCIAL_FIELDS = ("default_payer", "default_insurer", "insurer_card_number")
ADDRESS_FIELDS = ("postal_code", "street", "street_number", "complement", "district", "city", "state")
ADDITIONAL_FIELDS = ("notes", "referral_source", "anamnesis_group")
GUARDIAN_FIELDS = (
    "guardian_name",
    "guardian_relationship",
    "guardian_document",
    "guardian_email",
    "guardian_mobile",
    "guardian_send_charges_email",
    "guardian_send_charges_whatsapp",
    "guardian_send_documents_email",
    "guardian_send_documents_whatsapp",
)
MESSAGE_FIELDS = ("opt_out_sms", "opt_out_whatsapp", "opt_out_email")
PATIENT_FIELDS = (
    PERSONAL_FIELDS + FINANCIAL_FIELDS + ADDRESS_FIELDS + ADDITIONAL_FIELDS + GUARDIAN_FIELDS + MESSAGE_FIELDS
)
_PHONE_FIELDS = ("mobile", "phone", "guardian_mobile")


def clinic_today(clinic: Clinic) -> dt.date:
    return timezone.localdate(timezone=ZoneInfo(clinic.time_zone))


_NULLABLE_FIELDS = ("birth_date", "anamnesis_group")


def _assign(patient: Patient, fields: Mapping[str, Any]) -> None:
    """Set `fields` on `patient`, normalised, and validate the result."""
    unknown = set(fields) - set(PATIENT_FIELDS)
    if unknown:
        raise ValidationFailed(fields={name: [_("Unknown field.")] for name in sorted(unknown)})
    errors: dict[str, list[str]] = {}
    for name, value in fields.items():
        if value is None and name not in _NULLABLE_FIELDS:
            value = ""
        if name in _PHONE_FIELDS:
            try:
                value = phone_e164(value, region=patient.clinic.country, field=name)
            except ApplicationError as error:
                errors.update(error.fields)
                continue
        elif isinstance(value, str):
            value = value.strip()
        setattr(patient, name, value)
    patient.name_search = search_key(patient.full_name)
    patient.document_normalized = document_key(patient.document)

    if patient.birth_date and patient.birth_date > clinic_today(patient.clinic):
        errors.setdefault("birth_date", []).append(_("The birth date cannot be in the future."))
    if patient.document_normalized and _document_taken(patient):
        errors.setdefault("document", []).append(
            _("Another patient of this organization already has this document number.")
        )
    if patient.anamnesis_group is not None and patient.anamnesis_group.organization_id != patient.organization_id:
        errors.setdefault("anamnesis_group", []).append(_("Unknown questionnaire."))
    try:
        # Uniqueness is checked above with a clearer message (and by the
        # database constraint, which decides a race).
        patient.full_clean(exclude=["name_search", "document_normalized"], validate_constraints=False)
    except DjangoValidationError as error:
        for name, messages in ApplicationError.from_django(error).fields.items():
            errors.setdefault(name, []).extend(messages)
    if errors:
        raise ValidationFailed(fields=errors)


def _document_taken(patient: Patient) -> bool:
    return Patient.objects.filter(document_normalized=patient.document_normalized).exclude(pk=patient.pk).exists()


def _set_professionals(patient: Patient, professionals: Iterable[Professional], *, required: bool) -> None:
    chosen = {p.pk: p for p in professionals}
    if required and not chosen:
        raise ValidationFailed(fields={"professionals": [_("Choose at least one responsible professional.")]})
    foreign = [p for p in chosen.values() if p.organization_id != patient.organization_id]
    if foreign:
        raise ValidationFailed(fields={"professionals": [_("Unknown professional.")]})
    current = set(PatientProfessional.objects.filter(patient=patient).values_list("professional_id", flat=True))
    PatientProfessional.objects.filter(patient=patient).exclude(professional_id__in=chosen).delete()
    PatientProfessional.objects.bulk_create(
        [
            PatientProfessional(organization_id=patient.organization_id, patient=patient, professional=professional)
            for pk, professional in chosen.items()
            if pk not in current
        ]
    )


def _save(patient: Patient) -> None:
    try:
        with transaction.atomic():
            patient.save()
    except IntegrityError as error:
        # Two registrations with the same document at once: the constraint decided.
        raise ValidationFailed(
            fields={"document": [_("Another patient of this organization already has this document number.")]}
        ) from error


@transaction.atomic
def patient_create(
    *,
    clinic: Clinic,
    fields: Mapping[str, Any],
    professionals: Sequence[Professional],
) -> Patient:
    """Register a patient: only the full name and a responsible professional are required."""
    patient = Patient(organization_id=clinic.organization_id, clinic=clinic)
    _assign(patient, fields)
    if not professionals:
        raise ValidationFailed(fields={"professionals": [_("Choose at least one responsible professional.")]})
    _save(patient)
    _set_professionals(patient, professionals, required=True)
    return patient


@transaction.atomic
def patient_update(
    *,
    patient: Patient,
    fields: Mapping[str, Any],
    professionals: Sequence[Professional] | None = None,
) -> Patient:
    patient = Patient.objects.select_for_update().select_related("clinic").get(pk=patient.pk)
    _assign(patient, fields)
    _save(patient)
    if professionals is not None:
        _set_professionals(patient, professionals, required=True)
    return patient


@transaction.atomic
def patient_set_active(*, patient: Patient, active: bool) -> Patient:
    """Archive (False) or reactivate (True) a patient; the file stays intact."""
    patient = Patient.objects.select_for_update().get(pk=patient.pk)
    if patient.is_active != active:
        patient.is_active = active
        patient.save(update_fields=["is_active", "updated_at"])
    return patient


@transaction.atomic
def patient_confirm_review(*, patient: Patient, professionals: Sequence[Professional]) -> Patient:
    """Staff accept a self-registration and assign its responsible professionals."""
    patient = Patient.objects.select_for_update().get(pk=patient.pk)
    _set_professionals(patient, professionals, required=True)
    patient.needs_review = False
    patient.save(update_fields=["needs_review", "updated_at"])
    return patient


@transaction.atomic
def patient_save_anamnesis(*, patient: Patient, group: AnamnesisGroup, answers: Mapping[str, Any]) -> Patient:
    """Store the answers to `group`'s questions (by question id) and link the group."""
    questions = {str(q.pk): q for q in AnamnesisQuestion.objects.filter(group=group)}
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    for key, value in answers.items():
        question = questions.get(str(key))
        if question is None:
            errors[str(key)] = [_("Unknown question.")]
        elif question.kind == QuestionKind.YES_NO and value not in (True, False, None, ""):
            errors[str(key)] = [_("Answer yes or no.")]
        elif question.kind == QuestionKind.CHOICE and value not in (*question.options, None, ""):
            errors[str(key)] = [_("Choose one of the options.")]
        else:
            clean[str(key)] = value
    if errors:
        raise ValidationFailed(fields=errors)
    patient = Patient.objects.select_for_update().get(pk=patient.pk)
    patient.anamnesis_group = group
    patient.anamnesis_answers = {**patient.anamnesis_answers, **clean}
    patient.save(update_fields=["anamnesis_group", "anamnesis_answers", "updated_at"])
    return patient


@transaction.atomic
def anamnesis_group_save(
    *,
    organization: Organization,
    name: str,
    questions: Sequence[Mapping[str, Any]],
    group: AnamnesisGroup | None = None,
    is_active: bool = True,
) -> AnamnesisGroup:
    """Create or replace a questionnaire. Each question: text, kind, options
    (for choices) and optionally the id of an existing question to keep, so the
    answers patients gave to it stay attached."""
    if group is None:
        group = AnamnesisGroup(organization=organization)
    group.name, group.is_active = name.strip(), is_active
    full_clean(group)
    group.save()
    errors: dict[str, list[str]] = {}
    kept: list[int] = []
    existing = {q.pk: q for q in AnamnesisQuestion.objects.filter(group=group)}
    for position, data in enumerate(questions):
        text = str(data.get("text", "")).strip()
        kind = data.get("kind") or QuestionKind.TEXT
        options = [str(o).strip() for o in data.get("options") or [] if str(o).strip()]
        if not text:
            errors[f"questions.{position}.text"] = [_("Write the question.")]
            continue
        if kind not in QuestionKind.values:
            errors[f"questions.{position}.kind"] = [_("Unknown kind of question.")]
            continue
        if kind == QuestionKind.CHOICE and len(options) < 2:
            errors[f"questions.{position}.options"] = [_("A choice question needs at least two options.")]
            continue
        question = existing.get(int(data.get("id") or 0)) or AnamnesisQuestion(organization=organization, group=group)
        question.position, question.text, question.kind = position, text, kind
        question.options = options if kind == QuestionKind.CHOICE else []
        question.save()
        kept.append(question.pk)
    if errors:
        raise ValidationFailed(fields=errors)
    for pk, question in existing.items():
        if pk not in kept:
            question.delete()
    return group


def _new_token() -> str:
    return secrets.token_urlsafe(32)


@transaction.atomic
def self_registration_link_generate(*, clinic: Clinic, actor: User | None) -> SelfRegistrationLink:
    """Give the clinic a new link; the previous one, if any, stops working."""
    self_registration_link_revoke(clinic=clinic)
    return SelfRegistrationLink.objects.create(
        organization_id=clinic.organization_id, clinic=clinic, token=_new_token(), created_by=actor
    )


@transaction.atomic
def self_registration_link_revoke(*, clinic: Clinic) -> int:
    return SelfRegistrationLink.objects.filter(clinic=clinic, revoked_at__isnull=True).update(revoked_at=timezone.now())


@transaction.atomic
def patient_self_register(*, link: SelfRegistrationLink, fields: Mapping[str, Any]) -> Patient:
    """A patient registers through the clinic's public link.

    The answer must be the same whether or not the document is already on
    file, so that the form reveals nothing about other patients: a known
    document is kept aside in a review note for staff, not refused.
    """
    clinic = link.clinic
    allowed = PERSONAL_FIELDS + ADDRESS_FIELDS + GUARDIAN_FIELDS
    data = {name: value for name, value in fields.items() if name in allowed}
    patient = Patient(organization_id=clinic.organization_id, clinic=clinic, self_registered=True, needs_review=True)
    probe = Patient(
        organization_id=clinic.organization_id, document_normalized=document_key(str(data.get("document") or ""))
    )
    if probe.document_normalized and _document_taken(probe):
        data["document"] = ""
        patient.review_note = _("The document number %(document)s given here is already on file.") % {
            "document": fields.get("document")
        }
    _assign(patient, data)
    _save(patient)
    return patient


def access_log_record(
    *, request: HttpRequest | Request, patients: Iterable[Patient], channel: AccessChannel, what: str
) -> None:
    """Record that the requesting user read these patients' data (one row each)."""
    user = request.user
    assert isinstance(user, User), "only logged-in staff read patient data"
    ip_address = request.META.get("REMOTE_ADDR") or None
    user_agent = request.META.get("HTTP_USER_AGENT", "")[:300]
    AccessLog.objects.bulk_create(
        [
            AccessLog(
                organization_id=patient.organization_id,
                patient=patient,
                user=user,
                channel=channel,
                what=what[:200],
                ip_address=ip_address,
                user_agent=user_agent,
            )
            for patient in patients
        ]
    )
