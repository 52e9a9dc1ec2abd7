"""ModelForms that only parse input for a service."""

from __future__ import annotations

from django import forms


class ServiceModelForm(forms.ModelForm):
    """A ModelForm that parses and cleans fields but neither validates the model
    nor saves it: the service does both, inside its transaction, so that the
    browser and the API share one set of rules. Pass `form.cleaned_data` to the
    service and show its `ApplicationError` with `clinic.errors.add_to_form`."""

    def _post_clean(self) -> None:
        pass

    def save(self, commit: bool = True) -> None:
        raise NotImplementedError("Call the service with form.cleaned_data instead.")
