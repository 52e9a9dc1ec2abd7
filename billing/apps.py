from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = _("Billing")

    def ready(self) -> None:
        # Billing takes part in the use cases of the apps below it through
        # their hooks (`clinic.hooks`): they never import billing.
        from billing import file_panel, receivables
        from packages.patient_packages import events as package_events
        from scheduling import events as scheduling_events
        from scheduling import locks as scheduling_locks

        scheduling_events.charge_changed.connect(receivables.session_charge_sync)
        scheduling_locks.charges_locked.connect(receivables.lock_charges)
        package_events.package_linked.connect(receivables.package_sale_post)
        package_events.package_changed.connect(receivables.package_sale_change)
        package_events.package_deleted.connect(receivables.package_sale_cancel)
        file_panel.register()
        from billing import portal

        portal.register()
        from billing import home_panel

        home_panel.register()
