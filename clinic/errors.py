"""The one application error type.

Services raise `ApplicationError` (or a subclass) with a stable machine `code`,
a human `detail` in the user's language and, for validation failures, the
messages per field. The API turns it into ``{"code", "detail", "fields"}``
(`clinic.api.exceptions`); HTML views put it on their form (`add_to_form`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django import forms


class ApplicationError(Exception):
    """A business rule refused the operation. HTTP 400 unless a subclass says otherwise."""

    code: str = "application_error"
    status: int = 400
    default_detail: Any = _("The operation could not be completed.")

    def __init__(
        self,
        detail: Any = None,
        *,
        code: str | None = None,
        fields: Mapping[str, Sequence[Any]] | None = None,
    ) -> None:
        self.detail = str(detail if detail is not None else self.default_detail)
        if code is not None:
            self.code = code
        self.fields: dict[str, list[str]] = {name: [str(m) for m in msgs] for name, msgs in (fields or {}).items()}
        super().__init__(self.detail)

    def after_rollback(self) -> None:
        """Called once the transaction the error left is rolled back: by
        `clinic.transactions.entry_point`, and by a batch that catches each
        row's error at its savepoint. An error found by a statement that
        aborted the transaction (a constraint refusing a row) looks up here,
        on a usable connection, what it names. Nothing by default."""

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "detail": self.detail, "fields": self.fields}

    @property
    def summary(self) -> str:
        """One line for a toast, a message or a batch row: the fields' reasons
        of a validation error ("Some fields are not valid." says nothing), the
        detail of any other refusal."""
        if self.code == "validation_error" and self.fields:
            return " ".join(message for messages in self.fields.values() for message in messages)
        return self.detail

    @classmethod
    def from_django(cls, error: DjangoValidationError) -> ValidationFailed:
        """Wrap a Django ValidationError (from `full_clean`) keeping its per-field messages."""
        if hasattr(error, "error_dict"):
            fields = {
                ("non_field_errors" if name == NON_FIELD_ERRORS else name): [m for e in errs for m in e.messages]
                for name, errs in error.error_dict.items()
            }
            return ValidationFailed(fields=fields)
        return ValidationFailed(" ".join(error.messages))


class ValidationFailed(ApplicationError):
    code = "validation_error"
    default_detail = _("Some fields are not valid.")


class NotFound(ApplicationError):
    code = "not_found"
    status = 404
    default_detail = _("Not found.")


class PermissionDenied(ApplicationError):
    code = "permission_denied"
    status = 403
    default_detail = _("You do not have permission to do this.")


class Conflict(ApplicationError):
    """A concurrent change won a race, or the state changed under the request."""

    code = "conflict"
    status = 409
    default_detail = _("The record was changed by someone else. Reload and try again.")


def full_clean(instance: Any, **kwargs: Any) -> None:
    """`instance.full_clean()`, its Django ValidationError raised as the
    application's error (per-field messages kept)."""
    try:
        instance.full_clean(**kwargs)
    except DjangoValidationError as error:
        raise ApplicationError.from_django(error) from error


def model_errors(
    instance: Any,
    *,
    given: Collection[str],
    exclude: Sequence[str] = (),
    tenant_fields: Collection[str] = ("organization", "clinic"),
) -> dict[str, list[str]]:
    """`instance.full_clean()` as messages per field, checking only the fields
    in `given` (what a form could parse; the others failed there and would
    only repeat "this field is required"). A unique constraint's message goes
    on its one field besides the tenant's ("a service with this name" on
    the name), so that a form shows it there; include the tenant's fields in
    `given` for those constraints to be checked."""
    names = {field.name for field in instance._meta.get_fields() if getattr(field, "concrete", False)}
    skipped = {name for name in names if name not in given} | set(exclude)
    errors: dict[str, list[str]] = {}
    try:
        instance.full_clean(exclude=list(skipped), validate_constraints=False)
    except DjangoValidationError as error:
        errors = ApplicationError.from_django(error).fields or {"non_field_errors": list(error.messages)}
    for constraint in instance._meta.constraints:
        try:
            constraint.validate(type(instance), instance, exclude=skipped | set(errors))
        except DjangoValidationError as error:
            own = [name for name in getattr(constraint, "fields", ()) if name not in tenant_fields]
            target = own[0] if len(own) == 1 else "non_field_errors"
            errors.setdefault(target, []).extend(error.messages)
    return errors


def raise_if(errors: Mapping[str, Sequence[Any]]) -> None:
    """Raise the errors collected per field, if any, as one validation error."""
    if errors:
        raise ValidationFailed(fields={name: list(messages) for name, messages in errors.items()})


def add_to_form(form: forms.BaseForm, error: ApplicationError) -> None:
    """Show an application error on an HTML form, field by field where it can."""
    if not error.fields:
        form.add_error(None, error.detail)
        return
    for name, messages in error.fields.items():
        target = name if name in form.fields else None
        for message in messages:
            form.add_error(target, message)
