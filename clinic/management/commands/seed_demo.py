"""Load the demo organization “Clínica Demo”. Idempotent: running it again
changes nothing that is already there."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from clinic.demo import DEMO_PASSWORD, demo_patient_page, seed_demo


class Command(BaseCommand):
    help = "Create or complete the demo organization “Clínica Demo” with one user per role."

    def handle(self, *args: Any, **options: Any) -> None:
        # No transaction around the whole demo: it books and marks sessions
        # through the entry points, each its own transaction, and every step
        # looks up before it creates, so a second run completes a first one.
        result = seed_demo()
        verb = "Created" if result.created else "Already present:"
        self.stdout.write(self.style.SUCCESS(f"{verb} demo organization “{result.organization.name}”."))
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for username, roles in result.logins.items():
            where = "; ".join(f"{role} · {clinic}" for role, clinic in roles)
            self.stdout.write(f"  {username:<12} {where}")
        public, name, link = demo_patient_page(result.organization)
        self.stdout.write(f"Patients' page and online booking: {public}")
        if link:
            self.stdout.write(f"  {name}'s page (opens without a code): {link}")
