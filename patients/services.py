"""Every write on patients, their questionnaires, the self-registration link
and the access log."""

from __future__ import annotations

import copy
import datetime as dt
import secrets
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, connections, router, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.request import Request

from clinic.errors import ApplicationError, ValidationFailed, full_clean, model_errors, raise_if
from clinic.models import Clinic, Organization, Professional, User
from clinic.normalize import document_key, person_id_normal, phone_e164, search_key
from patients.models import (
    ACCESS_LOG_PERIOD_SECONDS,
    AccessChannel,
    AccessKind,
    AccessLog,
    AnamnesisGroup,
    AnamnesisQuestion,
    Patient,
    PatientProfessional,
    QuestionKind,
    SelfRegistrationLink,
)

ACCESS_LOG_BATCH = 1000  # rows per INSERT of the access log (11 parameters each)

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
# A person's id: a CPF in Brazil (checked), anything elsewhere.
_DOCUMENT_FIELDS = ("document", "guardian_document")


def _document_error(value: str, country: str) -> str:
    if country.upper() == "BR":
        return _("“%(value)s” is not a valid CPF.") % {"value": value}
    return _("“%(value)s” is not a valid document number.") % {"value": value}


def _assign(patient: Patient, fields: Mapping[str, Any], *, partial: bool = False) -> None:
    """Set `fields` on `patient`, normalised, and validate the result, every
    error at once. `partial`: the fields are what a form could parse, the
    others failed there, so only the given ones are checked."""
    unknown = set(fields) - set(PATIENT_FIELDS)
    if unknown:
        raise ValidationFailed(fields={name: [_("Unknown field.")] for name in sorted(unknown)})
    errors: dict[str, list[str]] = {}
    country = patient.clinic.country
    for name, value in fields.items():
        if value is None and name not in _NULLABLE_FIELDS:
            value = ""
        if name in _PHONE_FIELDS:
            try:
                value = phone_e164(value, region=country, field=name)
            except ApplicationError as error:
                errors.update(error.fields)
                continue
        elif name in _DOCUMENT_FIELDS:
            try:
                value = person_id_normal(value, country=country)
            except ValueError:
                errors[name] = [_document_error(value.strip(), country)]
                continue
        elif isinstance(value, str):
            value = value.strip()
        setattr(patient, name, value)
    patient.name_search = search_key(patient.full_name)
    patient.document_normalized = document_key(patient.document)

    if patient.birth_date and patient.birth_date > clinic_today(patient.clinic):
        errors.setdefault("birth_date", []).append(_("The birth date cannot be in the future."))
    if "document" not in errors and patient.document_normalized and _document_taken(patient):
        errors.setdefault("document", []).append(
            _("Another patient of this organization already has this document number.")
        )
    if patient.anamnesis_group is not None and patient.anamnesis_group.organization_id != patient.organization_id:
        errors.setdefault("anamnesis_group", []).append(_("Unknown questionnaire."))
    exclude = ["name_search", "document_normalized", *errors]
    if partial:
        exclude += [f.name for f in Patient._meta.concrete_fields if f.name not in fields]
    try:
        # Uniqueness is checked above with a clearer message (and by the
        # database constraint, which decides a race).
        patient.full_clean(exclude=exclude, validate_constraints=False)
    except DjangoValidationError as error:
        for name, messages in ApplicationError.from_django(error).fields.items():
            errors.setdefault(name, []).extend(messages)
    if errors:
        raise ValidationFailed(fields=errors)


def patient_check(*, clinic: Clinic, fields: Mapping[str, Any], patient: Patient | None = None) -> None:
    """The rules `patient_create` / `patient_update` apply to `fields`, without
    writing anything: a form runs them on what it parsed, even when some of
    its fields failed, so that every error shows on the first submit."""
    probe = Patient(organization_id=clinic.organization_id, clinic=clinic) if patient is None else copy.copy(patient)
    _assign(probe, fields, partial=True)


def minor_without_guardian(patient: Patient) -> bool:
    """P2: a minor without a guardian is flagged (registering one is not refused)."""
    return patient.is_minor_on(clinic_today(patient.clinic)) and not patient.has_guardian


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


def _question_values(data: Mapping[str, Any]) -> tuple[str, str, list[str]]:
    text = str(data.get("text", "")).strip()
    options = [str(o).strip() for o in data.get("options") or [] if str(o).strip()]
    return text, data.get("kind") or QuestionKind.TEXT, options


def anamnesis_group_check(
    *,
    organization: Organization,
    group: AnamnesisGroup | None = None,
    name: str | None = None,
    questions: Sequence[Mapping[str, Any]] = (),
) -> None:
    """Every refusal of `anamnesis_group_save` at once: a name another
    questionnaire has, each question's (`questions.<n>.<field>`). A page
    passes what it parsed (no `name` when that field failed)."""
    errors: dict[str, list[str]] = {}
    if name is not None:
        probe = copy.copy(group) if group is not None else AnamnesisGroup(organization=organization)
        probe.name = name.strip()
        errors.update(model_errors(probe, given=["name", "organization"]))
    for position, data in enumerate(questions):
        text, kind, options = _question_values(data)
        if not text:
            errors[f"questions.{position}.text"] = [_("Write the question.")]
        elif kind not in QuestionKind.values:
            errors[f"questions.{position}.kind"] = [_("Unknown kind of question.")]
        elif kind == QuestionKind.CHOICE and len(options) < 2:
            errors[f"questions.{position}.options"] = [_("A choice question needs at least two options.")]
    raise_if(errors)


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
    anamnesis_group_check(organization=organization, group=group, name=name, questions=questions)
    if group is None:
        group = AnamnesisGroup(organization=organization)
    group.name, group.is_active = name.strip(), is_active
    full_clean(group)
    group.save()
    kept: list[int] = []
    existing = {q.pk: q for q in AnamnesisQuestion.objects.filter(group=group)}
    for position, data in enumerate(questions):
        text, kind, options = _question_values(data)
        question = existing.get(int(data.get("id") or 0)) or AnamnesisQuestion(organization=organization, group=group)
        question.position, question.text, question.kind = position, text, kind
        question.options = options if kind == QuestionKind.CHOICE else []
        question.save()
        kept.append(question.pk)
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


def _self_registration(link: SelfRegistrationLink, fields: Mapping[str, Any], *, partial: bool = False) -> Patient:
    """The patient a self-registration makes, validated, not saved.

    The answer must be the same whether or not the document is already on
    file, so that the form reveals nothing about other patients: a known
    document is kept aside in a review note for staff, not refused.
    """
    clinic = link.clinic
    allowed = PERSONAL_FIELDS + ADDRESS_FIELDS + GUARDIAN_FIELDS
    data = {name: value for name, value in fields.items() if name in allowed}
    patient = Patient(organization_id=clinic.organization_id, clinic=clinic, self_registered=True, needs_review=True)
    try:
        document = document_key(person_id_normal(str(data.get("document") or ""), country=clinic.country))
    except ValueError:
        document = ""  # not a valid number: `_assign` says so
    probe = Patient(organization_id=clinic.organization_id, document_normalized=document)
    if probe.document_normalized and _document_taken(probe):
        data["document"] = ""
        patient.review_note = _("The document number %(document)s given here is already on file.") % {
            "document": fields.get("document")
        }
    _assign(patient, data, partial=partial)
    return patient


def patient_self_register_check(*, link: SelfRegistrationLink, fields: Mapping[str, Any]) -> None:
    """`patient_self_register`'s rules on what the public form parsed, writing nothing."""
    _self_registration(link, fields, partial=True)


@transaction.atomic
def patient_self_register(*, link: SelfRegistrationLink, fields: Mapping[str, Any]) -> Patient:
    """A patient registers through the clinic's public link (P4); a document
    already on file is kept aside for staff, never revealed."""
    patient = _self_registration(link, fields)
    _save(patient)
    return patient


def access_log_record(
    *, request: HttpRequest | Request, patients: Iterable[Patient], channel: AccessChannel, what: AccessKind | str
) -> None:
    """Record that the requesting user read these patients' data: one row
    per patient and period, counting the reads (`AccessLog`).

    One statement, `INSERT ... ON CONFLICT DO UPDATE`, for all the patients:
    two requests at once (a calendar reloading its feed) both count on the
    one row instead of racing to create two, and the rows are written in
    primary-key order so that two such statements never wait on each other
    the other way round."""
    user = request.user
    assert isinstance(user, User), "only logged-in staff read patient data"
    kind = AccessKind(what)
    unique = {patient.pk: patient for patient in patients}
    if not unique:
        return
    now = timezone.now()
    period = int(now.timestamp()) // ACCESS_LOG_PERIOD_SECONDS
    ip_address = request.META.get("REMOTE_ADDR") or None
    user_agent = request.META.get("HTTP_USER_AGENT", "")[:300]
    meta = AccessLog._meta
    by_name = {field.name: field for field in meta.concrete_fields}
    names = [
        "organization", "patient", "user", "accessed_at", "last_accessed_at", "views", "period", "channel",
        "what", "ip_address", "user_agent",
    ]  # fmt: skip
    fields = [by_name[name] for name in names]
    connection = connections[router.db_for_write(AccessLog)]
    rows = []
    for pk in sorted(unique):
        values = [
            unique[pk].organization_id, pk, user.pk, now, now, 1, period, str(AccessChannel(channel).value),
            str(kind.value), ip_address, user_agent,
        ]  # fmt: skip
        rows.append([field.get_db_prep_save(value, connection) for field, value in zip(fields, values, strict=True)])

    def column(name: str) -> str:
        return connection.ops.quote_name(str(by_name[name].column))

    table = connection.ops.quote_name(meta.db_table)
    columns = ", ".join(column(name) for name in names)
    target = ", ".join(column(name) for name in ("patient", "user", "channel", "what", "period"))
    views, last = column("views"), column("last_accessed_at")
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    # An export reads thousands of patients: rows go in batches, well below
    # PostgreSQL's 65,535 parameters (and SQLite's 32,766), in primary-key
    # order so that parallel writers lock alike.
    with connection.cursor() as cursor:
        for start in range(0, len(rows), ACCESS_LOG_BATCH):
            batch = rows[start : start + ACCESS_LOG_BATCH]
            # Only quoted names of the model's own table and columns are
            # spliced in; every value is a parameter.
            insert = f"INSERT INTO {table} ({columns}) VALUES {', '.join([row] * len(batch))} "  # noqa: S608
            update = f"{views} = {table}.{views} + 1, {last} = EXCLUDED.{last}"
            sql = insert + f"ON CONFLICT ({target}) DO UPDATE SET {update}"
            cursor.execute(sql, [value for values in batch for value in values])
