from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MessagingConfig(AppConfig):
    name = "patients.messaging"
    label = "messaging"
    verbose_name = _("Messages")

    def ready(self) -> None:
        from patients.messaging import tracking

        tracking.connect()
