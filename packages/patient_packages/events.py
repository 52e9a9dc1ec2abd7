"""What the sold packages tell the apps above them (`clinic.hooks`): billing
posts a total-posting package's price as receivables when it is linked,
follows a change of its total, and cancels what is unpaid when it is deleted.
Each hook runs inside the entry point's transaction, with the package locked."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from clinic.hooks import Hook
from clinic.models import User
from packages.patient_packages.models import PatientPackage


@dataclass(frozen=True)
class PackageEvent:
    package: PatientPackage
    actor: User | None
    # What the package's total changed by (a manual change, a renewal's cycle).
    amount_change: Decimal = Decimal("0.00")


package_linked: Hook[PackageEvent] = Hook("package_linked")
package_changed: Hook[PackageEvent] = Hook("package_changed")
package_deleted: Hook[PackageEvent] = Hook("package_deleted")
