"""The API's routes: the project's composition root, which alone may import
every app (the import contract in pyproject.toml names it)."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from billing.api import CommissionReportView, PaymentViewSet, ReceivableViewSet
from clinic.api.clinics import ClinicViewSet
from clinic.api.professionals import ProfessionalViewSet
from clinic.api.rooms import RoomViewSet
from clinic.api.token import ApiTokenViewSet, ObtainTokenView
from packages.catalog.api import PackageTemplateViewSet, ServiceViewSet
from patients.api import PatientViewSet
from patients.messaging.api import MessageViewSet
from reports.api import ExportViewSet, PackageReportExport, SessionCard
from scheduling.api import AppointmentStatusViewSet, AppointmentViewSet
from scheduling.package_api import PatientPackageViewSet

router = DefaultRouter()
router.register("clinics", ClinicViewSet, basename="clinic")
router.register("professionals", ProfessionalViewSet, basename="professional")
router.register("rooms", RoomViewSet, basename="room")
router.register("services", ServiceViewSet, basename="service")
router.register("package-templates", PackageTemplateViewSet, basename="package-template")
router.register("patients", PatientViewSet, basename="patient")
router.register("patient-packages", PatientPackageViewSet, basename="patient-package")
router.register("appointments", AppointmentViewSet, basename="appointment")
router.register("appointment-statuses", AppointmentStatusViewSet, basename="appointment-status")
router.register("receivables", ReceivableViewSet, basename="receivable")
router.register("payments", PaymentViewSet, basename="payment")
router.register("exports", ExportViewSet, basename="export")
router.register("messages", MessageViewSet, basename="message")
router.register("auth/tokens", ApiTokenViewSet, basename="api-token-own")

urlpatterns = [
    path("auth/token/", ObtainTokenView.as_view(), name="api-token"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    path("reports/commissions/", CommissionReportView.as_view(), name="commission-report"),
    path("reports/packages.xlsx", PackageReportExport.as_view(), name="package-report-xlsx"),
    path("patient-packages/<int:pk>/session-card.pdf", SessionCard.as_view(), name="session-card"),
    path("payments/<int:pk>/receipt.pdf", PaymentViewSet.as_view({"get": "receipt"}), name="payment-receipt"),
    path("", include(router.urls)),
]
