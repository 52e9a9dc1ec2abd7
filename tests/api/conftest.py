"""The demo organization, seeded once per test process for the tests of this
package inside a transaction that is rolled back at the end; each test's own
transaction nests inside it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.db import transaction

from clinic import tokens
from clinic.demo import seed_demo
from clinic.models import Organization, User


@dataclass(frozen=True)
class Demo:
    organization: Organization
    token: str  # the owner's API token


@pytest.fixture(scope="package")
def demo(django_db_setup, django_db_blocker) -> Iterator[Demo]:
    outer = transaction.atomic()
    # As Django's TestCase marks its own: entry points' durable blocks may open inside.
    outer._from_testcase = True
    with django_db_blocker.unblock(), outer:
        result = seed_demo()
        _token, key = tokens.token_issue(user=User.objects.get(username="owner"), name="contract")
        yield Demo(organization=result.organization, token=key)
        transaction.set_rollback(True)
