from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from clinic.errors import ApplicationError, Conflict


class DoubleBooking(Conflict):
    """The professional or the room already has an appointment then (A1)."""

    code = "double_booking"
    default_detail = _("This time is already taken.")


class InvalidTransition(ApplicationError):
    code = "invalid_transition"
    default_detail = _("The appointment cannot move to this status.")


class SessionAttended(ApplicationError):
    """A session used by attendance cannot be given back by undoing a payment."""

    code = "session_attended"
    default_detail = _(
        "This session was attended, so it stays debited: change the appointment's status to give it back."
    )
