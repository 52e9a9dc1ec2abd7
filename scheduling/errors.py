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


class FutureSession(ApplicationError):
    """A debiting status (attended) for a session that has not started yet:
    more often a click on the wrong row than a session already held, so it
    needs the caller's confirmation (`confirm_future`)."""

    code = "future_session"
    default_detail = _("This session has not started yet.")
