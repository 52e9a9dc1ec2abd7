from django.urls import path

from packages import patient_views as package_views
from patients import views

app_name = "patients"

urlpatterns = [
    path("", views.patient_list, name="index"),
    path("new/", views.patient_create, name="create"),
    path("<int:patient_id>/", views.patient_detail, name="detail"),
    path("<int:patient_id>/edit/", views.patient_edit, name="edit"),
    path("<int:patient_id>/anamnesis/", views.patient_anamnesis, name="anamnesis"),
    path("<int:patient_id>/archive/", views.patient_set_active, {"active": False}, name="archive"),
    path("<int:patient_id>/reactivate/", views.patient_set_active, {"active": True}, name="reactivate"),
    path("<int:patient_id>/review/", views.patient_review, name="review"),
    # The patient's packages (views in packages.patient_views).
    path("<int:patient_id>/packages/", package_views.package_list, name="packages"),
    path("<int:patient_id>/packages/link/", package_views.package_link, name="package-link"),
    path("<int:patient_id>/packages/link/terms/", package_views.package_link_terms, name="package-link-terms"),
    path("<int:patient_id>/packages/link/preview/", package_views.package_link_preview, name="package-link-preview"),
    path("<int:patient_id>/packages/<int:package_id>/history/", package_views.package_history, name="package-history"),
    path("<int:patient_id>/packages/<int:package_id>/edit/", package_views.package_edit, name="package-edit"),
    path("<int:patient_id>/packages/<int:package_id>/status/", package_views.package_set_status, name="package-status"),
    path("<int:patient_id>/packages/<int:package_id>/renew/", package_views.package_renew, name="package-renew"),
    path("<int:patient_id>/packages/<int:package_id>/delete/", package_views.package_delete, name="package-delete"),
    path("settings/self-registration/", views.self_registration_settings, name="self-registration-settings"),
    path("settings/questionnaires/", views.anamnesis_group_list, name="anamnesis-groups"),
    path("settings/questionnaires/new/", views.anamnesis_group_edit, name="anamnesis-group-create"),
    path("settings/questionnaires/<int:group_id>/", views.anamnesis_group_edit, name="anamnesis-group-edit"),
]
