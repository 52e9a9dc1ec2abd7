"""Free-slot computation for online booking, beside its anchors in the same run.

    scripts/with-test-services .venv/bin/python bench/online_booking.py

A clinic with 20 professionals, each working Monday to Saturday 08:00-12:00
and 13:00-19:00, and 3,000 sessions already booked over the next 30 days.
Printed (median of 15 after 3 warm-ups):

1. `scheduling.online.free_slots` for all 20 professionals over 30 days,
   against its anchor, the one SQL query it makes for the busy times (read
   alone): the ratio is what the Python arithmetic costs over the database.
2. The patient's slot page (`/c/<token>/me/book/<service>/`: a week of slots
   for every professional) against the patient's home page, both through
   Django's test client: time per request and SQL statements.
"""

from __future__ import annotations

import datetime as dt
import secrets
import statistics
import time
from decimal import Decimal

import _harness
from django.core import signals
from django.db import close_old_connections, connection
from django.test import Client
from django.utils import timezone

from clinic import services as clinic_services
from clinic.models import Professional, WorkingHours
from clinic.tenancy import organization_scope
from packages.catalog.models import PackageTemplate, PackageTemplateItem, Service
from packages.patient_packages import ledger
from patients.models import Patient
from patients.portal import session
from scheduling import online
from scheduling.models import Appointment

RUNS, WARM = 15, 3


def median_ms(work) -> float:  # type: ignore[no-untyped-def]
    for _ in range(WARM):
        work()
    samples = []
    for _ in range(RUNS):
        began = time.perf_counter()
        work()
        samples.append((time.perf_counter() - began) * 1000)
    return statistics.median(samples)


def statements(work) -> int:  # type: ignore[no-untyped-def]
    """The SQL statements `work` runs (on any connection of this thread)."""
    count = 0

    def counter(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        nonlocal count
        count += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(counter):
        work()
    return count


def main() -> None:
    with _harness.throwaway_database():
        print(_harness.environment())
        organization, clinic, owner = clinic_services.organization_create(
            name="Bench online", owner_username="bench-online", owner_password=secrets.token_urlsafe(16),
            clinic_name="Central",
        )  # fmt: skip
        with organization_scope(organization):
            clinic = clinic_services.clinic_update(
                clinic=clinic, online_booking=True, online_days_ahead=30, online_notice_hours=0,
                online_buffer_minutes=10, language="en",
            )  # fmt: skip
            service = Service.objects.create(organization=organization, clinic=clinic, name="Fisioterapia",
                                             price=Decimal("100.00"), duration_minutes=50)  # fmt: skip
            template = PackageTemplate.objects.create(organization=organization, clinic=clinic, name="Fisio 10",
                                                      price=Decimal("1000.00"))  # fmt: skip
            PackageTemplateItem.objects.create(organization=organization, template=template, clinic=clinic,
                                               service=service, quantity=10)  # fmt: skip
            professionals = Professional.objects.bulk_create([
                Professional(organization=organization, clinic=clinic, name=f"Profissional {n:02d}") for n in range(20)
            ])  # fmt: skip
            WorkingHours.objects.bulk_create([
                WorkingHours(organization=organization, professional=p, weekday=day, starts_at=start, ends_at=end)
                for p in professionals for day in range(6)
                for start, end in ((dt.time(8), dt.time(12)), (dt.time(13), dt.time(19)))
            ])  # fmt: skip
            patients = Patient.objects.bulk_create([
                Patient(organization=organization, clinic=clinic, full_name=f"Paciente {n}",
                        name_search=f"paciente {n}", mobile=f"+55119{n:08d}")
                for n in range(300)
            ])  # fmt: skip
            base = timezone.localtime(timezone.now()).replace(hour=9, minute=0, second=0, microsecond=0)
            Appointment.objects.bulk_create([
                Appointment(organization=organization, clinic=clinic, patient=patients[n % 300],
                            professional=professionals[n % 20],
                            start=base + dt.timedelta(days=1 + (n // 100) % 30, hours=(n // 20) % 5 * 2),
                            end=base + dt.timedelta(days=1 + (n // 100) % 30, hours=(n // 20) % 5 * 2, minutes=50))
                for n in range(3000)
            ], ignore_conflicts=True)  # fmt: skip
            me = patients[0]
            ledger.package_link(patient=me, clinic=clinic, actor=owner, template=template)
            staff = online.bookable_professionals(clinic)

            def slots() -> dict:
                return online.free_slots(clinic, staff, service=service, patient=me, days=30)

            found = sum(len(v) for v in slots().values())
            window_end = timezone.now() + dt.timedelta(days=31)

            def anchor() -> list:
                return list(
                    Appointment.objects.filter(professional__in=staff, holds_slot=True, start__lt=window_end,
                                               end__gt=timezone.now()).values_list(
                        "professional_id", "room_id", "patient_id", "start", "end")
                )  # fmt: skip

            ours, raw = median_ms(slots), median_ms(anchor)
            # Keep one connection for the in-process requests, so the statements are counted.
            signals.request_started.disconnect(close_old_connections)
            signals.request_finished.disconnect(close_old_connections)
            client = Client()
            client.get(f"/c/{clinic.portal_token}/")  # a session to sign in
            store = client.session
            store[session.KEY] = {"clinic": clinic.pk, "organization": organization.pk, "patients": [me.pk],
                                  "current": me.pk}  # fmt: skip
            store.save()
            page_url = f"/c/{clinic.portal_token}/me/book/{service.pk}/"
            home_url = f"/c/{clinic.portal_token}/me/"

            def page() -> None:
                assert client.get(page_url).status_code == 200

            def home() -> None:
                assert client.get(home_url).status_code == 200

            page_queries, home_queries = statements(page), statements(home)
            page_ms, home_ms = median_ms(page), median_ms(home)
            booked = Appointment.objects.count()
        print(f"\n20 professionals, 30 days, {booked:,} sessions booked; {found:,} free slots")
        _harness.print_table(["what", "median ms", "SQL statements"], [
            ("free_slots, 20 professionals x 30 days", f"{ours:.1f}", "1 (+0)"),
            ("anchor: its busy-times query alone", f"{raw:.1f}", "1"),
            ("slot page (a week, every professional)", f"{page_ms:.1f}", str(page_queries)),
            ("anchor: the patient's home page", f"{home_ms:.1f}", str(home_queries)),
        ])  # fmt: skip
        print(f"ratio free_slots/query: {ours / raw:.2f}; ratio slot page/home page: {page_ms / home_ms:.2f}")


if __name__ == "__main__":
    main()
