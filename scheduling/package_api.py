"""`/api/v1/patient-packages/` with the actions that touch appointments'
sessions: they go through the owner of that link (`scheduling.services`), so
a later status change of the appointment agrees with them.

- `POST {id}/debit/ {"appointment"}` pays the appointment's session from the
  package: linked to it if it was not, debited, and kept debited whatever its
  status until a releasing status (justified absence, cancelled) gives it
  back. The same as billing's "pay from the package", without a payment.
- `POST {id}/credit/ {"appointment"}` undoes that payment: the session is
  credited back and stays booked. An attended session stays debited
  (`session_attended`): change its status instead.
- `DELETE {id}` releases the package's bookings and hides it, while none of
  its sessions was ever debited (`package_debited` otherwise: deactivate it).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from clinic.api.fields import TenantPrimaryKeyField
from clinic.permissions import Perm
from packages.patient_packages.api import PatientPackageSerializer
from packages.patient_packages.api import PatientPackageViewSet as BasePatientPackageViewSet
from scheduling import services
from scheduling.models import Appointment


class AppointmentActionSerializer(serializers.Serializer):
    appointment = TenantPrimaryKeyField(Appointment)


class PatientPackageViewSet(BasePatientPackageViewSet):
    __doc__ = BasePatientPackageViewSet.__doc__
    action_permissions = {
        **BasePatientPackageViewSet.action_permissions,
        "destroy": Perm.DELETE_LEDGER_RECORDS,
        "debit": Perm.BOOK_APPOINTMENTS,
        "credit": Perm.BOOK_APPOINTMENTS,
    }

    def _appointment(self, request: Request) -> Appointment:
        payload = AppointmentActionSerializer(data=request.data, context=self.get_serializer_context())
        payload.is_valid(raise_exception=True)
        appointment: Appointment = payload.validated_data["appointment"]
        return appointment

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        services.patient_package_delete(package=self.get_object(), actor=request.user)  # type: ignore[arg-type]
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=AppointmentActionSerializer, responses=PatientPackageSerializer)
    @action(detail=True, methods=["post"])
    def debit(self, request: Request, pk: str | None = None) -> Response:
        """Pay the appointment's session from this package (idempotent)."""
        package = self.get_object()
        appointment = self._appointment(request)
        services.appointment_pay_from_package(appointment=appointment, package=package, actor=request.user)  # type: ignore[arg-type]
        return self._respond(package)

    @extend_schema(request=AppointmentActionSerializer, responses=PatientPackageSerializer)
    @action(detail=True, methods=["post"])
    def credit(self, request: Request, pk: str | None = None) -> Response:
        """Undo the payment of the appointment's session from this package (idempotent)."""
        package = self.get_object()
        appointment = self._appointment(request)
        services.appointment_unpay_from_package(appointment=appointment, package=package, actor=request.user)  # type: ignore[arg-type]
        return self._respond(package)
