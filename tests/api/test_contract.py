"""The published schema is the truth: Schemathesis generates requests from
`/api/v1/schema/` and sends them in-process to the WSGI application, over the
demo organization, as its owner."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, settings
from schemathesis.openapi.checks import RejectedPositiveData
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.api.conftest import Demo

schema = schemathesis.openapi.from_dict(
    json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))
)
schema.app = get_wsgi_application()
schema.config.update(base_url="http://testserver")
# PostgreSQL cannot store a NUL in text; every string field refuses one (400).
schema.config.generation.update(allow_x00=False)
# `make test` runs the examples and a bounded fuzzing of every operation, and
# bounded workflows (the stateful phase); `make contract` runs the coverage
# phase too (every boundary and type of every field, some 8,000 requests).
if not os.environ.get("CONTRACT_FULL"):
    schema.config.phases.update(phases=["examples", "fuzzing", "stateful"])
EXAMPLES = 25 if os.environ.get("CONTRACT_FULL") else 5
# In `make test` the same requests every run (a failure there is the code's,
# never the draw's); `make contract` draws new ones each time.
DERANDOMIZE = not os.environ.get("CONTRACT_FULL")


@pytest.fixture
def demo_token(demo: Demo) -> str:
    return demo.token


@pytest.fixture
def app_in_test_transaction(db) -> Iterator[None]:
    # Django's WSGI handler closes the connection when a request ends, which
    # would end the test's transaction; the test client does the same.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


# What a schema cannot say: that a referenced row exists in the caller's
# organization, that a value is unique there, or a rule tying several fields
# together. A schema-valid request refused for one of these (and only these)
# reasons is a correct 400, not a broken contract.
SEMANTIC = re.compile(
    "|".join(
        [
            r'^Invalid pk ".*" - object does not exist\.$',
            r"^Select a valid choice\. That choice is not one of the available choices\.$",
            r"\balready (exists|has)\b",  # unique in the organization or clinic
            r"is not a valid phone number\.$",
            r"is not a valid (CPF|CNPJ|CNPJ or CPF|tax id)\.$",
            r"^Give a template, or the number of sessions and the total price\.$",
            r"^Enter the amount received\.$",
            r"^A payment from a package names the (package|receivables it pays)\.$",
            r"^Required unless the payment is from a package\.$",
            r"^The end must be after the start\.$",
            r"^Choose at most a year\.$",
            r"^Choose a date between \d+ and \d+\.$",
            r"^Only a payment from a package names a package\.$",
            r": the start \(.*\) must be before the end",
            r"^Give the amount to refund or the sessions, not both\.$",
            r"^A status either debits the session or releases it, not both\.$",
            r"^Datetime value out of range\.$",  # year 1 at UTC+3 is before year 1 in the clinic's zone
            r"^This field may not be blank\.$",  # white space only: DRF trims it, the schema has only minLength
            # A package's state: what was already debited or booked bounds its new values.
            r"was already debited from this package: the total cannot be lower\.$",
            r"The package cannot have fewer than \d+ sessions?\.$",
        ]
    )
)


# Refusals by the state of a row, which no request schema can say: which
# accounts exist, whether a package had sessions debited, whether it renews.
STATE_REFUSALS = {"invalid_credentials", "package_debited", "package_not_renewable", "service_in_use"}


def _messages(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _messages(item)
    elif isinstance(value, list):
        for item in value:
            yield from _messages(item)
    else:
        yield str(value)


@schemathesis.check
def valid_data_accepted(ctx: Any, response: Any, case: Any) -> bool | None:
    """Schemathesis' own check, but a 400 may name only what a schema cannot say."""
    try:
        return positive_data_acceptance(ctx, response, case)
    except RejectedPositiveData:
        if response.status_code == 400 and response.json().get("code") in STATE_REFUSALS:
            return None
        if response.status_code == 400:
            messages = list(_messages(response.json().get("fields", {})))
            if messages and all(SEMANTIC.search(message) for message in messages):
                return None
        raise


CHECKS = {"excluded_checks": [positive_data_acceptance], "additional_checks": [valid_data_accepted]}


def _headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Token {token}", "Accept-Language": "en"}


@schema.parametrize()
@settings(max_examples=EXAMPLES, suppress_health_check=list(HealthCheck), deadline=None, derandomize=DERANDOMIZE)
def test_every_operation_keeps_the_contract(case, app_in_test_transaction, demo_token):
    case.call_and_validate(headers=_headers(demo_token), **CHECKS)


class Workflow(schema.as_state_machine()):  # type: ignore[misc]
    """Sequences of calls linked by what one answer gives the next (the id a
    POST returns, then GET, PATCH, DELETE of it, then GET again): a deleted
    resource must be gone, a created one readable."""

    token = ""

    def setup(self) -> None:
        # Each scenario starts from the demo as seeded: what one scenario
        # wrote is rolled back before the next (Hypothesis replays them).
        self.scenario = transaction.atomic()
        self.scenario._from_testcase = True  # entry points' durable blocks open inside, as in a TestCase
        self.scenario.__enter__()

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self.scenario.__exit__(None, None, None)

    def get_call_kwargs(self, case: Any) -> dict[str, Any]:
        return {"headers": _headers(self.token)}

    def validate_response(self, response: Any, case: Any, additional_checks: Any = None, **kwargs: Any) -> None:
        case.validate_response(response, headers=_headers(self.token), **CHECKS)


def test_workflows_keep_the_contract(app_in_test_transaction, demo_token):
    Workflow.token = demo_token
    Workflow.run(
        settings=settings(
            max_examples=EXAMPLES * 4,
            stateful_step_count=6,
            suppress_health_check=list(HealthCheck),
            deadline=None,
            derandomize=DERANDOMIZE,
        )
    )
