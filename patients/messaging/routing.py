"""Who a message to a patient goes to, on each channel (A7, P2).

An adult gets it at their own address. A minor with a guardian: SMS goes to
the guardian's mobile when the patient has none; WhatsApp and e-mail go to
the guardian only where the guardian's "documents" switch for that channel
is on. A channel the patient opted out of gets nothing. `sms_mobile` is the
package link's "mobile for SMS", which wins for SMS.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils.translation import gettext_noop as _

from patients.messaging.models import Channel
from patients.models import Patient


@dataclass(frozen=True)
class Recipient:
    to: str = ""
    to_guardian: bool = False
    # Why there is nobody to write to, for the staff who look: stored as
    # written here and translated when shown (`{% translate reminder.note %}`).
    reason: str = ""


def recipient(patient: Patient, channel: str, *, today: dt.date, sms_mobile: str = "") -> Recipient:
    if getattr(patient, f"opt_out_{channel}"):
        return Recipient(reason=_("The patient opted out of this channel."))
    guardian = patient.is_minor_on(today) and patient.has_guardian
    if channel == Channel.SMS:
        mobile = sms_mobile or patient.mobile
        if mobile:
            return Recipient(mobile)
        if guardian and patient.guardian_mobile:
            return Recipient(patient.guardian_mobile, to_guardian=True)
        return Recipient(reason=_("No mobile on file."))
    if guardian:
        switch = patient.guardian_send_documents_whatsapp if channel == Channel.WHATSAPP else (
            patient.guardian_send_documents_email)  # fmt: skip
        address = patient.guardian_mobile if channel == Channel.WHATSAPP else patient.guardian_email
        if not switch:
            return Recipient(reason=_("The guardian's switch for this channel is off."))
        if not address:
            return Recipient(reason=_("The guardian has no address for this channel."))
        return Recipient(address, to_guardian=True)
    address = patient.mobile if channel == Channel.WHATSAPP else patient.email
    if not address:
        return Recipient(reason=_("No address on file for this channel."))
    return Recipient(address)
