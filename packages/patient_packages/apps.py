from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PatientPackagesConfig(AppConfig):
    name = "packages.patient_packages"
    label = "patient_packages"
    verbose_name = _("Patient packages")

    def ready(self) -> None:
        from packages.patient_packages import file_panel

        file_panel.register()
        from packages.patient_packages import portal

        portal.register()
        from packages.patient_packages import home_panel

        home_panel.register()
