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

from clinic.models import Clinic, Membership, Organization, User


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
