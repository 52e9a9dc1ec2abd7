"""One-time codes a patient asks for to open their page (X7)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from clinic.models import Clinic, TenantModel


class AccessCode(TenantModel):
    """A six-digit code sent to a mobile or e-mail on file. Only its HMAC is
    kept; it expires, allows a few wrong tries, and works once."""

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="+")
    # The contact as typed and normalised: E.164 or a lower-cased e-mail.
    contact = models.CharField(max_length=254)
    digest = models.CharField(max_length=64)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("access code")
        indexes = [models.Index(fields=["organization", "contact", "-created_at"], name="access_code_contact")]
