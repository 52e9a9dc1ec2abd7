"""The patient's package pages that book or release sessions (see
`packages.patient_packages.urls`, mounted in the same namespace)."""

from django.urls import path

from scheduling import package_views

urlpatterns = [
    path("link/", package_views.package_link, name="link"),
    path("<int:package_id>/delete/", package_views.package_delete, name="delete"),
]
