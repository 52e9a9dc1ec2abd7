"""The service catalog and package templates (S1-S5, T3).

A service or template belongs to the clinic that created it (its owning
clinic). Marked shared, it is visible read-only to the organization's other
clinics (which ones: `Organization.catalog_sharing`, see
`packages.selectors.visibility`). A template's items belong to a clinic too:
the owning clinic's items are the template itself; another clinic may add its
own items to a shared template, visible only to that clinic.

Budget limits (S3) live in `BudgetLimitFields` plus per-service limit rows, so
that a patient package can copy them at link time (X4: a sold package keeps its
terms; `packages.selectors.template_terms_snapshot`).
"""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from clinic import money
from clinic.errors import ValidationFailed
from clinic.models import Clinic, Professional, TenantModel, tenant_history

MAX_SESSIONS = 1000
MAX_DURATION_MINUTES = 24 * 60


def money_field(verbose_name: str | object, **kwargs: object) -> models.DecimalField:
    return models.DecimalField(
        verbose_name,  # type: ignore[arg-type]
        max_digits=12,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.00"))],
        **kwargs,  # type: ignore[arg-type]
    )


class Renewal(models.TextChoices):
    NONE = "none", _("No renewal")
    MONTHLY = "monthly", _("Renews every month")


class Posting(models.TextChoices):
    """How the package's revenue is posted (S2, B4)."""

    PER_PROCEDURE = "per_procedure", _("Per procedure (each attended session)")
    TOTAL = "total", _("Total (the whole price when linked)")


class CommissionKind(models.TextChoices):
    NONE = "none", _("No commission")
    PERCENT = "percent", _("Percent of the session value")
    FIXED = "fixed", _("Fixed amount per session")


class CatalogItem(TenantModel):
    """What services and templates share: an owning clinic, a shared flag, a status."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+", verbose_name=_("clinic"))
    name = models.CharField(_("name"), max_length=200)
    is_shared = models.BooleanField(
        _("shared"),
        default=False,
        help_text=_("Other clinics of the organization see it, read-only."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.name


class Service(CatalogItem):
    """A procedure the clinic sells: "Sessão de fisioterapia", code FIS-SES (S1)."""

    code = models.CharField(_("code"), max_length=30, blank=True)
    price = money_field(_("default price"))
    duration_minutes = models.PositiveIntegerField(
        _("default duration (minutes)"),
        default=50,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_DURATION_MINUTES)],
    )

    history = tenant_history()

    class Meta:
        verbose_name = _("service")
        verbose_name_plural = _("services")
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["clinic", "name"],
                name="service_name_unique_in_clinic",
                violation_error_message=_("This clinic already has a service with this name."),
            ),
            models.UniqueConstraint(
                fields=["clinic", "code"],
                condition=~Q(code=""),
                name="service_code_unique_in_clinic",
                violation_error_message=_("This clinic already has a service with this code."),
            ),
            models.CheckConstraint(condition=Q(price__gte=0), name="service_price_not_negative"),
            models.CheckConstraint(
                condition=Q(duration_minutes__gte=1, duration_minutes__lte=MAX_DURATION_MINUTES),
                name="service_duration_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} · {self.name}" if self.code else self.name


class BudgetLimitFields(models.Model):
    """Budget limits of seed 003, any combination; empty means "no limit".

    Per-service limits are rows of their own (`PackageTemplateServiceLimit`).
    A patient package inherits these fields and copies the values.
    """

    max_appointments = models.PositiveIntegerField(
        _("maximum appointments"), null=True, blank=True, validators=[MinValueValidator(1)]
    )
    max_amount = models.DecimalField(
        _("maximum total amount"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.01"))],
    )

    class Meta:
        abstract = True
        constraints = [
            models.CheckConstraint(
                condition=Q(max_appointments__isnull=True) | Q(max_appointments__gte=1),
                name="%(class)s_max_appointments_positive",
            ),
            models.CheckConstraint(
                condition=Q(max_amount__isnull=True) | Q(max_amount__gt=0),
                name="%(class)s_max_amount_positive",
            ),
        ]


class PackageTemplate(CatalogItem, BudgetLimitFields):
    """A package the clinic sells: "Pacote 10 sessões de Fisioterapia" (S2)."""

    price = money_field(_("total price"))
    fixed_sessions = models.PositiveIntegerField(
        _("number of sessions"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_SESSIONS)],
        help_text=_("Leave empty to use the sum of the items' quantities."),
    )
    validity_days = models.PositiveIntegerField(
        _("validity (days)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(3650)],
        help_text=_("Days the package can be used after it is linked; empty means no expiry."),
    )
    renewal = models.CharField(_("renewal"), max_length=10, choices=Renewal.choices, default=Renewal.NONE)
    posting = models.CharField(
        _("financial posting"), max_length=20, choices=Posting.choices, default=Posting.PER_PROCEDURE
    )
    commission_kind = models.CharField(
        _("commission"), max_length=10, choices=CommissionKind.choices, default=CommissionKind.NONE
    )
    commission_value = money_field(_("commission value"), default=Decimal("0.00"))
    trigger_service = models.ForeignKey(
        Service,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="triggered_templates",
        verbose_name=_("trigger service"),
        help_text=_("Booking this service for a patient creates and links this package automatically."),
    )

    history = tenant_history()

    class Meta:
        verbose_name = _("package template")
        verbose_name_plural = _("package templates")
        ordering = ["name", "pk"]
        constraints = [
            *BudgetLimitFields.Meta.constraints,
            models.UniqueConstraint(
                fields=["clinic", "name"],
                name="package_template_name_unique_in_clinic",
                violation_error_message=_("This clinic already has a package template with this name."),
            ),
            models.CheckConstraint(condition=Q(price__gte=0), name="package_template_price_not_negative"),
            models.CheckConstraint(
                condition=Q(fixed_sessions__isnull=True) | Q(fixed_sessions__gte=1),
                name="package_template_sessions_positive",
            ),
            models.CheckConstraint(
                condition=Q(validity_days__isnull=True) | Q(validity_days__gte=1),
                name="package_template_validity_positive",
            ),
            models.CheckConstraint(condition=Q(renewal__in=Renewal.values), name="package_template_renewal_valid"),
            models.CheckConstraint(condition=Q(posting__in=Posting.values), name="package_template_posting_valid"),
            models.CheckConstraint(
                condition=(
                    Q(commission_kind=CommissionKind.NONE, commission_value=0)
                    | Q(commission_kind=CommissionKind.FIXED, commission_value__gte=0)
                    | Q(commission_kind=CommissionKind.PERCENT, commission_value__gte=0, commission_value__lte=100)
                ),
                name="package_template_commission_valid",
                violation_error_message=_("A percent commission is between 0 and 100; no commission has no value."),
            ),
        ]

    # The items this template shows to one clinic: its owning clinic's items and
    # the viewing clinic's own. Set by `packages.selectors.with_visible_items`.
    visible_items: list[PackageTemplateItem]

    @property
    def sessions(self) -> int:
        """The number of sessions: the fixed number, else the sum of the visible items."""
        if self.fixed_sessions:
            return self.fixed_sessions
        return sum(item.quantity for item in self.visible_items)

    @property
    def sessions_from_items(self) -> bool:
        return self.fixed_sessions is None

    @property
    def price_per_session(self) -> Decimal | None:
        try:
            return money.price_per_session(self.price, self.sessions)
        except ValidationFailed:
            return None

    @property
    def last_session_price(self) -> Decimal | None:
        try:
            return money.last_session_price(self.price, self.sessions)
        except ValidationFailed:
            return None


class ServiceProfessional(TenantModel):
    """A professional who provides a service: online booking offers only
    them (A6). A clinic that names none for a service offers all of its
    professionals."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="providers")
    professional = models.ForeignKey(Professional, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["service", "professional"], name="service_professional_once"),
        ]


class PackageTemplateItem(TenantModel):
    """A service and its quantity in a template ("10 x Physio").

    `clinic` is the clinic that added the item: the template's owning clinic, or
    another clinic adding its own services to a shared template (T3).
    """

    template = models.ForeignKey(
        PackageTemplate, on_delete=models.CASCADE, related_name="items", verbose_name=_("package template")
    )
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+", verbose_name=_("clinic"))
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="+", verbose_name=_("service"))
    quantity = models.PositiveIntegerField(
        _("quantity"), default=1, validators=[MinValueValidator(1), MaxValueValidator(MAX_SESSIONS)]
    )

    history = tenant_history()

    class Meta:
        verbose_name = _("package template item")
        verbose_name_plural = _("package template items")
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["template", "clinic", "service"],
                name="package_template_item_service_once_per_clinic",
                violation_error_message=_("The service is already in this template."),
            ),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="package_template_item_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} \N{MULTIPLICATION SIGN} {self.service.name}"


class PackageTemplateServiceLimit(TenantModel):
    """A per-service budget limit of a template: max quantity and/or max amount."""

    template = models.ForeignKey(
        PackageTemplate, on_delete=models.CASCADE, related_name="service_limits", verbose_name=_("package template")
    )
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="+", verbose_name=_("service"))
    max_quantity = models.PositiveIntegerField(
        _("maximum quantity"), null=True, blank=True, validators=[MinValueValidator(1)]
    )
    max_amount = models.DecimalField(
        _("maximum amount"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.01"))],
    )

    history = tenant_history()

    class Meta:
        verbose_name = _("per-service budget limit")
        verbose_name_plural = _("per-service budget limits")
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["template", "service"],
                name="package_template_limit_service_once",
                violation_error_message=_("This service already has a limit in this template."),
            ),
            models.CheckConstraint(
                condition=Q(max_quantity__isnull=False) | Q(max_amount__isnull=False),
                name="package_template_limit_not_empty",
                violation_error_message=_("Set a maximum quantity, a maximum amount, or both."),
            ),
            models.CheckConstraint(
                condition=Q(max_quantity__isnull=True) | Q(max_quantity__gte=1),
                name="package_template_limit_quantity_positive",
            ),
            models.CheckConstraint(
                condition=Q(max_amount__isnull=True) | Q(max_amount__gt=0),
                name="package_template_limit_amount_positive",
            ),
        ]

    def __str__(self) -> str:
        return str(self.service)
