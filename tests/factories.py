"""factory-boy factories. Tenant rows are created inside `scopes_disabled`, as
fixtures set up data for several organizations at once."""

from __future__ import annotations

import datetime
from typing import Any

import factory
from django_scopes import scopes_disabled

from clinic import services
from clinic.models import Clinic, Membership, Organization, Professional, Role, Room, User, WorkingHours

PASSWORD = "correct-horse-battery-staple"


class TenantFactory(factory.django.DjangoModelFactory):
    class Meta:
        abstract = True

    @classmethod
    def _create(cls, model_class: type, *args: Any, **kwargs: Any) -> Any:
        with scopes_disabled():
            return super()._create(model_class, *args, **kwargs)


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Organization {n}")
    slug = factory.Sequence(lambda n: f"organization-{n}")

    @classmethod
    def _create(cls, model_class: type[Organization], *args: Any, **kwargs: Any) -> Organization:
        # What `organization_create` sets up for a new organization (the
        # built-in appointment statuses...), as every real one has it.
        organization = super()._create(model_class, *args, **kwargs)
        services.organization_setup(organization)
        return organization


class ClinicFactory(TenantFactory):
    class Meta:
        model = Clinic

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Clinic {n}")
    time_zone = "America/Sao_Paulo"
    currency = "BRL"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    organization = factory.SubFactory(OrganizationFactory)

    @classmethod
    def _create(cls, model_class: type[User], *args: Any, **kwargs: Any) -> User:
        return model_class.objects.create_user(*args, password=PASSWORD, **kwargs)


class MembershipFactory(TenantFactory):
    class Meta:
        model = Membership

    clinic = factory.SubFactory(ClinicFactory)
    organization = factory.SelfAttribute("clinic.organization")
    user = factory.SubFactory(UserFactory, organization=factory.SelfAttribute("..clinic.organization"))
    role = Role.RECEPTIONIST


class ProfessionalFactory(TenantFactory):
    class Meta:
        model = Professional

    clinic = factory.SubFactory(ClinicFactory)
    organization = factory.SelfAttribute("clinic.organization")
    name = factory.Sequence(lambda n: f"Professional {n}")
    specialty = "Physiotherapist"
    color = "#0f766e"


class WorkingHoursFactory(TenantFactory):
    class Meta:
        model = WorkingHours

    professional = factory.SubFactory(ProfessionalFactory)
    organization = factory.SelfAttribute("professional.organization")
    weekday = 0
    starts_at = datetime.time(8, 0)
    ends_at = datetime.time(12, 0)


class RoomFactory(TenantFactory):
    class Meta:
        model = Room

    clinic = factory.SubFactory(ClinicFactory)
    organization = factory.SelfAttribute("clinic.organization")
    name = factory.Sequence(lambda n: f"Room {n}")
