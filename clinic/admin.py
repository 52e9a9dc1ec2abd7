"""The admin, inside the organization scope like every other page.

Tenant models are scoped by the middleware; `User` is not a scoped model, so
its admin filters by the admin's organization explicitly.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from clinic.models import Clinic, Membership, Organization, Professional, Room, User, WorkingHours


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ["username", "first_name", "last_name", "email", "is_active"]
    fieldsets = (*(DjangoUserAdmin.fieldsets or ()), (None, {"fields": ["organization"]}))
    readonly_fields = ["organization"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        organization = getattr(request, "organization", None)
        return super().get_queryset(request).filter(organization=organization) if organization else User.objects.none()


@admin.register(Organization)
class OrganizationAdmin(SimpleHistoryAdmin):
    list_display = ["name", "slug", "created_at"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Organization]:
        organization = getattr(request, "organization", None)
        queryset = super().get_queryset(request)
        return queryset.filter(pk=organization.pk) if organization else queryset.none()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Clinic)
class ClinicAdmin(SimpleHistoryAdmin):
    list_display = ["name", "is_central", "time_zone", "currency", "is_active"]
    exclude = ["organization"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # through Settings, which runs the service


@admin.register(Membership)
class MembershipAdmin(SimpleHistoryAdmin):
    list_display = ["user", "clinic", "role"]
    list_filter = ["role"]
    list_select_related = ["user", "clinic"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


class WorkingHoursInline(admin.TabularInline):
    model = WorkingHours
    fields = ["weekday", "starts_at", "ends_at"]
    extra = 0

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Professional)
class ProfessionalAdmin(SimpleHistoryAdmin):
    """Read-only: professionals and their working hours are written through
    Settings or the API, which run `clinic.resources` (overlap and user checks)."""

    list_display = ["name", "specialty", "clinic", "user", "color", "is_active"]
    list_filter = ["is_active", "clinic"]
    list_select_related = ["clinic", "user"]
    search_fields = ["name", "specialty"]
    inlines = [WorkingHoursInline]
    exclude = ["organization"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Room)
class RoomAdmin(SimpleHistoryAdmin):
    """Read-only, like professionals: writes go through `clinic.resources`."""

    list_display = ["name", "clinic", "is_active"]
    list_filter = ["is_active", "clinic"]
    list_select_related = ["clinic"]
    search_fields = ["name"]
    exclude = ["organization"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
