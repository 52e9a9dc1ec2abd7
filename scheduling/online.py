"""Online booking (A6, S5): what a patient may book on their page, the free
slots, and the booking itself.

- **The offer**: the services one of the patient's active packages covers
  (its template's items) with a session free to book and budget left for
  one more of that service, plus the trigger service of any template (S5:
  booking it links the template's package, as at the desk).
- **Slots** come from the professional's working hours (the clinic's wall
  clock: a daylight-saving change moves no slot, and a time the change skips
  offers none), every `online_slot_minutes`, at least `online_notice_hours`
  ahead and at most `online_days_ahead` days; a slot must leave the
  professional, the package's room and the patient free for the session and
  the clinic's buffer after it. One query reads the busy times of every
  professional at once.
- **Booking** (`online_book`, an entry point) locks the professional first,
  re-checks the slot and the patient's cap on upcoming sessions under that
  lock, then books through the same step as the desk (`services.book`): two
  patients racing for one slot get one booking and one `slot_taken`.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy, ngettext

from clinic.errors import ApplicationError
from clinic.models import Clinic, Professional, WorkingHours
from clinic.transactions import entry_point
from packages.catalog import selectors as catalog
from packages.catalog.budget import AppointmentLine as BudgetLine
from packages.catalog.models import PackageTemplate, Service, ServiceProfessional
from packages.patient_packages import budgets
from packages.patient_packages.models import PackageStatus, PatientPackage
from patients.models import Patient
from scheduling import services
from scheduling.errors import DoubleBooking
from scheduling.locks import lock
from scheduling.models import Appointment

UTC = dt.UTC


class SlotTaken(ApplicationError):
    code = "slot_taken"
    status = 409
    default_detail = gettext_lazy("This time was just taken. Please choose another one.")


class TooManyUpcoming(ApplicationError):
    code = "too_many_upcoming"
    status = 409


@dataclass(frozen=True)
class Offer:
    service: Service
    package: PatientPackage | None  # None: a trigger service, whose package the booking links
    template: PackageTemplate | None = None


def offer(patient: Patient, clinic: Clinic, *, when: dt.datetime | None = None) -> list[Offer]:
    """What the patient may book online, one row per service."""
    when = when or timezone.now()
    packages = list(
        PatientPackage.objects.filter(patient=patient, status=PackageStatus.ACTIVE, deleted_at__isnull=True)
        .order_by("created_at", "pk")
    )  # fmt: skip
    balances = budgets.balances(packages, when=when)
    prices = budgets.service_prices(packages)
    covered: dict[int, PatientPackage] = {}
    for package in packages:
        if balances[package.pk].free < 1:
            continue
        for item in package.terms.get("items", []):
            service_id = item["service"]
            if service_id in covered:
                continue
            price = prices.get(package.pk, {}).get(service_id)
            line = BudgetLine(service_id=service_id, quantity=1, unit_price=price if price is not None else Decimal(0))
            if budgets.session_check(package, [line], when=when).ok:
                covered[service_id] = package
    services_by_id = {s.pk: s for s in Service.objects.filter(pk__in=covered, is_active=True)}
    offers = [Offer(services_by_id[sid], package) for sid, package in covered.items() if sid in services_by_id]
    triggers = (
        catalog.visible_templates(clinic=clinic).filter(trigger_service__isnull=False, is_active=True)
        .select_related("trigger_service").order_by("name", "pk")
    )  # fmt: skip
    for template in triggers:
        service = template.trigger_service
        if service is not None and service.is_active and service.pk not in covered:
            offers.append(Offer(service, None, template))
            covered[service.pk] = None  # type: ignore[assignment]
    return sorted(offers, key=lambda o: (o.service.name, o.service.pk))


def _local_slots(day: dt.date, start: dt.time, end: dt.time, step: int, duration: dt.timedelta,
                 zone: ZoneInfo) -> Iterable[dt.datetime]:  # fmt: skip
    """The slot starts of one working interval, as aware datetimes; a wall
    time a daylight-saving change skips is left out."""
    moment = dt.datetime.combine(day, start)
    last = dt.datetime.combine(day, end) - duration
    while moment <= last:
        aware = moment.replace(tzinfo=zone)
        if aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == moment:
            yield aware
        moment += dt.timedelta(minutes=step)


class Busy:
    """Busy intervals, asked "does [start, end) overlap any?" in O(log n):
    sorted by start, with the latest end among the first i intervals."""

    def __init__(self, intervals: Iterable[tuple[dt.datetime, dt.datetime]]) -> None:
        ordered = sorted(intervals)
        self.starts = [start for start, _end in ordered]
        self.latest_end: list[dt.datetime] = []
        for _start, end in ordered:
            self.latest_end.append(max(end, self.latest_end[-1]) if self.latest_end else end)

    def overlaps(self, start: dt.datetime, end: dt.datetime) -> bool:
        before = bisect.bisect_left(self.starts, end)  # the intervals that start before `end`
        return before > 0 and self.latest_end[before - 1] > start


def free_slots(
    clinic: Clinic, professionals: Sequence[Professional], *, service: Service, patient: Patient,
    package: PatientPackage | None = None, now: dt.datetime | None = None, days: int | None = None,
    first_day: dt.date | None = None,
) -> dict[int, list[dt.datetime]]:  # fmt: skip
    """{professional id: slot starts} over the clinic's booking horizon."""
    now = now or timezone.now()
    zone = ZoneInfo(clinic.time_zone)
    duration = dt.timedelta(minutes=service.duration_minutes)
    buffer = dt.timedelta(minutes=clinic.online_buffer_minutes)
    earliest = now + dt.timedelta(hours=clinic.online_notice_hours)
    today = timezone.localtime(now, zone).date()
    first = max(first_day or today, today)
    horizon = today + dt.timedelta(days=clinic.online_days_ahead)
    last = min(horizon, first + dt.timedelta(days=(days or clinic.online_days_ahead) - 1))
    if last < first:
        return {}
    window_start = dt.datetime.combine(first, dt.time.min, tzinfo=zone)
    window_end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time.min, tzinfo=zone) + duration + buffer
    room_id = package.room_id if package is not None else None
    resources = Q(professional_id__in=[p.pk for p in professionals]) | Q(patient_id=patient.pk)
    if room_id:
        resources |= Q(room_id=room_id)
    busy_by: dict[tuple[str, int], list[tuple[dt.datetime, dt.datetime]]] = defaultdict(list)
    taken = Appointment.objects.filter(resources, holds_slot=True, start__lt=window_end, end__gt=window_start - buffer)
    for professional_id, room, patient_id, start, end in taken.values_list(
        "professional_id", "room_id", "patient_id", "start", "end"
    ):
        interval = (start, end + buffer)
        if professional_id:
            busy_by[("professional", professional_id)].append(interval)
        if room and room == room_id:
            busy_by[("room", room)].append(interval)
        if patient_id == patient.pk:
            busy_by[("patient", patient_id)].append(interval)
    shared = busy_by[("room", room_id)] if room_id else []
    mine = busy_by[("patient", patient.pk)]
    result: dict[int, list[dt.datetime]] = {}
    for professional in professionals:
        hours: dict[int, list[WorkingHours]] = defaultdict(list)
        for working in professional.working_hours.all():
            hours[working.weekday].append(working)
        busy = Busy(busy_by[("professional", professional.pk)] + shared + mine)
        slots = []
        day = first
        while day <= last:
            for working in sorted(hours.get(day.weekday(), []), key=lambda w: w.starts_at):
                for start in _local_slots(day, working.starts_at, working.ends_at, clinic.online_slot_minutes,
                                          duration, zone):  # fmt: skip
                    if start >= earliest and not busy.overlaps(start, start + duration + buffer):
                        slots.append(start)
            day += dt.timedelta(days=1)
        result[professional.pk] = slots
    return result


def posted_start(text: str) -> dt.datetime | None:
    """A slot's start as a form or a JSON body sends it (ISO 8601 with its
    offset), or None: unreadable, naive, or a time no calendar can place."""
    try:
        start = dt.datetime.fromisoformat(text)
        start.astimezone(UTC)  # a year-1 or year-9999 time overflows here
    except (ValueError, OverflowError):
        return None
    return start if start.tzinfo is not None else None


def bookable_professionals(clinic: Clinic, service: Service | None = None) -> list[Professional]:
    """The clinic's active professionals who provide `service` (all of them
    when the clinic named none for it), with their working hours."""
    professionals = Professional.objects.filter(clinic=clinic, is_active=True)
    if service is not None:
        named = ServiceProfessional.objects.filter(service=service, professional__clinic=clinic)
        if named.exists():
            professionals = professionals.filter(pk__in=named.values("professional_id"))
    return list(professionals.prefetch_related("working_hours").order_by("name"))


@entry_point
def online_book(*, clinic: Clinic, patient: Patient, professional: Professional, service: Service,
                start: dt.datetime, package: PatientPackage | None) -> Appointment:  # fmt: skip
    """Book a slot the patient chose (entry point). The professional's row is
    locked first (only online booking takes it), so two online bookings of one
    professional queue; the slot and the cap are checked under that lock, and
    the desk's own step books it (its locks follow in the usual order)."""
    if professional.pk not in {p.pk for p in bookable_professionals(clinic, service)}:
        raise SlotTaken()
    horizon = timezone.now() + dt.timedelta(days=clinic.online_days_ahead + 1)
    if not timezone.now() < start < horizon:
        raise SlotTaken()
    # The patient first (as every entry point's lock order begins): their cap
    # and their own overlaps are checked with no other booking of theirs
    # under way; then the professional, whom only online booking locks.
    lock(patient=patient.pk)
    locked = Professional.objects.select_for_update().prefetch_related("working_hours").get(pk=professional.pk)
    upcoming = Appointment.objects.filter(patient=patient, holds_slot=True, start__gte=timezone.now()).count()
    if upcoming >= clinic.online_max_upcoming:
        raise TooManyUpcoming(ngettext(
            "You already have %(count)s session booked: call the clinic to book more.",
            "You already have %(count)s sessions booked: call the clinic to book more.", upcoming,
        ) % {"count": upcoming})  # fmt: skip
    zone = ZoneInfo(clinic.time_zone)
    day = timezone.localtime(start, zone).date()
    slots = free_slots(clinic, [locked], service=service, patient=patient, package=package, first_day=day, days=1)
    # Compared in UTC: an hour a daylight-saving change repeats is not equal
    # across time zones in Python, whatever the instant.
    if start.astimezone(UTC) not in {slot.astimezone(UTC) for slot in slots.get(locked.pk, [])}:
        raise SlotTaken()
    try:
        booking = services.book(
            clinic=clinic, patient=patient, start=start, lines=[services.LineInput(service)], actor=None,
            professional=locked, patient_package=package, booked_online=True,
        )  # fmt: skip
    except DoubleBooking:
        raise SlotTaken() from None
    return booking.appointment
