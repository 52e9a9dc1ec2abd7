"""Writes on organizations, clinics and memberships. Every caller (views, API,
admin, commands) goes through these functions."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _

from clinic.errors import ValidationFailed, full_clean, model_errors, raise_if
from clinic.hooks import Hook
from clinic.models import Clinic, Membership, Organization, OrganizationSequence, Role, User
from clinic.tenancy import organization_scope


def _unique_slug(name: str) -> str:
    base = slugify(name)[:70] or "organization"
    slug, n = base, 1
    while Organization.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


# What the apps above this one set up for every new organization (scheduling's
# built-in appointment statuses...), connected from their AppConfig.ready().
# `organization_create` calls it in its transaction, so a new organization
# never lacks them and nothing has to create them later on a read.
organization_created: Hook[Organization] = Hook("organization_created")
on_organization_created = organization_created.connect


def organization_setup(organization: Organization) -> None:
    """Run every app's set-up for `organization` (idempotent each)."""
    with organization_scope(organization):
        organization_created(organization)


@transaction.atomic
def organization_create(
    *,
    name: str,
    owner_username: str,
    owner_password: str,
    clinic_name: str | None = None,
    time_zone: str = "America/Sao_Paulo",
    currency: str = "BRL",
    owner_email: str = "",
) -> tuple[Organization, Clinic, User]:
    """Create an organization with its first (central) clinic and its owner."""
    name = name.strip()
    if not name:
        raise ValidationFailed(fields={"name": [_("This field is required.")]})
    if User.objects.filter(username__iexact=owner_username).exists():
        raise ValidationFailed(fields={"owner": [_("A user with that username already exists.")]})
    organization = Organization.objects.create(name=name, slug=_unique_slug(name))
    owner = User(username=owner_username, email=owner_email, organization=organization)
    try:
        validate_password(owner_password, owner)
    except DjangoValidationError as error:
        raise ValidationFailed(fields={"password": error.messages}) from error
    owner.set_password(owner_password)
    full_clean(owner, exclude=["password"])
    owner.save()
    with organization_scope(organization):
        clinic = clinic_create(
            organization=organization,
            name=clinic_name or name,
            time_zone=time_zone,
            currency=currency,
            is_central=True,
        )
        membership_set(user=owner, clinic=clinic, role=Role.OWNER)
    organization_setup(organization)
    return organization, clinic, owner


ONLINE_FIELDS = {
    "online_booking", "online_notice_hours", "online_days_ahead", "online_slot_minutes", "online_buffer_minutes",
    "online_max_upcoming",
}  # fmt: skip


@transaction.atomic
def clinic_create(
    *,
    organization: Organization,
    name: str,
    time_zone: str = "America/Sao_Paulo",
    currency: str = "BRL",
    country: str = "BR",
    language: str = "pt-br",
    is_central: bool = False,
    is_active: bool = True,
    pix_key: str = "",
    pix_city: str = "",
    legal_name: str = "",
    tax_id: str = "",
    address: str = "",
    phone: str = "",
    reminder_hours: int = 24,
    reminder_channels: list[str] | None = None,
    cancellation_hours: int = 24,
    **online: Any,
) -> Clinic:
    clinic = Clinic(
        organization=organization,
        name=name.strip(),
        time_zone=time_zone,
        currency=currency.upper(),
        country=country.upper(),
        language=language,
        is_central=is_central,
        is_active=is_active,
        pix_key=pix_key.strip(),
        pix_city=pix_city.strip(),
        legal_name=legal_name.strip(),
        tax_id=tax_id,
        address=address.strip(),
        phone=phone,
        reminder_hours=reminder_hours,
        reminder_channels=["sms"] if reminder_channels is None else list(reminder_channels),
        cancellation_hours=cancellation_hours,
    )
    unknown = set(online) - ONLINE_FIELDS
    if unknown:
        raise ValidationFailed(fields={name: [_("Unknown field.")] for name in sorted(unknown)})
    for name, value in online.items():
        if value is not None:
            setattr(clinic, name, value)
    full_clean(clinic)
    try:
        with transaction.atomic():
            clinic.save()
    except IntegrityError as error:
        # Two requests creating the same name, or a second central, at once:
        # the constraint decided; report it like the validation would have.
        raise ValidationFailed(fields={"name": [_("This clinic could not be saved: %s") % error]}) from error
    return clinic


def clinic_check(*, organization: Organization, clinic: Clinic | None = None, data: dict[str, Any]) -> None:
    """The rules `clinic_create` and `clinic_update` apply (a valid time
    zone, CNPJ, Pix key, a name not used twice...), on what a form could
    parse, writing nothing: the page shows them with its own errors at once."""
    probe = Clinic(organization=organization, pk=clinic.pk if clinic else None)
    if clinic is not None:
        for field in Clinic._meta.concrete_fields:
            setattr(probe, field.attname, getattr(clinic, field.attname))
        probe._state.adding = False  # its own row is no clash
    for name, value in data.items():
        if hasattr(probe, name) and value is not None:
            setattr(probe, name, value.strip() if isinstance(value, str) else value)
    raise_if(model_errors(probe, given=[*data, "organization"]))


@transaction.atomic
def clinic_update(*, clinic: Clinic, **changes: object) -> Clinic:
    allowed = {
        "name", "time_zone", "currency", "country", "language", "is_central", "is_active", "pix_key", "pix_city",
        "legal_name", "tax_id", "address", "phone", "reminder_hours", "reminder_channels", "cancellation_hours",
        "online_booking", "online_notice_hours", "online_days_ahead", "online_slot_minutes", "online_buffer_minutes",
        "online_max_upcoming",
    }  # fmt: skip
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationFailed(fields={name: [_("This field cannot be changed.")] for name in sorted(unknown)})
    clinic = Clinic.objects.select_for_update().get(pk=clinic.pk)
    for field, value in changes.items():
        setattr(clinic, field, value.strip() if isinstance(value, str) else value)
    if "currency" in changes:
        clinic.currency = clinic.currency.upper()
    full_clean(clinic)
    clinic.save()
    return clinic


@transaction.atomic
def membership_set(*, user: User, clinic: Clinic, role: Role | str) -> Membership:
    """Give `user` the `role` in `clinic` (creating or changing the membership)."""
    if user.organization_id != clinic.organization_id:
        raise ValidationFailed(fields={"user": [_("The user belongs to another organization.")]})
    if role not in Role.values:
        raise ValidationFailed(fields={"role": [_("Unknown role.")]})
    membership = Membership.objects.filter(user=user, clinic=clinic).first()
    if membership is None:
        return Membership.objects.create(organization_id=clinic.organization_id, user=user, clinic=clinic, role=role)
    if membership.role != role:
        membership.role = role
        membership.save(update_fields=["role"])
    return membership


def sequence_next(*, organization_id: int, name: str) -> int:
    """The next value of an organization's counter, without races: concurrent
    callers queue on the row lock and each gets its own value. Must run inside
    the caller's transaction, so a rolled-back caller gives its number back."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("sequence_next must run inside a transaction")
    OrganizationSequence.objects.bulk_create(
        [OrganizationSequence(organization_id=organization_id, name=name)], ignore_conflicts=True
    )
    counter = OrganizationSequence.objects.select_for_update().get(organization_id=organization_id, name=name)
    counter.value += 1
    counter.save(update_fields=["value"])
    return counter.value
