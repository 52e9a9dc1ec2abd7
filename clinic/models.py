"""Tenancy: organizations (the tenants), their clinics, users and memberships.

Every row that belongs to a tenant inherits `TenantModel`: a foreign key to its
organization and a django-scopes manager, so that a query made outside an open
organization scope raises instead of silently reading every tenant's rows.
"""

from __future__ import annotations

import functools
import re
import uuid
import zoneinfo
from typing import Any, NoReturn

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.sessions.base_session import AbstractBaseSession
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import connection, models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager
from simple_history.manager import HistoryManager
from simple_history.models import HistoricalRecords

from clinic.scoping import scope_filter


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    MANAGER = "manager", _("Manager")
    RECEPTIONIST = "receptionist", _("Receptionist")
    PROFESSIONAL = "professional", _("Professional")


class CatalogSharing(models.TextChoices):
    """Which shared services and templates a clinic sees (T3)."""

    CENTRAL_ONLY = "central_only", _("Only what the central clinic shares")
    ALL_CLINICS = "all_clinics", _("What the central clinic and sibling clinics share")


class CalendarNames(models.TextChoices):
    INITIALS = "initials", _("Initials (M. S.)")
    FULL = "full", _("Full names")


class Organization(models.Model):
    """The tenant: a customer account with one or more clinics."""

    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    # Per-organization overrides of which roles hold a permission, e.g.
    # {"manage_catalog": ["owner"]}; see clinic.permissions.
    permission_overrides = models.JSONField(_("permission overrides"), default=dict, blank=True)
    catalog_sharing = models.CharField(
        _("shared catalog visible to clinics"),
        max_length=20,
        choices=CatalogSharing.choices,
        default=CatalogSharing.CENTRAL_ONLY,
    )
    # How a professional's calendar subscription names patients (privacy:
    # a phone's calendar is read by more eyes than the app).
    calendar_names = models.CharField(_("patient names in calendar subscriptions"), max_length=10,
                                      choices=CalendarNames.choices, default=CalendarNames.INITIALS)  # fmt: skip
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TenantHistoricalModel(models.Model):
    """Base of the history tables of tenant models: they are tenant data too."""

    objects = ScopedManager(organization="organization")

    class Meta:
        abstract = True


class TenantHistoryManager(HistoryManager):
    """`Model.history` scoped like the model itself (a class-level `.history.all()`
    would otherwise list every tenant's changes)."""

    def get_super_queryset(self) -> models.QuerySet[Any]:
        return scope_filter(super().get_super_queryset(), organization="organization")

    @classmethod
    @functools.cache
    def from_queryset(cls, queryset_class: type[models.QuerySet[Any]], class_name: str | None = None) -> Any:
        # simple-history's descriptor builds its manager class on every access,
        # which each saved change makes (`instance.history`): a new class, with
        # every queryset method copied onto it, per write. One per queryset
        # class is the same class.
        return super().from_queryset(queryset_class, class_name)


def tenant_history(**kwargs: Any) -> HistoricalRecords:
    """django-simple-history for a tenant model, with a scoped history table."""
    return HistoricalRecords(bases=[TenantHistoricalModel], history_manager=TenantHistoryManager, **kwargs)


class AppendOnlyQuerySet(models.QuerySet[Any]):
    """The queryset of an append-only table (the package ledger, payments):
    bulk updates and deletes are refused; a correction is a new row."""

    def update(self, **kwargs: Any) -> NoReturn:
        raise TypeError(f"{self.model.__name__} rows are append-only: write a correcting row instead.")

    def delete(self) -> NoReturn:
        raise TypeError(f"{self.model.__name__} rows are append-only: write a correcting row instead.")


class TenantModel(models.Model):
    """A row that belongs to one organization and is invisible outside its scope."""

    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="+", verbose_name=_("organization")
    )

    objects = ScopedManager(organization="organization")

    class Meta:
        abstract = True


class User(AbstractUser):
    """A person who logs in. Belongs to one organization (none for installation
    operators) and holds a role per clinic through `Membership`.

    Not scoped: authentication must find the user before the tenant is known.
    Listings of people go through `Membership`, which is scoped.
    """

    organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
        verbose_name=_("organization"),
    )
    # Team management (clinic.team): an invited person is an inactive user
    # with an unusable password until they follow the e-mailed link; sending
    # the invitation again moves `invited_at`, which retires the older links.
    invited_at = models.DateTimeField(_("invited at"), null=True, blank=True)
    invited_by = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("invited by")
    )
    # Users are never deleted (their name stays on every record they wrote):
    # a person who leaves is deactivated.
    deactivated_at = models.DateTimeField(_("deactivated at"), null=True, blank=True)

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        constraints = [
            # Invitations and password resets find people by e-mail address,
            # across the installation (users are not scoped).
            models.UniqueConstraint(
                Lower("email"),
                condition=~Q(email=""),
                name="user_email_unique",
                violation_error_message=_("Another person already uses this e-mail address."),
            ),
        ]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    @property
    def member_status(self) -> MemberStatus:
        if self.is_active:
            return MemberStatus.ACTIVE
        if self.deactivated_at is None and self.invited_at is not None and not self.has_usable_password():
            return MemberStatus.INVITED
        return MemberStatus.DEACTIVATED


class MemberStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    INVITED = "invited", _("Invited, not yet accepted")
    DEACTIVATED = "deactivated", _("Deactivated")


HEX_COLOR = RegexValidator(r"^#[0-9a-fA-F]{6}$", _("Use a colour like #0f766e."))


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("“%(value)s” is not a known time zone."), params={"value": value})


PIX_KEY = re.compile(
    r"^(\d{11}|\d{14}|\+\d{12,13}|[^@\s]+@[^@\s]+\.[^@\s]+|"
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$"
)


def validate_pix_key(value: str) -> None:
    """A Pix key as the Central Bank defines them: a CPF (11 digits) or CNPJ
    (14), a phone number (+55...), an e-mail address or a random key (UUID)."""
    if value and not PIX_KEY.match(value):
        raise ValidationError(
            _("Enter the Pix key as registered at the bank: CPF or CNPJ digits, +55 phone, e-mail or random key.")
        )


# The same rule as a RegexValidator, so the API schema states it as a pattern
# (validators skip a blank value: no Pix key).
PIX_KEY_VALIDATOR = RegexValidator(
    PIX_KEY,
    _("Enter the Pix key as registered at the bank: CPF or CNPJ digits, +55 phone, e-mail or random key."),
)


REMINDER_CHANNELS = ("sms", "whatsapp", "email")


def default_reminder_channels() -> list[str]:
    return ["sms"]


def new_portal_token() -> str:
    import secrets

    return secrets.token_urlsafe(16)


class Clinic(TenantModel):
    """One unit (location) of an organization. The central clinic is the network's
    head office, which shares services and package templates with the others."""

    name = models.CharField(_("name"), max_length=200)
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="America/Sao_Paulo", validators=[validate_time_zone]
    )
    currency = models.CharField(_("currency"), max_length=3, default="BRL")
    # Default region for phone numbers typed without a country code (ISO 3166-1 alpha-2).
    country = models.CharField(_("country"), max_length=2, default="BR")
    # The language of the clinic's public pages (self-registration link).
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES, default="pt-br")
    is_central = models.BooleanField(_("central office"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    # Where patients pay by Pix (B2): the receiving key and the city the BR
    # Code names (at most 15 letters, without accents in the code).
    pix_key = models.CharField(_("Pix key"), max_length=77, blank=True, validators=[PIX_KEY_VALIDATOR])
    pix_city = models.CharField(_("Pix city"), max_length=15, blank=True)
    # What session cards and receipts print in their header.
    legal_name = models.CharField(_("legal name"), max_length=200, blank=True)
    tax_id = models.CharField(_("tax id"), max_length=30, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    # Reminders (A7): hours before a session, unless its package link or the
    # appointment says otherwise (0: none), and the channels they go out on.
    reminder_hours = models.PositiveSmallIntegerField(_("reminder (hours before)"), default=24)
    reminder_channels = models.JSONField(_("reminder channels"), default=default_reminder_channels, blank=True)
    # A patient may cancel online up to this many hours before a session.
    cancellation_hours = models.PositiveSmallIntegerField(_("online cancellation (hours before)"), default=24)
    # Online booking (A6): whether patients book on their page, and its rules.
    online_booking = models.BooleanField(_("online booking"), default=False)
    online_notice_hours = models.PositiveSmallIntegerField(_("minimum notice (hours)"), default=12)
    online_days_ahead = models.PositiveSmallIntegerField(_("at most days ahead"), default=30)
    online_slot_minutes = models.PositiveSmallIntegerField(_("slot interval (minutes)"), default=30)
    online_buffer_minutes = models.PositiveSmallIntegerField(_("buffer after a session (minutes)"), default=0)
    online_max_upcoming = models.PositiveSmallIntegerField(_("upcoming sessions a patient may hold"), default=4)
    # The clinic's public address for patients: /c/<token>/ (their page, online
    # booking). Unguessable, and replaced to retire a published link.
    portal_token = models.CharField(max_length=32, db_index=True, default=new_portal_token, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    history = tenant_history()

    class Meta:
        verbose_name = _("clinic")
        verbose_name_plural = _("clinics")
        ordering = ["-is_central", "name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "portal_token"], name="clinic_portal_token_unique"),
            models.UniqueConstraint(
                fields=["organization", "name"],
                name="clinic_name_unique_in_organization",
                violation_error_message=_("Another clinic of this organization already has this name."),
            ),
            models.UniqueConstraint(
                fields=["organization"],
                condition=Q(is_central=True),
                name="clinic_one_central_per_organization",
                violation_error_message=_("The organization already has a central clinic."),
            ),
            models.CheckConstraint(
                condition=Q(currency__regex=r"^[A-Z]{3}$"),
                name="clinic_currency_iso_code",
                violation_error_message=_("Use a three-letter ISO 4217 currency code, e.g. BRL."),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        """Write the tax id and the phone the country's way; every error at once."""
        from clinic.errors import ValidationFailed
        from clinic.normalize import phone_e164, tax_id_normal

        errors: dict[str, list[Any]] = {}
        try:
            self.tax_id = tax_id_normal(self.tax_id, country=self.country)
        except ValueError:
            if self.country.upper() == "BR":
                errors["tax_id"] = [_("“%(value)s” is not a valid CNPJ or CPF.") % {"value": self.tax_id}]
            else:
                errors["tax_id"] = [_("“%(value)s” is not a valid tax id.") % {"value": self.tax_id}]
        try:
            self.phone = phone_e164(self.phone, region=self.country or "BR", field="phone")
        except ValidationFailed as error:
            errors.update(error.fields)
        channels = self.reminder_channels
        if not isinstance(channels, list) or not set(channels) <= set(REMINDER_CHANNELS):
            errors["reminder_channels"] = [_("Choose among SMS, WhatsApp and e-mail.")]
        elif self.reminder_hours > 24 * 14:
            errors["reminder_hours"] = [_("At most two weeks before.")]
        if not 5 <= self.online_slot_minutes <= 240:
            errors["online_slot_minutes"] = [_("Between 5 and 240 minutes.")]
        if not 1 <= self.online_days_ahead <= 366:
            errors["online_days_ahead"] = [_("Between 1 and 366 days.")]
        if errors:
            raise ValidationError(errors)


class Membership(TenantModel):
    """A user's role in one clinic."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("user"))
    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("clinic"))
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    history = tenant_history()

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        ordering = ["clinic__name", "user__username"]
        constraints = [
            models.UniqueConstraint(fields=["user", "clinic"], name="membership_one_role_per_clinic"),
            models.CheckConstraint(condition=Q(role__in=Role.values), name="membership_role_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.clinic} · {self.get_role_display()}"


class MemberEventKind(models.TextChoices):
    INVITED = "invited", _("Invited")
    INVITATION_SENT = "invitation_sent", _("Invitation sent again")
    JOINED = "joined", _("Accepted the invitation")
    ROLE_CHANGED = "role_changed", _("Role changed")
    DEACTIVATED = "deactivated", _("Deactivated")
    REACTIVATED = "reactivated", _("Reactivated")
    LOGGED_OUT = "logged_out", _("Logged out everywhere")
    TOKEN_REVOKED = "token_revoked", _("API token revoked")


class MemberEvent(TenantModel):
    """What happened to a person of the team, by whom and when: invited, joined,
    a role changed in a clinic (from → to; empty: no access), deactivated,
    reactivated, logged out everywhere, one API token revoked (its name).
    Written by `clinic.team` in the same transaction; append-only."""

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="member_events", verbose_name=_("person"))
    actor = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("by")
    )
    kind = models.CharField(_("what"), max_length=20, choices=MemberEventKind.choices)
    clinic = models.ForeignKey(
        Clinic, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("clinic")
    )
    role_before = models.CharField(_("role before"), max_length=20, choices=Role.choices, blank=True)
    role_after = models.CharField(_("role after"), max_length=20, choices=Role.choices, blank=True)
    # What the event was about when it is not a role: the revoked token's name.
    detail = models.CharField(_("detail"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("when"), auto_now_add=True)

    objects = ScopedManager(  # type: ignore[misc]
        _manager_class=models.Manager.from_queryset(AppendOnlyQuerySet), organization="organization"
    )

    class Meta:
        verbose_name = _("team event")
        verbose_name_plural = _("team events")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["user", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_kind_display()}"


class Professional(TenantModel):
    """A person with a calendar: a therapist, physiotherapist, psychologist...

    Optionally linked to a user with the professional role, so they can log in
    and see their own calendar; a bookable person without login otherwise.
    """

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="professionals", verbose_name=_("clinic"))
    user = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="professional_profiles",
        verbose_name=_("user"),
    )
    name = models.CharField(_("name"), max_length=200)
    specialty = models.CharField(_("specialty"), max_length=120, blank=True)
    color = models.CharField(_("colour"), max_length=7, default="#0f766e", validators=[HEX_COLOR])
    is_active = models.BooleanField(_("active"), default=True)
    # The secret of the professional's calendar subscription (an iCalendar
    # feed); None: no subscription. A new one revokes the old link.
    calendar_token = models.CharField(max_length=43, db_index=True, null=True, blank=True, editable=False)  # noqa: DJ001  (NULLs never collide)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # Which state of the working hours this row was read with: on PostgreSQL a
    # trigger gives it a new value from a sequence whenever one of the
    # professional's intervals is written, and keeps it when the row itself is
    # saved (migration clinic 0022). `clinic.selectors` caches a week by it.
    hours_version = models.BigIntegerField(default=0, editable=False)

    history = tenant_history(excluded_fields=["calendar_token", "hours_version"])

    class Meta:
        verbose_name = _("professional")
        verbose_name_plural = _("professionals")
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "calendar_token"], name="professional_calendar_token_unique"
            ),
            models.UniqueConstraint(
                fields=["clinic", "user"],
                condition=Q(user__isnull=False),
                name="professional_one_profile_per_user_and_clinic",
                violation_error_message=_("This user already has a professional profile in this clinic."),
            ),
            models.CheckConstraint(
                condition=Q(color__regex=r"^#[0-9a-fA-F]{6}$"),
                name="professional_color_hex",
                violation_error_message=_("Use a colour like #0f766e."),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @staticmethod
    def hours_version_kept() -> bool:
        """Whether the database keeps `hours_version` (its triggers exist on
        PostgreSQL only): elsewhere it stays 0 and nothing may trust it."""
        return connection.vendor == "postgresql"


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class WorkingHours(TenantModel):
    """One interval of a professional's week (several per day: a lunch break
    splits a day in two), in the clinic's local time."""

    professional = models.ForeignKey(
        Professional, on_delete=models.CASCADE, related_name="working_hours", verbose_name=_("professional")
    )
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    starts_at = models.TimeField(_("from"))
    ends_at = models.TimeField(_("until"))

    history = tenant_history()

    class Meta:
        verbose_name = _("working hours")
        verbose_name_plural = _("working hours")
        ordering = ["weekday", "starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(starts_at__lt=models.F("ends_at")),
                name="working_hours_start_before_end",
                violation_error_message=_("The start must be before the end."),
            ),
            models.CheckConstraint(condition=Q(weekday__gte=0, weekday__lte=6), name="working_hours_weekday_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.starts_at:%H:%M}–{self.ends_at:%H:%M}"  # noqa: RUF001


class Room(TenantModel):
    """A treatment room of a clinic; appointments can be booked in it."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="rooms", verbose_name=_("clinic"))
    name = models.CharField(_("name"), max_length=120)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    history = tenant_history()

    class Meta:
        verbose_name = _("room")
        verbose_name_plural = _("rooms")
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["clinic", "name"],
                name="room_name_unique_in_clinic",
                violation_error_message=_("This clinic already has a room with this name."),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class OrganizationSequence(TenantModel):
    """A per-organization counter for human-readable numbers (package numbers)."""

    name = models.CharField(max_length=60)
    value = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="organization_sequence_unique")]

    def __str__(self) -> str:
        return f"{self.name} = {self.value}"


class OutboxMessage(models.Model):
    """A task to send to the broker, written in the transaction that decided
    it (`clinic.jobs.enqueue`): a task is never lost because Redis was down
    when its data was committed, and never sent for a transaction that rolled
    back. The task is sent with this row's id as its task id; the row records
    when it was sent and when a worker finished it, so a copy delivered again
    after it finished does not run twice (`clinic.celery.ClinicTask`).

    Infrastructure, not a tenant's row: the task's own arguments name the
    organization, and its body opens that scope."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    task = models.CharField(max_length=200)
    args = models.JSONField(default=list)
    kwargs = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    # Times a worker started it: a task that kills its worker every time (out
    # of memory) is given up after `clinic.celery.MAX_RUNS`, not redelivered forever.
    runs = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["created_at"], condition=Q(sent_at__isnull=True), name="outbox_unsent"),
            models.Index(fields=["done_at"], condition=Q(done_at__isnull=False), name="outbox_done"),
        ]

    def __str__(self) -> str:
        return f"{self.task} {self.id}"


class ApiToken(models.Model):
    """An API credential of one user: `Authorization: Token <key>`. A user
    holds one per integration or device, each named, listed with when it was
    last used, and revoked on its own (`clinic.tokens`). Only a digest of the
    key is stored: the key is shown once, when it is issued.

    Not a tenant row: like the user it belongs to, it is read before any
    organization is known."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens", verbose_name=_("user"))
    name = models.CharField(_("name"), max_length=100)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(_("begins with"), max_length=8, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class UserSession(AbstractBaseSession):
    """Django's database session, with the user it logged in (`clinic.sessions`):
    an owner sees how many open sessions each member has."""

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, null=True, blank=True, related_name="sessions", verbose_name=_("user")
    )

    class Meta(AbstractBaseSession.Meta):
        verbose_name = _("session")  # type: ignore[assignment]
        verbose_name_plural = _("sessions")  # type: ignore[assignment]

    @classmethod
    def get_session_store_class(cls) -> type[Any]:
        from clinic.sessions import SessionStore

        return SessionStore
