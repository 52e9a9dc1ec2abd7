"""Forms of the catalog pages. They only parse input; the services validate the
rules and the views show the services' errors on the forms."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from clinic import money
from clinic.errors import ApplicationError
from clinic.form_fields import money_field
from clinic.models import CatalogSharing, Clinic, Professional, Role
from clinic.service_forms import ServiceCheckedForm
from packages.catalog import selectors
from packages.catalog import services as catalog_services
from packages.catalog.models import (
    MAX_DURATION_MINUTES,
    MAX_SESSIONS,
    CommissionKind,
    PackageTemplate,
    Posting,
    Renewal,
    Service,
    ServiceProfessional,
)
from packages.catalog.services import LimitsInput, ServiceLimitInput, TemplateInput, TemplateItemInput


class ServiceForm(ServiceCheckedForm):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    code = forms.CharField(
        label=gettext_lazy("Code"),
        max_length=30,
        required=False,
        help_text=gettext_lazy("Your procedure code, e.g. FIS-SES or an insurer's table code."),
    )
    price = money_field(gettext_lazy("Default price"))
    duration_minutes = forms.IntegerField(
        label=gettext_lazy("Default duration (minutes)"), min_value=1, max_value=MAX_DURATION_MINUTES, initial=50
    )
    is_shared = forms.BooleanField(
        label=gettext_lazy("Share with the other clinics"),
        required=False,
        help_text=gettext_lazy("They see it read-only and can use it in their package templates."),
    )

    professionals: forms.ModelMultipleChoiceField[Professional] = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Professionals who provide it"), queryset=Professional.objects.none(), required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("Online booking offers only them; with none chosen, every professional of the clinic."),
    )  # fmt: skip

    def __init__(
        self,
        *args: Any,
        professionals: QuerySet[Professional] | None = None,
        clinic: Clinic | None = None,
        service: Service | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.clinic, self.service = clinic, service
        if professionals is not None:
            self.fields["professionals"].queryset = professionals  # type: ignore[attr-defined]

    def service_check(self, data: dict[str, Any]) -> None:
        # A name or code the clinic already uses shows with the fields' own errors.
        if self.clinic is not None:
            catalog_services.service_check(clinic=self.clinic, service=self.service, data=data)

    @classmethod
    def for_service(
        cls, service: Service, data: Any = None, *, professionals: QuerySet[Professional] | None = None
    ) -> ServiceForm:
        initial: dict[str, Any] = {name: getattr(service, name) for name in cls.base_fields if name != "professionals"}
        initial["professionals"] = list(
            ServiceProfessional.objects.filter(service=service).values_list("professional_id", flat=True)
        )
        return cls(data=data, initial=initial, professionals=professionals, clinic=service.clinic, service=service)


class ServiceField(forms.ChoiceField):
    """A choice among services loaded once for the whole page (a ModelChoiceField
    would query once per formset row). Own services first, then shared ones."""

    def __init__(self, *, services: list[Service], clinic: Clinic, **kwargs: Any) -> None:
        self.services = {service.pk: service for service in services}
        own = [(service.pk, str(service)) for service in services if service.clinic_id == clinic.pk]
        shared: dict[str, list[tuple[int, str]]] = {}
        for service in services:
            if service.clinic_id != clinic.pk:
                label = _("Shared by %(clinic)s") % {"clinic": service.clinic.name}
                shared.setdefault(label, []).append((service.pk, str(service)))
        choices: list[Any] = [("", "---------")]
        if own and shared:
            choices.append((_("This clinic"), own))
        else:
            choices.extend(own)
        choices.extend(shared.items())
        super().__init__(choices=choices, **kwargs)

    def clean(self, value: Any) -> Service | None:
        value = super().clean(value)
        if value in self.empty_values:
            return None
        try:
            return self.services[int(value)]
        except (KeyError, ValueError):
            raise forms.ValidationError(self.error_messages["invalid_choice"], code="invalid_choice") from None


class ItemForm(forms.Form):
    def __init__(self, *args: Any, services: list[Service], clinic: Clinic, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["service"] = ServiceField(services=services, clinic=clinic, label=_("Service"))
        self.fields["quantity"] = forms.IntegerField(
            label=_("Quantity"), min_value=1, max_value=MAX_SESSIONS, initial=1
        )


class LimitForm(forms.Form):
    def __init__(self, *args: Any, services: list[Service], clinic: Clinic, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["service"] = ServiceField(services=services, clinic=clinic, label=_("Service"))
        self.fields["max_quantity"] = forms.IntegerField(label=_("Maximum quantity"), min_value=1, required=False)
        self.fields["max_amount"] = money_field(_("Maximum amount"), required=False, minimum="0.01")


def _formset(form: type[forms.Form], *, extra: int) -> Any:
    return forms.formset_factory(form, extra=extra, can_delete=True, max_num=100, absolute_max=100)


def item_formset(data: Any, *, rows: list[dict[str, Any]], **kwargs: Any) -> Any:
    """Items formset; a template without items starts with one empty row."""
    formset_class = _formset(ItemForm, extra=0 if rows else 1)
    return formset_class(data, prefix="items", initial=rows or None, form_kwargs=kwargs)


def limit_formset(data: Any, *, rows: list[dict[str, Any]], **kwargs: Any) -> Any:
    formset_class = _formset(LimitForm, extra=0)
    return formset_class(data, prefix="limits", initial=rows or None, form_kwargs=kwargs)


class PackageTemplateForm(ServiceCheckedForm):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    price = money_field(gettext_lazy("Total price"))
    sessions = forms.IntegerField(
        label=gettext_lazy("Number of sessions"),
        required=False,
        min_value=1,
        max_value=MAX_SESSIONS,
        help_text=gettext_lazy("Leave empty to use the sum of the items' quantities."),
    )
    validity_days = forms.IntegerField(
        label=gettext_lazy("Validity (days)"),
        required=False,
        min_value=1,
        max_value=3650,
        help_text=gettext_lazy("Days the package can be used after it is linked. Empty: no expiry."),
    )
    renewal = forms.ChoiceField(label=gettext_lazy("Renewal"), choices=Renewal.choices, initial=Renewal.NONE)
    posting = forms.ChoiceField(
        label=gettext_lazy("Financial posting"),
        choices=Posting.choices,
        initial=Posting.PER_PROCEDURE,
        help_text=gettext_lazy(
            "Per procedure: revenue is posted for each attended session at the procedure's price. "
            "Total: the whole price is posted when the package is linked."
        ),
    )
    commission_kind = forms.ChoiceField(
        label=gettext_lazy("Commission per session"), choices=CommissionKind.choices, initial=CommissionKind.NONE
    )
    commission_value = money_field(
        gettext_lazy("Commission value"),
        required=False,
        help_text=gettext_lazy("A percentage (0 to 100) or an amount per session."),
    )
    max_appointments = forms.IntegerField(label=gettext_lazy("Maximum appointments"), required=False, min_value=1)
    max_amount = money_field(gettext_lazy("Maximum total amount"), required=False, minimum="0.01")
    is_shared = forms.BooleanField(
        label=gettext_lazy("Share with the other clinics"),
        required=False,
        help_text=gettext_lazy(
            "They see it read-only and may add their own services to it. Its services must be shared too."
        ),
    )

    def __init__(
        self, *args: Any, services: list[Service], clinic: Clinic, template: PackageTemplate | None = None,
        **kwargs: Any,
    ) -> None:  # fmt: skip
        super().__init__(*args, **kwargs)
        self.clinic, self.template = clinic, template
        self.fields["trigger_service"] = ServiceField(
            services=services,
            clinic=clinic,
            label=_("Trigger service"),
            required=False,
            help_text=_("Booking this service for a patient creates and links this package (service chain)."),
        )

    def service_check(self, data: dict[str, Any]) -> None:
        # The row's rules (a name the clinic uses, a trigger service taken)
        # show with the fields' own errors; those over items and limits need
        # the rows and show when saving.
        catalog_services.package_template_check(clinic=self.clinic, template=self.template, data=data)


@dataclass
class TemplateEditor:
    """The template page's form and its two formsets (items, per-service limits)."""

    form: PackageTemplateForm
    items: Any
    limits: Any

    @classmethod
    def build(cls, *, clinic: Clinic, data: Any = None, template: PackageTemplate | None = None) -> TemplateEditor:
        initial: dict[str, Any] = {}
        item_rows: list[dict[str, Any]] = []
        limit_rows: list[dict[str, Any]] = []
        keep: set[int] = set()
        if template is not None:
            own_items = [item for item in template.visible_items if item.clinic_id == template.clinic_id]
            item_rows = [{"service": item.service_id, "quantity": item.quantity} for item in own_items]
            limit_rows = [
                {"service": row.service_id, "max_quantity": row.max_quantity, "max_amount": row.max_amount}
                for row in template.service_limits.all()
            ]
            keep = {row["service"] for row in item_rows + limit_rows}
            if template.trigger_service_id:
                keep.add(template.trigger_service_id)
            initial = {
                "name": template.name,
                "price": template.price,
                "sessions": template.fixed_sessions,
                "validity_days": template.validity_days,
                "renewal": template.renewal,
                "posting": template.posting,
                "commission_kind": template.commission_kind,
                "commission_value": template.commission_value,
                "trigger_service": template.trigger_service_id,
                "max_appointments": template.max_appointments,
                "max_amount": template.max_amount,
                "is_shared": template.is_shared,
            }
        services = list(selectors.service_choices(clinic=clinic, keep=keep))
        kwargs: dict[str, Any] = {"services": services, "clinic": clinic}
        return cls(
            form=PackageTemplateForm(data, initial=initial, template=template, **kwargs),
            items=item_formset(data, rows=item_rows, **kwargs),
            limits=limit_formset(data, rows=limit_rows, **kwargs),
        )

    def is_valid(self) -> bool:
        return all([self.form.is_valid(), self.items.is_valid(), self.limits.is_valid()])

    def to_input(self) -> TemplateInput:
        data = self.form.cleaned_data
        return TemplateInput(
            name=data["name"],
            price=data["price"],
            items=_item_inputs(self.items),
            fixed_sessions=data["sessions"],
            validity_days=data["validity_days"],
            renewal=data["renewal"],
            posting=data["posting"],
            commission_kind=data["commission_kind"],
            commission_value=data["commission_value"] or money.ZERO,
            trigger_service=data["trigger_service"],
            limits=LimitsInput(
                max_appointments=data["max_appointments"],
                max_amount=data["max_amount"],
                services=tuple(
                    ServiceLimitInput(
                        service=row["service"], max_quantity=row["max_quantity"], max_amount=row["max_amount"]
                    )
                    for row in _kept_rows(self.limits)
                ),
            ),
            is_shared=data["is_shared"],
        )

    def preview(self, *, currency: str) -> dict[str, Any]:
        """Sessions and price per session of what is being typed, by the money
        module's rules (K9), without failing on what is not valid yet."""
        if self.form.is_bound:
            self.form.is_valid()
            data = getattr(self.form, "cleaned_data", {})
            price, fixed = data.get("price"), data.get("sessions")
            quantities = []
            for form in self.items.forms:
                form.is_valid()
                row = getattr(form, "cleaned_data", None) or {}
                if row.get("service") and row.get("quantity") and not row.get("DELETE"):
                    quantities.append(row["quantity"])
        else:
            price, fixed = self.form.initial.get("price"), self.form.initial.get("sessions")
            quantities = [row.get("quantity") or 0 for row in self.items.initial or [] if row.get("service")]
        sessions = fixed or sum(quantities)
        preview: dict[str, Any] = {"sessions": sessions, "price": price, "currency": currency, "error": ""}
        if price is None:
            return preview
        try:
            prices = money.session_prices(price, sessions)
        except ApplicationError as error:
            preview["error"] = error.detail
        else:
            preview.update(regular=prices[0], last=prices[-1], differs=prices[0] != prices[-1])
        return preview

    def add_error(self, error: ApplicationError) -> None:
        """Show a service's error: on its field, on the formset it is about, or on top."""
        for name, messages in (error.fields or {"__all__": [error.detail]}).items():
            for message in messages:
                if name in self.form.fields:
                    self.form.add_error(name, message)
                elif name == "items":
                    self.items._non_form_errors = [*self.items.non_form_errors(), message]
                elif name == "limits":
                    self.limits._non_form_errors = [*self.limits.non_form_errors(), message]
                else:
                    self.form.add_error(None, message)


@dataclass
class OwnItemsEditor:
    """A clinic's own services in another clinic's shared template."""

    items: Any

    @classmethod
    def build(cls, *, clinic: Clinic, template: PackageTemplate, data: Any = None) -> OwnItemsEditor:
        rows = [
            {"service": item.service_id, "quantity": item.quantity}
            for item in template.visible_items
            if item.clinic_id == clinic.pk
        ]
        services = list(selectors.service_choices(clinic=clinic, keep={row["service"] for row in rows}))
        return cls(items=item_formset(data, rows=rows, services=services, clinic=clinic))

    def is_valid(self) -> bool:
        return bool(self.items.is_valid())

    def to_items(self) -> tuple[TemplateItemInput, ...]:
        return _item_inputs(self.items)

    def add_error(self, error: ApplicationError) -> None:
        messages = [m for ms in error.fields.values() for m in ms] or [error.detail]
        self.items._non_form_errors = self.items.non_form_errors() + messages


def _kept_rows(formset: Any) -> list[dict[str, Any]]:
    rows = (getattr(form, "cleaned_data", None) or {} for form in formset.forms)
    return [row for row in rows if row.get("service") and not row.get("DELETE")]


def _item_inputs(formset: Any) -> tuple[TemplateItemInput, ...]:
    return tuple(
        TemplateItemInput(service=row["service"], quantity=row["quantity"] or 1) for row in _kept_rows(formset)
    )


class CatalogSettingsForm(forms.Form):
    catalog_sharing = forms.ChoiceField(
        label=gettext_lazy("Shared catalog visible to clinics"),
        choices=CatalogSharing.choices,
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
    )
    catalog_roles = forms.MultipleChoiceField(
        label=gettext_lazy("Who may create and edit services and package templates"),
        choices=[(role.value, role.label) for role in Role if role != Role.OWNER],
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input", "role": "switch"}),
        help_text=gettext_lazy("Owners always may. The other roles see the catalog read-only."),
    )
