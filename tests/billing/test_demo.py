"""The demo's money (`billing.demo`): paid, partly paid and open sessions, a
package in installments, account credit, a package-paid session with a
confirmed price adjustment and a refund, all reconciled, seeded once."""

from __future__ import annotations

from collections import Counter
from io import StringIO

import pytest
from django.core.management import call_command
from django_scopes import scopes_disabled

from billing.models import Payment, Receivable, Refund
from billing.reconcile import billing_reconcile
from clinic.demo import DEMO_ORGANIZATION
from clinic.models import Organization
from clinic.tenancy import organization_scope


@pytest.mark.django_db
def test_the_demo_has_money_in_every_state_once() -> None:
    call_command("seed_demo", stdout=StringIO())
    with scopes_disabled():
        first = (Payment.objects.count(), Refund.objects.count())
    call_command("seed_demo", stdout=StringIO())
    with scopes_disabled():
        organization = Organization.objects.get(name=DEMO_ORGANIZATION)
    with organization_scope(organization):
        assert (Payment.objects.count(), Refund.objects.count()) == first
        statuses = Counter(Receivable.objects.values_list("status", flat=True))
        methods = Counter(Payment.objects.values_list("method", flat=True))
        installments = Receivable.objects.filter(installments=3).count()
        adjusted = Receivable.objects.filter(list_amount__isnull=False, status="paid").count()
        problems = [p for patient in Receivable.objects.values_list("patient", flat=True).distinct()
                    for p in billing_reconcile(patient)]  # fmt: skip
    assert {"open", "partial", "paid"} <= set(statuses)
    assert set(methods) == {"card", "cash", "pix", "transfer", "package"}
    assert installments == 3
    assert adjusted == 1
    assert first[1] == 1  # the card payment's refund
    assert problems == []
