"""Explicit hooks: how a lower app lets the apps above it take part in its
use cases without importing them (the import contract forbids that).

A hook is not a signal: the lower app's entry point calls it at one named
place, inside its transaction and after its locks, and each listener (a
higher app's step, connected from its `AppConfig.ready()`) runs there
synchronously. A listener that raises aborts the whole use case, as any
other step would. The hooks of the project:

- `clinic.services.organization_created`: built-in statuses (scheduling);
- `packages.patient_packages.events.package_linked` / `package_changed` /
  `package_deleted`: a package sale's receivables (billing);
- `scheduling.events.charge_changed`: a session's receivable (billing);
- `scheduling.locks.charges_locked`: the receivables locked with several
  appointments, in the project's lock order (billing).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Hook(Generic[T]):
    def __init__(self, name: str) -> None:
        self.name = name
        self._listeners: list[Callable[[T], None]] = []

    def connect(self, listener: Callable[[T], None]) -> Callable[[T], None]:
        if listener not in self._listeners:
            self._listeners.append(listener)
        return listener

    def __call__(self, event: T) -> None:
        for listener in self._listeners:
            listener(event)

    def __repr__(self) -> str:
        return f"<Hook {self.name}: {len(self._listeners)} listeners>"
