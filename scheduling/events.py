"""What scheduling tells the apps above it (`clinic.hooks`).

`charge_changed` runs when what a session owes may have changed: it was
booked, edited (moved, its lines, its professional, its package), released
or booked again by a status (cancelled, justified absence and back), paid
or unpaid from a package, unlinked from a deleted package, or deleted.
Billing keeps the session's receivable in step. It runs inside the entry
point's transaction after `scheduling.locks.lock`, so the listener may lock
rows that come later in the lock order (receivables, the patient account).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from clinic.hooks import Hook
from clinic.models import User
from packages.catalog.models import Service
from scheduling.locks import Locked
from scheduling.models import Appointment, AppointmentStatus


@dataclass(frozen=True)
class ChargeEvent:
    appointment: Appointment
    locked: Locked
    status: AppointmentStatus
    actor: User | None
    # The lines just written (service, quantity, unit price); None: unchanged.
    lines: Sequence[tuple[Service, int, Decimal]] | None = None
    created: bool = False
    deleted: bool = False


charge_changed: Hook[ChargeEvent] = Hook("charge_changed")
