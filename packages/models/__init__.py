"""The package models: the catalog (services, templates) and the packages sold
to patients with their append-only ledger."""

from packages.models.catalog import (
    MAX_DURATION_MINUTES,
    MAX_SESSIONS,
    BudgetLimitFields,
    CatalogItem,
    CommissionKind,
    PackageTemplate,
    PackageTemplateItem,
    PackageTemplateServiceLimit,
    Posting,
    Renewal,
    Service,
    money_field,
)
from packages.models.patient_packages import (
    EntryKind,
    LedgerEntry,
    PackageStatus,
    PackageUsage,
    PatientPackage,
    UsageState,
)

__all__ = [
    "MAX_DURATION_MINUTES",
    "MAX_SESSIONS",
    "BudgetLimitFields",
    "CatalogItem",
    "CommissionKind",
    "EntryKind",
    "LedgerEntry",
    "PackageStatus",
    "PackageTemplate",
    "PackageTemplateItem",
    "PackageTemplateServiceLimit",
    "PackageUsage",
    "PatientPackage",
    "Posting",
    "Renewal",
    "Service",
    "UsageState",
    "money_field",
]
