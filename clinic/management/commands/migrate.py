"""Django's `migrate`, with the tenant scope disabled: a data migration reads
and writes every organization's rows, and row-level security (clinic/rls.py)
then admits them all for a role it applies to."""

from typing import Any

from django.core.management.commands.migrate import Command as MigrateCommand
from django_scopes import scopes_disabled


class Command(MigrateCommand):
    def handle(self, *args: Any, **options: Any) -> None:
        with scopes_disabled():
            super().handle(*args, **options)
