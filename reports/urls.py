from django.urls import path

from reports import views

app_name = "reports"

urlpatterns = [
    path("", views.index, name="index"),
    path("packages/", views.package_report, name="packages"),
    path("sales/", views.sales_and_usage, name="sales"),
    path("patients/<int:patient_id>/packages.xlsx", views.patient_packages_export, name="patient-packages"),
    path("packages/<int:package_id>/session-card.pdf", views.session_card, name="session-card"),
    path("exports/<int:export_id>/", views.export_status, name="export"),
    path("exports/<int:export_id>/download/", views.export_download, name="export-download"),
]
