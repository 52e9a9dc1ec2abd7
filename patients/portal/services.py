"""Opening the patient's page (X7): a one-time code, or a signed link.

A code is asked for with a mobile or e-mail. Whether or not a patient of the
organization has it, the answer is the same; only when one does is a code
sent (to that contact) and stored, as an HMAC. It expires after
`CODE_MINUTES`, allows `MAX_ATTEMPTS` wrong tries and works once. One
contact may belong to several patients (a guardian's mobile for two
children): the page then lets the person choose among them.

A signed link (`patient_link`) opens the page of one patient directly: the
reminders carry one, so "to cancel" is a click. It lasts `LINK_DAYS`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from typing import Any

from django.conf import settings
from django.core import signing
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from clinic.errors import ValidationFailed
from clinic.jobs import enqueue
from clinic.models import Clinic
from clinic.normalize import phone_e164
from patients.messaging.models import Channel, MessageKind
from patients.messaging.services import Draft, message_send
from patients.models import Patient
from patients.portal.models import AccessCode

CODE_MINUTES = 10
MAX_ATTEMPTS = 5
LINK_DAYS = 14
# Per contact, however it is typed and from however many addresses: codes
# sent, and wrong tries over all its codes, in the last hour.
CODES_PER_HOUR = 5
WRONG_TRIES_PER_HOUR = 10
_SALT = "patients.portal.link"


def _digest(code: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), code.encode(), hashlib.sha256).hexdigest()


def normal_contact(raw: str, *, clinic: Clinic) -> tuple[str, str]:
    """(channel, contact): an e-mail lower-cased, a phone in E.164."""
    raw = raw.strip()
    if "@" in raw:
        return Channel.EMAIL, raw.lower()
    try:
        return Channel.SMS, phone_e164(raw, region=clinic.country, field="contact")
    except ValidationFailed:
        raise ValidationFailed(fields={"contact": [_("Type your mobile number or your e-mail.")]}) from None


def patients_with_contact(contact: str) -> list[Patient]:
    """The active patients (of the open scope) reachable at `contact`: their
    own mobile or e-mail, or their guardian's."""
    match = (
        Q(mobile=contact) | Q(guardian_mobile=contact)
        if contact.startswith("+")
        else Q(email__iexact=contact) | Q(guardian_email__iexact=contact)
    )
    return list(Patient.objects.filter(match, is_active=True).order_by("full_name", "pk"))


def _last_hour(contact: str) -> Any:
    return AccessCode.objects.filter(contact=contact, created_at__gt=timezone.now() - dt.timedelta(hours=1))


def code_request(*, clinic: Clinic, contact: str) -> None:
    """Send a code to `contact` if a patient has it; silent either way. The
    message goes out from a task after the commit, so a known contact's
    answer takes no longer than an unknown one's (no provider call here)."""
    _channel, normal = normal_contact(contact, clinic=clinic)
    if not patients_with_contact(normal) or _last_hour(normal).count() >= CODES_PER_HOUR:
        return
    code = f"{secrets.randbelow(10**6):06d}"
    row = AccessCode.objects.create(
        organization_id=clinic.organization_id, clinic=clinic, contact=normal, digest=_digest(code),
        expires_at=timezone.now() + dt.timedelta(minutes=CODE_MINUTES),
    )  # fmt: skip
    from patients.portal.tasks import send_code

    enqueue(send_code, row.pk, clinic.organization_id, code, translation.get_language() or clinic.language)


def code_send(row: AccessCode, code: str) -> None:
    """The task's body: the code to its contact (stored without the code)."""
    clinic = row.clinic
    patients = patients_with_contact(row.contact)
    if not patients:
        return
    channel = Channel.EMAIL if "@" in row.contact else Channel.SMS
    words = ngettext(
        "%(code)s is your code to open your page at %(clinic)s. It expires in %(minutes)s minute.",
        "%(code)s is your code to open your page at %(clinic)s. It expires in %(minutes)s minutes.",
        CODE_MINUTES,
    )
    values = {"clinic": clinic.name, "minutes": CODE_MINUTES}
    message_send(Draft(
        patient=patients[0], channel=channel, kind=MessageKind.CODE, to=row.contact,
        text=words % {"code": code, **values}, recorded_text=words % {"code": "••••••", **values},
        subject=_("Your code for %(clinic)s") % {"clinic": clinic.name}, key=f"code-{row.pk}",
        to_guardian=patients[0].mobile != row.contact and patients[0].email.lower() != row.contact,
    ))  # fmt: skip


def code_verify(*, clinic: Clinic, contact: str, code: str) -> list[Patient]:
    """The patients the code opens, or ValidationFailed (the same message for
    a wrong, expired, used or unknown code)."""
    wrong = ValidationFailed(fields={"code": [_("This code is not valid. Ask for a new one.")]})
    try:
        _channel, normal = normal_contact(contact, clinic=clinic)
    except ValidationFailed:
        raise wrong from None
    if sum(_last_hour(normal).values_list("attempts", flat=True)) >= WRONG_TRIES_PER_HOUR:
        raise wrong  # too many tries at this contact's codes: wait for the hour to pass
    row = (
        AccessCode.objects.filter(contact=normal, used_at__isnull=True, expires_at__gt=timezone.now())
        .order_by("-created_at")
        .first()
    )
    # Count the try first, in one conditional UPDATE: parallel guesses all count.
    if row is None or not AccessCode.objects.filter(pk=row.pk, attempts__lt=MAX_ATTEMPTS).update(
        attempts=F("attempts") + 1
    ):
        raise wrong
    if not hmac.compare_digest(row.digest, _digest(code.strip())):
        raise wrong
    if not AccessCode.objects.filter(pk=row.pk, used_at__isnull=True).update(used_at=timezone.now()):
        raise wrong  # used by a parallel request a moment ago
    patients = patients_with_contact(normal)
    if not patients:
        raise wrong
    return patients


def patient_link(patient: Patient, clinic: Clinic) -> str:
    """An absolute link that opens `patient`'s page for `LINK_DAYS` days."""
    token = signing.TimestampSigner(salt=_SALT).sign(str(patient.pk))
    path = reverse("portal:enter", args=[clinic.portal_token, token])
    return f"{settings.PUBLIC_URL}{path}"


def patient_from_link(token: str) -> int | None:
    try:
        value = signing.TimestampSigner(salt=_SALT).unsign(token, max_age=dt.timedelta(days=LINK_DAYS))
    except signing.BadSignature:
        return None
    return int(value) if value.isdigit() else None
