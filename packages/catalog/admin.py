"""The catalog in the admin: read-only lists with their change history, and
(de)activation actions that run the same services as the pages. Creating and
editing happens in the catalog pages, which apply the sharing rules."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from clinic.errors import ApplicationError
from packages.catalog import services
from packages.catalog.models import PackageTemplate, PackageTemplateItem, PackageTemplateServiceLimit, Service


class ReadOnlyAdmin(SimpleHistoryAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def _set_active(modeladmin: Any, request: HttpRequest, queryset: QuerySet[Any], *, is_active: bool) -> None:
    changed = 0
    for row in queryset.select_related("clinic"):
        try:
            # The admin acts for the owning clinic, as its managers would.
            if isinstance(row, Service):
                services.service_set_active(service=row, clinic=row.clinic, is_active=is_active)
            else:
                services.package_template_set_active(template=row, clinic=row.clinic, is_active=is_active)
        except ApplicationError as error:
            modeladmin.message_user(request, f"{row}: {error.detail}", messages.ERROR)
        else:
            changed += 1
    modeladmin.message_user(request, _("%(count)d changed.") % {"count": changed}, messages.SUCCESS)


@admin.action(description=_("Deactivate"), permissions=["view"])
def deactivate(modeladmin: Any, request: HttpRequest, queryset: QuerySet[Any]) -> None:
    _set_active(modeladmin, request, queryset, is_active=False)


@admin.action(description=_("Reactivate"), permissions=["view"])
def reactivate(modeladmin: Any, request: HttpRequest, queryset: QuerySet[Any]) -> None:
    _set_active(modeladmin, request, queryset, is_active=True)


@admin.register(Service)
class ServiceAdmin(ReadOnlyAdmin):
    list_display = ["name", "code", "price", "duration_minutes", "clinic", "is_shared", "is_active"]
    list_filter = ["is_active", "is_shared"]
    list_select_related = ["clinic"]
    search_fields = ["name", "code"]
    actions = [deactivate, reactivate]
    exclude = ["organization"]


class ItemInline(admin.TabularInline):
    model = PackageTemplateItem
    fields = ["service", "quantity", "clinic"]
    readonly_fields = ["service", "quantity", "clinic"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class LimitInline(admin.TabularInline):
    model = PackageTemplateServiceLimit
    fields = ["service", "max_quantity", "max_amount"]
    readonly_fields = ["service", "max_quantity", "max_amount"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(PackageTemplate)
class PackageTemplateAdmin(ReadOnlyAdmin):
    list_display = ["name", "price", "clinic", "renewal", "posting", "is_shared", "is_active"]
    list_filter = ["is_active", "is_shared", "renewal", "posting"]
    list_select_related = ["clinic"]
    search_fields = ["name"]
    actions = [deactivate, reactivate]
    exclude = ["organization"]
    inlines = [ItemInline, LimitInline]
