from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from scheduling.reminders import sweep


class Command(BaseCommand):
    help = "Send the reminders that are due now, once each (what the beat job does every minute)."

    def handle(self, *args: Any, **options: Any) -> None:
        swept = sweep.send_due()
        self.stdout.write(f"sent {swept.sent}, failed {swept.failed}, not sent {swept.skipped}")
