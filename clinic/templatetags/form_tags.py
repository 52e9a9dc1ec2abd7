"""Render Django form fields with Bootstrap classes, without a form library."""

from __future__ import annotations

from django import forms, template
from django.forms.boundfield import BoundField
from django.utils.safestring import SafeString

register = template.Library()


@register.filter
def with_class(field: BoundField, css_class: str) -> SafeString:
    classes = [css_class]
    if field.errors:
        classes.append("is-invalid")
    attrs: dict[str, str | bool] = {"class": " ".join(classes)}
    if field.errors:
        attrs["aria-invalid"] = "true"
    return field.as_widget(attrs=attrs)


@register.filter
def is_checkbox(field: BoundField) -> bool:
    return isinstance(field.field.widget, forms.CheckboxInput)


@register.filter
def is_select(field: BoundField) -> bool:
    return isinstance(field.field.widget, forms.Select)


@register.filter
def is_choice_list(field: BoundField) -> bool:
    """Checkboxes or radio buttons: a fieldset of choices."""
    return isinstance(field.field.widget, forms.RadioSelect)  # CheckboxSelectMultiple is one too


@register.filter
def is_radio(field: BoundField) -> bool:
    """Radio buttons: a few long choices, one under the other."""
    return isinstance(field.field.widget, forms.RadioSelect) and not isinstance(
        field.field.widget, forms.CheckboxSelectMultiple
    )


@register.filter
def all_errors(form: forms.BaseForm) -> list[tuple[BoundField | None, str]]:
    """Every error message of a form, in field order: (the field or None for
    the form's own, the message), for the summary on top of the form."""
    errors: list[tuple[BoundField | None, str]] = [(None, str(message)) for message in form.non_field_errors()]
    for field in form:
        errors.extend((field, str(message)) for message in field.errors)
    return errors
