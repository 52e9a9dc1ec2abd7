"""The providers' adapters against a local fake server (the process edge),
their delivery callbacks, e-mail through Django's framework, and who a
message goes to (opt-outs, guardians of minors)."""

from __future__ import annotations

import base64
import datetime as dt
import json
from urllib.parse import parse_qs

import pytest
from django.core import mail
from django_scopes import scopes_disabled

from clinic.tenancy import organization_scope
from patients.messaging import routing
from patients.messaging.backends import ProvidersBackend
from patients.messaging.models import Message
from patients.messaging.providers import twilio_signature, whatsapp_signature
from patients.messaging.services import Draft, message_send
from tests.patients.factories import PatientFactory


@pytest.fixture
def providers(settings, fake_provider):
    settings.MESSAGING_BACKEND = "providers"
    settings.TWILIO_API_URL = fake_provider.url
    settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, settings.TWILIO_FROM = "AC1", "secret", "+15550001111"
    settings.WHATSAPP_API_URL = fake_provider.url
    settings.WHATSAPP_TOKEN, settings.WHATSAPP_PHONE_NUMBER_ID = "wa-token", "12345"
    settings.WHATSAPP_APP_SECRET, settings.WHATSAPP_VERIFY_TOKEN = "app-secret", "verify-me"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    return fake_provider


def draft(patient, channel: str, key: str, **kwargs) -> Draft:
    fields = {"to": patient.mobile if channel != "email" else patient.email, "text": "Olá Maria, lembrete…",
              "subject": "Lembrete", "params": ("Maria", "sessão 4 de 10", "amanhã, 03/12 às 08:00"),
              "status_callback": "https://clinic.example/messages/callbacks/twilio/"}  # fmt: skip
    return Draft(patient=patient, channel=channel, kind="reminder", key=key, **(fields | kwargs))


def sent(patient, channel, key, **kwargs) -> Message:
    with organization_scope(patient.organization_id):
        return message_send(draft(patient, channel, key, **kwargs), backend=ProvidersBackend())


@pytest.mark.django_db
def test_sms_through_twilio_and_its_delivery_callback(client, patient, providers, settings):
    message = sent(patient, "sms", "k-sms")
    request = providers.requests[0]
    assert request["path"] == "/2010-04-01/Accounts/AC1/Messages.json"
    assert request["headers"]["Authorization"] == "Basic " + base64.b64encode(b"AC1:secret").decode()
    form = {key: values[0] for key, values in parse_qs(request["body"]).items()}
    assert form == {"To": "+5511987654321", "From": "+15550001111", "Body": "Olá Maria, lembrete…",
                    "StatusCallback": "https://clinic.example/messages/callbacks/twilio/"}  # fmt: skip
    assert (message.status, message.provider_id) == ("sent", "SM123")

    url = "/messages/callbacks/twilio/"
    signed_url = settings.PUBLIC_URL + url  # the address Twilio was given, whatever the proxy's Host
    params = {"MessageSid": "SM123", "MessageStatus": "delivered"}
    forged = client.post(url, params, HTTP_X_TWILIO_SIGNATURE="nope")
    assert forged.status_code == 403
    assert client.post(url, params, HTTP_X_TWILIO_SIGNATURE="ñão").status_code == 403  # not a 500
    response = client.post(url, params, HTTP_X_TWILIO_SIGNATURE=twilio_signature(signed_url, params, "secret"))
    assert response.status_code == 204
    with scopes_disabled():
        message.refresh_from_db()
    assert message.status == "delivered"
    assert message.delivered_at is not None


@pytest.mark.django_db
def test_a_provider_s_refusal_and_an_unreachable_provider_are_recorded_as_failed(patient, providers, settings):
    providers.answer = (400, {"code": 21211, "message": "The 'To' number is not a valid phone number."})
    refused = sent(patient, "sms", "k-refused")
    assert refused.status == "failed"
    assert "21211" in refused.answer
    settings.TWILIO_API_URL = "http://127.0.0.1:9"  # nothing listens there
    unreachable = sent(patient, "sms", "k-down")
    assert unreachable.status == "failed"
    assert unreachable.answer.startswith("ConnectionError")
    again = sent(patient, "sms", "k-refused")  # the same key: nothing sent again
    assert again.pk == refused.pk
    assert len(providers.requests) == 1


@pytest.mark.django_db
def test_whatsapp_through_the_cloud_api_with_an_approved_template_and_its_webhook(client, patient, providers):
    providers.answer = (200, {"messaging_product": "whatsapp", "messages": [{"id": "wamid.ABC"}]})
    message = sent(patient, "whatsapp", "k-wa")
    request = providers.requests[0]
    assert request["path"] == "/12345/messages"
    assert request["headers"]["Authorization"] == "Bearer wa-token"
    body = json.loads(request["body"])
    assert body["to"] == "5511987654321"
    assert body["type"] == "template"
    assert body["template"]["name"] == "session_reminder"
    assert body["template"]["language"] == {"code": "pt_BR"}
    assert [p["text"] for p in body["template"]["components"][0]["parameters"]] == [
        "Maria", "sessão 4 de 10", "amanhã, 03/12 às 08:00",
    ]  # fmt: skip
    assert (message.status, message.provider_id) == ("sent", "wamid.ABC")

    url = "/messages/callbacks/whatsapp/"
    check = {"hub.mode": "subscribe", "hub.verify_token": "verify-me", "hub.challenge": "1234"}
    assert client.get(url, check).content == b"1234"
    assert client.get(url, check | {"hub.verify_token": "wrong"}).status_code == 403
    assert client.get(url, check | {"hub.verify_token": "ñão"}).status_code == 403
    event = {"object": "whatsapp_business_account", "entry": [{"changes": [{"field": "messages", "value": {
        "statuses": [{"id": "wamid.ABC", "status": "failed", "errors": [{"code": 131026, "title": "Undeliverable"}]}],
    }}]}]}  # fmt: skip
    raw = json.dumps(event).encode()
    forged = client.post(url, raw, content_type="application/json", HTTP_X_HUB_SIGNATURE_256="sha256=00")
    assert forged.status_code == 403
    signed = client.post(url, raw, content_type="application/json",
                         HTTP_X_HUB_SIGNATURE_256=whatsapp_signature(raw, "app-secret"))  # fmt: skip
    assert signed.status_code == 200
    with scopes_disabled():
        message.refresh_from_db()
    assert (message.status, message.answer) == ("failed", "whatsapp: failed (Undeliverable)")


@pytest.mark.django_db
def test_email_through_django_and_an_anymail_tracking_event(patient, providers):
    from anymail.signals import AnymailTrackingEvent, tracking

    message = sent(patient, "email", "k-mail")
    assert [(m.subject, m.to) for m in mail.outbox] == [("Lembrete", ["maria@example.com"])]
    assert mail.outbox[0].extra_headers["X-Clinic-Message"] == "k-mail"
    assert message.status == "sent"
    assert message.provider_id == mail.outbox[0].extra_headers["Message-ID"]
    tracking.send(sender=None, event=AnymailTrackingEvent(event_type="bounced", message_id=message.provider_id),
                  esp_name="Postmark")  # fmt: skip
    with scopes_disabled():
        message.refresh_from_db()
    assert (message.status, message.answer) == ("failed", "Postmark: bounced")


@pytest.mark.django_db
def test_who_a_message_goes_to(tenant_a):
    today = dt.date(2026, 12, 2)
    adult = PatientFactory(clinic=tenant_a.central, birth_date=dt.date(1990, 1, 1), mobile="+5511911111111",
                           email="adult@example.com", opt_out_whatsapp=True)  # fmt: skip
    assert routing.recipient(adult, "sms", today=today).to == "+5511911111111"
    assert routing.recipient(adult, "sms", today=today, sms_mobile="+5511922222222").to == "+5511922222222"
    assert routing.recipient(adult, "email", today=today).to == "adult@example.com"
    assert routing.recipient(adult, "whatsapp", today=today).reason == "The patient opted out of this channel."
    child = PatientFactory(clinic=tenant_a.central, birth_date=dt.date(2016, 5, 1), mobile="", email="",
                           guardian_name="Ana Lima", guardian_mobile="+5511933333333",
                           guardian_email="ana@example.com", guardian_send_documents_email=True)  # fmt: skip
    sms = routing.recipient(child, "sms", today=today)
    assert (sms.to, sms.to_guardian) == ("+5511933333333", True)
    email = routing.recipient(child, "email", today=today)
    assert (email.to, email.to_guardian) == ("ana@example.com", True)
    whatsapp = routing.recipient(child, "whatsapp", today=today)
    assert (whatsapp.to, whatsapp.reason) == ("", "The guardian's switch for this channel is off.")
    nobody = PatientFactory(clinic=tenant_a.central, mobile="", email="")
    assert routing.recipient(nobody, "sms", today=today).reason == "No mobile on file."
