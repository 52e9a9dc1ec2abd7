"""Patient packages in the admin: read-only, with their ledger. Packages
change only through the pages and the API, which call the entry points."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from packages.catalog.admin import ReadOnlyAdmin
from packages.patient_packages.models import LedgerEntry, PatientPackage


class LedgerEntryInline(admin.TabularInline):
    """The package's ledger, read-only: entries are never edited or deleted."""

    model = LedgerEntry
    fields = ("seq", "kind", "created_at", "status", "sessions_total", "sessions_used", "amount_open", "actor")
    readonly_fields = fields
    ordering = ["seq"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(PatientPackage)
class PatientPackageAdmin(ReadOnlyAdmin):
    """Read-only: packages change only through `packages.patient_packages.ledger`."""

    list_display = ["number", "name", "patient", "status", "sessions_total", "sessions_used", "amount_open"]
    list_filter = ["status", "renewal"]
    list_select_related = ["patient"]
    search_fields = ["number", "name"]
    exclude = ["organization"]
    inlines = [LedgerEntryInline]
