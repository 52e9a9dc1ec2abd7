from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from clinic.errors import ApplicationError
from clinic.services import organization_create


class Command(BaseCommand):
    help = "Create an organization with its first (central) clinic and its owner."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True, help="Organization name")
        parser.add_argument("--owner", required=True, help="Username of the owner to create")
        parser.add_argument("--password", required=True, help="Password of the owner")
        parser.add_argument("--email", default="", help="E-mail of the owner")
        parser.add_argument("--clinic", default=None, help="Name of the first clinic (default: the organization's)")
        parser.add_argument("--time-zone", default="America/Sao_Paulo")
        parser.add_argument("--currency", default="BRL")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            organization, clinic, owner = organization_create(
                name=options["name"],
                owner_username=options["owner"],
                owner_password=options["password"],
                owner_email=options["email"],
                clinic_name=options["clinic"],
                time_zone=options["time_zone"],
                currency=options["currency"],
            )
        except ApplicationError as error:
            details = "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in error.fields.items())
            raise CommandError(f"{error.detail} {details}".strip()) from error
        self.stdout.write(
            self.style.SUCCESS(
                f"Created organization “{organization.name}” (id {organization.pk}) "
                f"with clinic “{clinic.name}” and owner “{owner.username}”."
            )
        )
