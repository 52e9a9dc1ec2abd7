from django.urls import path

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
    path("settings/self-registration/", views.self_registration_settings, name="self-registration-settings"),
    path("settings/questionnaires/", views.anamnesis_group_list, name="anamnesis-groups"),
    path("settings/questionnaires/new/", views.anamnesis_group_edit, name="anamnesis-group-create"),
    path("settings/questionnaires/<int:group_id>/", views.anamnesis_group_edit, name="anamnesis-group-edit"),
]
