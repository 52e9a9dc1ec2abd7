"""Patients (P1-P5), their anamnesis questionnaires, the self-registration link
and the access log (T5)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from clinic.models import Clinic, Professional, TenantModel, tenant_history


class Sex(models.TextChoices):
    FEMALE = "female", _("Female")
    MALE = "male", _("Male")
    NON_BINARY = "non_binary", _("Non-binary")
    OTHER = "other", _("Other")
    UNDISCLOSED = "undisclosed", _("Prefer not to say")


class ReferralSource(models.TextChoices):
    PATIENT = "patient", _("Another patient")
    DOCTOR = "doctor", _("Doctor's referral")
    INSURER = "insurer", _("Insurer")
    SEARCH = "search", _("Internet search")
    SOCIAL = "social", _("Social media")
    WEBSITE = "website", _("Clinic website")
    PASSING_BY = "passing_by", _("Passed by the clinic")
    OTHER = "other", _("Other")


class AnamnesisGroup(TenantModel):
    """A configurable questionnaire (e.g. "Physiotherapy anamnesis")."""

    name = models.CharField(_("name"), max_length=200)
    is_active = models.BooleanField(_("active"), default=True)

    history = tenant_history()

    class Meta:
        verbose_name = _("anamnesis group")
        verbose_name_plural = _("anamnesis groups")
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "name"],
                name="anamnesis_group_name_unique",
                violation_error_message=_("A questionnaire with this name already exists."),
            )
        ]

    def __str__(self) -> str:
        return self.name


class QuestionKind(models.TextChoices):
    TEXT = "text", _("Text")
    YES_NO = "yes_no", _("Yes / no")
    CHOICE = "choice", _("Choice")


class AnamnesisQuestion(TenantModel):
    group = models.ForeignKey(
        AnamnesisGroup, on_delete=models.CASCADE, related_name="questions", verbose_name=_("questionnaire")
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    text = models.CharField(_("question"), max_length=300)
    kind = models.CharField(_("kind"), max_length=10, choices=QuestionKind.choices, default=QuestionKind.TEXT)
    # For choice questions: the options, one per item.
    options = models.JSONField(_("options"), default=list, blank=True)

    history = tenant_history()

    class Meta:
        verbose_name = _("anamnesis question")
        verbose_name_plural = _("anamnesis questions")
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.text


class Patient(TenantModel):
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="patients", verbose_name=_("clinic"))
    full_name = models.CharField(_("full name"), max_length=200)
    # Lower-case, accent-free copy of the name so "Joao" finds "João" on any database.
    name_search = models.CharField(max_length=200, editable=False, db_index=True)
    professionals = models.ManyToManyField(
        Professional,
        through="PatientProfessional",
        related_name="patients",
        verbose_name=_("responsible professionals"),
    )

    # Personal information
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    document = models.CharField(_("document number"), max_length=40, blank=True)
    # Digits and letters only, upper-case: what uniqueness and search compare.
    document_normalized = models.CharField(max_length=40, blank=True, editable=False, db_index=True)
    sex = models.CharField(_("sex / gender"), max_length=20, choices=Sex.choices, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    mobile = models.CharField(
        _("mobile"), max_length=20, blank=True, help_text=_("Include the country code for numbers abroad.")
    )
    phone = models.CharField(_("phone"), max_length=20, blank=True)

    # Financial information
    default_payer = models.CharField(_("default payer"), max_length=200, blank=True)
    default_insurer = models.CharField(_("default insurer"), max_length=200, blank=True)
    insurer_card_number = models.CharField(_("insurer card number"), max_length=60, blank=True)

    # Address
    postal_code = models.CharField(_("postal code"), max_length=12, blank=True)
    street = models.CharField(_("street"), max_length=200, blank=True)
    street_number = models.CharField(_("number"), max_length=20, blank=True)
    complement = models.CharField(_("complement"), max_length=100, blank=True)
    district = models.CharField(_("district"), max_length=100, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    state = models.CharField(_("state"), max_length=50, blank=True)

    # Additional data
    notes = models.TextField(_("notes"), blank=True)
    referral_source = models.CharField(
        _("how they found the clinic"), max_length=20, choices=ReferralSource.choices, blank=True
    )

    # Responsible party (guardian)
    guardian_name = models.CharField(_("guardian's name"), max_length=200, blank=True)
    guardian_relationship = models.CharField(_("relationship"), max_length=60, blank=True)
    guardian_document = models.CharField(_("guardian's document"), max_length=40, blank=True)
    guardian_email = models.EmailField(_("guardian's e-mail"), blank=True)
    guardian_mobile = models.CharField(_("guardian's mobile"), max_length=20, blank=True)
    guardian_send_charges_email = models.BooleanField(_("send charges by e-mail"), default=False)
    guardian_send_charges_whatsapp = models.BooleanField(_("send charges by WhatsApp"), default=False)
    guardian_send_documents_email = models.BooleanField(_("send documents by e-mail"), default=False)
    guardian_send_documents_whatsapp = models.BooleanField(_("send documents by WhatsApp"), default=False)

    # Messages (A7): the channels the patient asked not to be written on.
    opt_out_sms = models.BooleanField(_("no SMS"), default=False)
    opt_out_whatsapp = models.BooleanField(_("no WhatsApp"), default=False)
    opt_out_email = models.BooleanField(_("no e-mail"), default=False)

    anamnesis_group = models.ForeignKey(
        AnamnesisGroup,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("anamnesis questionnaire"),
    )
    # What the patient answered, by question id (kept when questions change).
    anamnesis_answers = models.JSONField(_("anamnesis answers"), default=dict, blank=True)

    is_active = models.BooleanField(_("active"), default=True)
    self_registered = models.BooleanField(_("self-registered"), default=False)
    needs_review = models.BooleanField(_("to review"), default=False)
    # A self-registration whose document is already on file: kept aside for
    # staff, never revealed to the person who submitted it.
    review_note = models.CharField(_("review note"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    history = tenant_history(excluded_fields=["name_search", "document_normalized", "updated_at"])

    class Meta:
        verbose_name = _("patient")
        verbose_name_plural = _("patients")
        ordering = ["name_search", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "document_normalized"],
                condition=~Q(document_normalized=""),
                name="patient_document_unique_in_organization",
                violation_error_message=_("Another patient of this organization already has this document number."),
            ),
        ]
        indexes = [models.Index(fields=["organization", "clinic", "is_active", "name_search"])]

    def __str__(self) -> str:
        return self.full_name

    def age_on(self, day: dt.date) -> int | None:
        if self.birth_date is None:
            return None
        before_birthday = (day.month, day.day) < (self.birth_date.month, self.birth_date.day)
        return day.year - self.birth_date.year - int(before_birthday)

    def is_minor_on(self, day: dt.date) -> bool:
        age = self.age_on(day)
        return age is not None and age < 18

    @property
    def has_guardian(self) -> bool:
        return bool(self.guardian_name.strip())


class PatientProfessional(TenantModel):
    """A professional responsible for a patient (several allowed)."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="+")
    professional = models.ForeignKey(Professional, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["patient", "professional"], name="patient_professional_unique"),
        ]


class SelfRegistrationLink(TenantModel):
    """A clinic's public link where patients register themselves (P4).

    The token is the only secret: 256 random bits, never derived from ids.
    Revoking keeps the row (who created and revoked it, when) but the link
    answers 404 from then on.
    """

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="+", verbose_name=_("clinic"))
    token = models.CharField(max_length=64, db_index=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "token"], name="self_registration_token_unique"),
            models.UniqueConstraint(
                fields=["clinic"], condition=Q(revoked_at__isnull=True), name="self_registration_one_live_link"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.clinic} ({'revoked' if self.revoked_at else 'live'})"


class AccessChannel(models.TextChoices):
    PAGE = "page", _("Page")
    API = "api", _("API")
    EXPORT = "export", _("Export")


class AccessKind(models.TextChoices):
    """What a user read of a patient's data, as the access log names it."""

    FILE = "file", _("Patient file")
    LIST = "list", _("Patient list")
    EDIT_FORM = "edit form", _("Edit form")
    ANAMNESIS = "anamnesis", _("Anamnesis")
    HISTORY = "history", _("Change history")
    CALENDAR = "calendar", _("Calendar")
    BOOKING_SEARCH = "booking search", _("Patient search when booking")
    APPOINTMENT = "appointment", _("Appointment")
    HOME = "home", _("Home page")
    PACKAGES = "packages", _("Packages")
    PACKAGE_HISTORY = "package history", _("Package history")
    PACKAGE_REPORT = "package report", _("Package report")
    PACKAGES_EXCEL = "packages excel", _("Packages in Excel")
    SESSION_CARD = "session card", _("Session card")
    SALES_AND_USAGE = "sales and usage", _("Sales and usage report")


# One access-log row per user, patient, channel and kind of read in each
# period of this many seconds: a calendar that reloads its feed every few
# seconds counts its reads on one row instead of writing one each time.
ACCESS_LOG_PERIOD_SECONDS = 15 * 60


class AccessLog(TenantModel):
    """Who read which patient's data, when and from where (LGPD / GDPR).

    Rows are never deleted. A row stands for the reads of one user, patient,
    channel and kind of read in one period (`ACCESS_LOG_PERIOD_SECONDS`): a
    read in the same period only raises its `views` and `last_accessed_at`
    (one INSERT ... ON CONFLICT, so simultaneous reads never make two rows).
    The IP address and browser are those of the period's first read."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="+", verbose_name=_("patient"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("user")
    )
    accessed_at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)
    last_accessed_at = models.DateTimeField(_("last read"), null=True, blank=True)
    views = models.PositiveIntegerField(_("reads"), default=1)
    # The period of the first read: Unix time // ACCESS_LOG_PERIOD_SECONDS.
    # Rows written before reads were counted have -id: each its own period.
    period = models.BigIntegerField(default=0, editable=False)
    channel = models.CharField(_("channel"), max_length=10, choices=AccessChannel.choices)
    # Rows written before the kinds had labels may hold another text: shown as is.
    what = models.CharField(_("what"), max_length=200, choices=AccessKind.choices)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("browser"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("access log entry")
        verbose_name_plural = _("access log")
        ordering = ["-accessed_at", "-pk"]
        indexes = [models.Index(fields=["patient", "-accessed_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "user", "channel", "what", "period"], name="access_log_one_row_per_period"
            ),
        ]
