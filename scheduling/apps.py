from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SchedulingConfig(AppConfig):
    name = "scheduling"
    verbose_name = _("Scheduling")

    def ready(self) -> None:
        from clinic.services import on_organization_created
        from scheduling import file_panel
        from scheduling.services import statuses_create_builtin

        # Every new organization gets the built-in statuses when it is created.
        on_organization_created(statuses_create_builtin)
        file_panel.register()
        from scheduling import portal

        portal.register()
        from scheduling import home_panel

        home_panel.register()
