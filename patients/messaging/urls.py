from django.urls import include, path

from patients.messaging import views

app_name = "messaging"

urlpatterns = [
    path("", views.message_list, name="list"),
    path("templates/", views.reminder_templates, name="templates"),
    path("callbacks/twilio/", views.twilio_callback, name="twilio-callback"),
    path("callbacks/whatsapp/", views.whatsapp_callback, name="whatsapp-callback"),
    # django-anymail's tracking webhooks: /messages/anymail/<esp>/tracking/
    path("anymail/", include("anymail.urls")),
]
