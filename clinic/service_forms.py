"""Forms that only parse input for a service, and show every error at once.

A service validates inside its transaction, so that the browser and the API
share one set of rules. Run only after the form is valid, its rules would
show up in a second round: a form with an empty name and a document already
on file first says "name required", and only on the next submit "document on
file". So a form also runs the service's validation on whatever it could
parse (`check_with_service`), and shows both rounds on the first submit; the
service still validates again when it writes (and the database decides a
race).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS

from clinic.errors import ApplicationError

# A service's validation: raises `ApplicationError` with messages per field
# when the (possibly partial) data breaks one of its rules.
ServiceCheck = Callable[[dict[str, Any]], object]


def add_service_errors(
    form: forms.BaseForm, error: ApplicationError, *, skip: Collection[str] = ()
) -> ApplicationError | None:
    """Put `error` on `form`: each message on its field, a message for no
    field on top of the form. A field that already has an error from parsing
    keeps only that one ("Enter a valid date" says enough), and a message
    already shown is not repeated. Messages for names in `skip`, which the
    page shows elsewhere (a formset's rows), are returned as an error of
    their own, else None."""
    if not error.fields:
        _add_once(form, None, error.detail)
        return None
    skipped: dict[str, list[str]] = {}
    for name, messages in error.fields.items():
        if name in skip:
            skipped[name] = list(messages)
            continue
        target = name if name in form.fields else None
        if target is not None and target in form.errors:
            continue
        for message in messages:
            _add_once(form, target, message)
    return ApplicationError(error.detail, code=error.code, fields=skipped) if skipped else None


def _add_once(form: forms.BaseForm, field: str | None, message: str) -> None:
    if message not in form.errors.get(field or NON_FIELD_ERRORS, []):
        form.add_error(field, message)


def check_with_service(
    form: forms.BaseForm, check: ServiceCheck, *, skip: Collection[str] = ()
) -> ApplicationError | None:
    """Run `check` on what the form parsed so far (fields that failed to parse
    are left out of the data it gets) and put its errors on the form."""
    try:
        check(dict(form.cleaned_data))
    except ApplicationError as error:
        return add_service_errors(form, error, skip=skip)
    return None


class ServiceCheckedForm(forms.Form):
    """A form that runs its service's validation after its own cleaning,
    even when some fields failed. Subclasses define `service_check(data)`,
    calling the service's validation with the parsed data."""

    def service_check(self, data: dict[str, Any]) -> object:
        return None

    def _post_clean(self) -> None:
        super()._post_clean()  # type: ignore[misc]
        check_with_service(self, self.service_check)


class ServiceModelForm(forms.ModelForm):
    """A ModelForm that parses and cleans fields but neither validates the model
    nor saves it: the service does both, inside its transaction. Its
    `service_check(data)` runs the service's validation on the fields that
    parsed, so that the page shows every error at once. Pass
    `form.cleaned_data` to the service and show its `ApplicationError` with
    `clinic.errors.add_to_form`."""

    def service_check(self, data: dict[str, Any]) -> object:
        return None

    def _post_clean(self) -> None:
        check_with_service(self, self.service_check)

    def save(self, commit: bool = True) -> None:
        raise NotImplementedError("Call the service with form.cleaned_data instead.")
