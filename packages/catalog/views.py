"""Catalog pages: package templates (S4), services (S1), and the organization's
catalog settings (T3, T4)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from clinic.errors import ApplicationError, NotFound, add_to_form
from clinic.models import Clinic, Professional
from clinic.permissions import Perm, request_has_perm, require_perm, roles_with
from packages.catalog import exporters, selectors, services
from packages.catalog.errors import SharedReadOnly
from packages.catalog.filters import PackageTemplateFilter, ServiceFilter, page_filter_data
from packages.catalog.forms import CatalogSettingsForm, OwnItemsEditor, ServiceForm, TemplateEditor
from packages.catalog.models import PackageTemplate, Service

PAGE_SIZE = 50


def _clinic(request: HttpRequest) -> Clinic | None:
    return getattr(request, "clinic", None)


def _current_clinic(request: HttpRequest) -> Clinic:
    clinic = _clinic(request)
    if clinic is None:
        raise PermissionDenied
    return clinic


def _next_url(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return fallback


def get_template_for_user(request: HttpRequest, template_id: int) -> PackageTemplate:
    """A template the current clinic sees; 404 alike for missing, invisible and foreign."""
    try:
        return selectors.template_for_clinic(clinic=_clinic(request), template_id=template_id)
    except NotFound:
        raise Http404 from None


def get_service_for_user(request: HttpRequest, service_id: int) -> Service:
    try:
        return selectors.service_for_clinic(clinic=_clinic(request), service_id=service_id)
    except NotFound:
        raise Http404 from None


def _page(request: HttpRequest, rows: Any) -> Page:
    return Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))


def _query_without_page(request: HttpRequest) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


# Package templates ----------------------------------------------------------


def _filtered_templates(request: HttpRequest) -> PackageTemplateFilter:
    return PackageTemplateFilter(
        page_filter_data(request.GET), queryset=selectors.template_list(clinic=_clinic(request))
    )


@login_required
def template_list(request: HttpRequest) -> HttpResponse:
    filters = _filtered_templates(request)
    page = _page(request, filters.qs)
    return render(
        request,
        "packages/template_list.html",
        {
            "filters": filters,
            "page": page,
            "query": _query_without_page(request),
            "can_manage": request_has_perm(request, Perm.MANAGE_CATALOG),
            "can_export": request_has_perm(request, Perm.EXPORT_REPORTS),
            "tab": "templates",
        },
    )


@login_required
def template_export(request: HttpRequest) -> HttpResponse:
    """The filtered template list as an Excel workbook (S4, R3)."""
    require_perm(request, Perm.EXPORT_REPORTS)
    _current_clinic(request)
    content = exporters.package_templates_xlsx(_filtered_templates(request).qs)
    response = HttpResponse(content, content_type=exporters.XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = 'attachment; filename="package-templates.xlsx"'
    return response


def _editor_context(request: HttpRequest, editor: TemplateEditor, template: PackageTemplate | None) -> dict[str, Any]:
    currency = template.clinic.currency if template else _current_clinic(request).currency
    return {"editor": editor, "template": template, "tab": "templates", "preview": editor.preview(currency=currency)}


@login_required
@require_http_methods(["GET", "POST"])
def template_create(request: HttpRequest) -> HttpResponse:
    require_perm(request, Perm.MANAGE_CATALOG)
    clinic = _current_clinic(request)
    editor = TemplateEditor.build(clinic=clinic, data=request.POST or None)
    if request.method == "POST" and editor.is_valid():
        try:
            template = services.package_template_create(clinic=clinic, data=editor.to_input())
        except ApplicationError as error:
            editor.add_error(error)
        else:
            messages.success(request, _("Package template “%(name)s” created.") % {"name": template.name})
            return redirect("packages:template-detail", template.pk)
    return render(request, "packages/template_form.html", _editor_context(request, editor, None))


@login_required
def template_detail(request: HttpRequest, template_id: int) -> HttpResponse:
    template = get_template_for_user(request, template_id)
    clinic = _current_clinic(request)
    is_own = template.clinic_id == clinic.pk
    can_manage = request_has_perm(request, Perm.MANAGE_CATALOG)
    own_items = None
    if can_manage and not is_own and template.is_shared:
        own_items = OwnItemsEditor.build(clinic=clinic, template=template)
    return render(request, "packages/template_detail.html", _detail_context(request, template, own_items))


def _detail_context(
    request: HttpRequest, template: PackageTemplate, own_items: OwnItemsEditor | None
) -> dict[str, Any]:
    clinic = _current_clinic(request)
    is_own = template.clinic_id == clinic.pk
    return {
        "template": template,
        "is_own": is_own,
        "can_edit": is_own and request_has_perm(request, Perm.MANAGE_CATALOG),
        "own_items": own_items,
        "shared_items": [item for item in template.visible_items if item.clinic_id == template.clinic_id],
        "added_items": [item for item in template.visible_items if item.clinic_id != template.clinic_id],
        "limits": list(template.service_limits.all()),
        "session_prices": _session_prices(template),
        "tab": "templates",
    }


def _session_prices(template: PackageTemplate) -> dict[str, Any] | None:
    if not template.sessions:
        return None
    return {
        "regular": template.price_per_session,
        "last": template.last_session_price,
        "differs": template.price_per_session != template.last_session_price,
    }


@login_required
@require_http_methods(["GET", "POST"])
def template_edit(request: HttpRequest, template_id: int) -> HttpResponse:
    require_perm(request, Perm.MANAGE_CATALOG)
    template = get_template_for_user(request, template_id)
    clinic = _current_clinic(request)
    if template.clinic_id != clinic.pk:
        # Another clinic's shared template: its page is read-only (T3).
        if request.method == "POST":
            raise PermissionDenied(SharedReadOnly.default_detail)
        return redirect("packages:template-detail", template.pk)
    editor = TemplateEditor.build(clinic=clinic, data=request.POST or None, template=template)
    if request.method == "POST" and editor.is_valid():
        try:
            services.package_template_update(template=template, clinic=clinic, data=editor.to_input())
        except ApplicationError as error:
            editor.add_error(error)
        else:
            messages.success(
                request, _("Package template “%(name)s” saved.") % {"name": editor.form.cleaned_data["name"]}
            )
            return redirect("packages:template-detail", template.pk)
    return render(request, "packages/template_form.html", _editor_context(request, editor, template))


@login_required
@require_POST
def template_own_items(request: HttpRequest, template_id: int) -> HttpResponse:
    """Save the current clinic's own services in another clinic's shared template."""
    require_perm(request, Perm.MANAGE_CATALOG)
    template = get_template_for_user(request, template_id)
    clinic = _current_clinic(request)
    if template.clinic_id == clinic.pk:
        return redirect("packages:template-edit", template.pk)
    editor = OwnItemsEditor.build(clinic=clinic, template=template, data=request.POST)
    if editor.is_valid():
        try:
            services.package_template_set_own_items(template=template, clinic=clinic, items=editor.to_items())
        except SharedReadOnly:
            raise PermissionDenied from None
        except ApplicationError as error:
            editor.add_error(error)
        else:
            messages.success(request, _("Your clinic's services in “%(name)s” saved.") % {"name": template.name})
            return redirect("packages:template-detail", template.pk)
    return render(request, "packages/template_detail.html", _detail_context(request, template, editor))


@login_required
@require_POST
def template_set_active(request: HttpRequest, template_id: int) -> HttpResponse:
    require_perm(request, Perm.MANAGE_CATALOG)
    template = get_template_for_user(request, template_id)
    is_active = request.POST.get("is_active") == "1"
    try:
        services.package_template_set_active(template=template, clinic=_current_clinic(request), is_active=is_active)
    except SharedReadOnly:
        raise PermissionDenied from None
    except ApplicationError as error:
        messages.error(request, error.detail)
    else:
        text = (
            _("Package template “%(name)s” reactivated.")
            if is_active
            else _("Package template “%(name)s” deactivated.")
        )
        messages.success(request, text % {"name": template.name})
    return redirect(_next_url(request, reverse("packages:index")))


@login_required
@require_POST
def template_delete(request: HttpRequest, template_id: int) -> HttpResponse:
    require_perm(request, Perm.MANAGE_CATALOG)
    template = get_template_for_user(request, template_id)
    try:
        services.package_template_delete(template=template, clinic=_current_clinic(request))
    except SharedReadOnly:
        raise PermissionDenied from None
    except ApplicationError as error:
        messages.error(request, error.detail)
        return redirect("packages:template-detail", template.pk)
    messages.success(request, _("Package template “%(name)s” deleted.") % {"name": template.name})
    return redirect("packages:index")


@login_required
@require_POST
def template_preview(request: HttpRequest) -> HttpResponse:
    """htmx: the price-per-session box of the template form, recomputed as one types."""
    require_perm(request, Perm.MANAGE_CATALOG)
    clinic = _current_clinic(request)
    template = None
    template_id = request.POST.get("template")
    if template_id and template_id.isdigit():
        template = get_template_for_user(request, int(template_id))
    editor = TemplateEditor.build(clinic=clinic, data=request.POST, template=template)
    currency = template.clinic.currency if template else clinic.currency
    return render(request, "packages/includes/price_preview.html", {"preview": editor.preview(currency=currency)})


# Services ---------------------------------------------------------------------


@login_required
def service_list(request: HttpRequest) -> HttpResponse:
    filters = ServiceFilter(page_filter_data(request.GET), queryset=selectors.service_list(clinic=_clinic(request)))
    return render(
        request,
        "packages/service_list.html",
        {
            "filters": filters,
            "page": _page(request, filters.qs),
            "query": _query_without_page(request),
            "can_manage": request_has_perm(request, Perm.MANAGE_CATALOG),
            "tab": "services",
        },
    )


def _service_fields(form: ServiceForm) -> dict[str, Any]:
    data = form.cleaned_data
    return {
        "name": data["name"],
        "code": data["code"],
        "price": data["price"],
        "duration_minutes": data["duration_minutes"],
        "is_shared": data["is_shared"],
        "professionals": list(data.get("professionals") or []),
    }


def _clinic_professionals(clinic: Clinic) -> QuerySet[Professional]:
    return Professional.objects.filter(clinic=clinic, is_active=True).order_by("name")


@login_required
@require_http_methods(["GET", "POST"])
def service_create(request: HttpRequest) -> HttpResponse:
    require_perm(request, Perm.MANAGE_CATALOG)
    clinic = _current_clinic(request)
    form = ServiceForm(request.POST or None, professionals=_clinic_professionals(clinic), clinic=clinic)
    if request.method == "POST" and form.is_valid():
        try:
            service = services.service_create(clinic=clinic, **_service_fields(form))
        except ApplicationError as error:
            add_to_form(form, error)
        else:
            messages.success(request, _("Service “%(name)s” created.") % {"name": service.name})
            return redirect("packages:services")
    return render(request, "packages/service_form.html", {"form": form, "service": None, "tab": "services"})


@login_required
@require_http_methods(["GET", "POST"])
def service_edit(request: HttpRequest, service_id: int) -> HttpResponse:
    """The service's page: its form for the owning clinic's managers, read-only otherwise."""
    service = get_service_for_user(request, service_id)
    clinic = _current_clinic(request)
    editable = service.clinic_id == clinic.pk and request_has_perm(request, Perm.MANAGE_CATALOG)
    if request.method == "POST" and not editable:
        raise PermissionDenied
    form = ServiceForm.for_service(service, request.POST or None, professionals=_clinic_professionals(clinic))
    if request.method == "POST" and form.is_valid():
        try:
            services.service_update(service=service, clinic=clinic, **_service_fields(form))
        except ApplicationError as error:
            add_to_form(form, error)
        else:
            messages.success(request, _("Service “%(name)s” saved.") % {"name": form.cleaned_data["name"]})
            return redirect("packages:services")
    return render(
        request,
        "packages/service_form.html",
        {
            "form": form,
            "service": service,
            "editable": editable,
            "in_use": selectors.service_is_used(service),
            "tab": "services",
        },
    )


@login_required
@require_POST
def service_set_active(request: HttpRequest, service_id: int) -> HttpResponse:
    require_perm(request, Perm.MANAGE_CATALOG)
    service = get_service_for_user(request, service_id)
    is_active = request.POST.get("is_active") == "1"
    try:
        services.service_set_active(service=service, clinic=_current_clinic(request), is_active=is_active)
    except SharedReadOnly:
        raise PermissionDenied from None
    text = _("Service “%(name)s” reactivated.") if is_active else _("Service “%(name)s” deactivated.")
    messages.success(request, text % {"name": service.name})
    return redirect(_next_url(request, reverse("packages:services")))


@login_required
@require_POST
def service_delete(request: HttpRequest, service_id: int) -> HttpResponse:
    require_perm(request, Perm.MANAGE_CATALOG)
    service = get_service_for_user(request, service_id)
    try:
        services.service_delete(service=service, clinic=_current_clinic(request))
    except SharedReadOnly:
        raise PermissionDenied from None
    except ApplicationError as error:
        messages.error(request, error.detail)
        return redirect("packages:service-edit", service.pk)
    messages.success(request, _("Service “%(name)s” deleted.") % {"name": service.name})
    return redirect("packages:services")


# Organization settings ----------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def catalog_settings(request: HttpRequest) -> HttpResponse:
    """Settings > Catalog: which shared items clinics see, who manages the catalog.
    Everyone may read it; owners (manage_organization) change it."""
    organization = request.organization  # type: ignore[attr-defined]
    if organization is None:
        raise PermissionDenied
    can_change = request_has_perm(request, Perm.MANAGE_ORGANIZATION)
    if request.method == "POST" and not can_change:
        raise PermissionDenied
    current_roles = roles_with(Perm.MANAGE_CATALOG, organization.permission_overrides)
    form = CatalogSettingsForm(
        request.POST or None,
        initial={"catalog_sharing": organization.catalog_sharing, "catalog_roles": sorted(current_roles)},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.catalog_settings_update(
                organization=organization,
                catalog_sharing=form.cleaned_data["catalog_sharing"],
                catalog_roles=form.cleaned_data["catalog_roles"],
            )
        except ApplicationError as error:
            add_to_form(form, error)
        else:
            messages.success(request, _("Catalog settings saved."))
            return redirect("catalog-settings")
    return render(request, "packages/catalog_settings.html", {"form": form, "can_change": can_change})
