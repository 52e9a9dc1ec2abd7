"""The patient's package pages, under /patients/<patient_id>/packages/. The
project's URLconf mounts them with scheduling's (`scheduling.package_urls`:
linking with dates and deleting, which book and release sessions) in one
namespace, `patient_packages`."""

from django.urls import path

from packages.patient_packages import views

urlpatterns = [
    path("", views.package_list, name="list"),
    path("link/terms/", views.package_link_terms, name="link-terms"),
    path("link/preview/", views.package_link_preview, name="link-preview"),
    path("<int:package_id>/history/", views.package_history, name="history"),
    path("<int:package_id>/edit/", views.package_edit, name="edit"),
    path("<int:package_id>/status/", views.package_set_status, name="status"),
    path("<int:package_id>/renew/", views.package_renew, name="renew"),
]
