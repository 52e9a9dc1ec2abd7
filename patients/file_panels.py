"""Cards that the apps above `patients` add to the patient's file.

The file page belongs to `patients`, which knows nothing of packages,
appointments or payments; those apps register a card here from their
`AppConfig.ready()` (the higher app calls the lower one, so imports keep
going one way). Each card has a template and a function that returns its
context for a request and a patient, or None to leave the card out.

    file_panels.register(FilePanel("sessions", order=20, template="scheduling/_file_sessions.html",
                                   context=sessions_context))
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest

from patients.models import Patient


@dataclass(frozen=True)
class FilePanel:
    name: str
    order: int
    template: str
    context: Callable[[HttpRequest, Patient], dict[str, Any] | None]


@dataclass(frozen=True)
class RenderedPanel:
    name: str
    template: str
    context: dict[str, Any]


class Panels:
    """A page's registry of cards: the staff's patient file, and the
    patient's own page (`patients.portal`)."""

    def __init__(self) -> None:
        self._panels: dict[str, FilePanel] = {}

    def register(self, panel: FilePanel) -> None:
        self._panels[panel.name] = panel

    def panels_for(self, request: HttpRequest, patient: Patient) -> list[RenderedPanel]:
        """The registered cards with their context, in order; the ones that
        return None are left out."""
        rendered = []
        for panel in sorted(self._panels.values(), key=lambda panel: (panel.order, panel.name)):
            context = panel.context(request, patient)
            if context is not None:
                rendered.append(RenderedPanel(panel.name, panel.template, context))
        return rendered


file = Panels()
# The cards of the patient's own page (X7), shown to the signed-in patient.
portal = Panels()
register, panels_for = file.register, file.panels_for
