from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from clinic.models import Clinic, Professional
from clinic.normalize import phone_display, phone_example
from clinic.service_forms import ServiceModelForm
from patients import services
from patients.models import AnamnesisGroup, AnamnesisQuestion, Patient, QuestionKind, SelfRegistrationLink
from patients.services import (
    ADDITIONAL_FIELDS,
    ADDRESS_FIELDS,
    FINANCIAL_FIELDS,
    GUARDIAN_FIELDS,
    MESSAGE_FIELDS,
    PATIENT_FIELDS,
    PERSONAL_FIELDS,
)

# The sections of the patient file, in order: (key, title, icon, fields).
SECTIONS = [
    ("personal", _("Personal information"), "person-vcard", PERSONAL_FIELDS),
    ("financial", _("Financial information"), "wallet2", FINANCIAL_FIELDS),
    ("address", _("Address"), "geo-alt", ADDRESS_FIELDS),
    ("additional", _("Additional data"), "journal-text", ADDITIONAL_FIELDS),
    ("guardian", _("Responsible party"), "people", GUARDIAN_FIELDS),
    ("messages", _("Messages"), "chat-dots", MESSAGE_FIELDS),
]


class PatientForm(ServiceModelForm):
    """The patient file. In quick mode only the personal information (and the
    responsible professionals) is asked and saved."""

    quick = forms.BooleanField(
        label=_("Quick registration"),
        required=False,
        help_text=_("Only personal information; complete the file later."),
    )
    professionals: forms.ModelMultipleChoiceField[Professional] = forms.ModelMultipleChoiceField(
        label=_("Responsible professionals"),
        queryset=Professional.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one responsible professional.")},
    )
    # Querysets are set per request: a scoped manager cannot build one at import.
    anamnesis_group: forms.ModelChoiceField[AnamnesisGroup] = forms.ModelChoiceField(
        label=_("Anamnesis questionnaire"), queryset=AnamnesisGroup.objects.none(), required=False
    )

    class Meta:
        model = Patient
        fields = list(PATIENT_FIELDS)
        widgets = {
            "birth_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "notes": forms.Textarea(attrs={"rows": 3}),
            "mobile": forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
            "phone": forms.TextInput(attrs={"inputmode": "tel"}),
            "guardian_mobile": forms.TextInput(attrs={"inputmode": "tel"}),
            "email": forms.EmailInput(attrs={"autocomplete": "email"}),
        }

    def __init__(
        self,
        *args: Any,
        clinic: Clinic,
        professionals: QuerySet[Professional],
        anamnesis_groups: QuerySet[AnamnesisGroup],
        allow_quick: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.clinic = clinic
        self.fields["professionals"].queryset = professionals  # type: ignore[attr-defined]
        self.fields["anamnesis_group"].queryset = anamnesis_groups  # type: ignore[attr-defined]
        self.fields["full_name"].widget.attrs["autofocus"] = True
        if not allow_quick:
            del self.fields["quick"]
        if self.instance.pk:
            self.initial["professionals"] = list(self.instance.professionals.values_list("pk", flat=True))
        people_fields(self, clinic)

    def sections(self) -> list[tuple[str, Any, str, list[forms.BoundField]]]:
        return [(key, title, icon, [self[name] for name in names]) for key, title, icon, names in SECTIONS]

    def _fields_for_service(self, data: dict[str, Any]) -> dict[str, Any]:
        names = PERSONAL_FIELDS if data.get("quick") else PATIENT_FIELDS
        return {name: data[name] for name in names if name in data}

    def service_fields(self) -> dict[str, Any]:
        """What to hand to the service: in quick mode, personal information only."""
        return self._fields_for_service(self.cleaned_data)

    def service_check(self, data: dict[str, Any]) -> None:
        # The service's rules (document on file, birth date, phone numbers...)
        # on whatever parsed, so that they show with the fields' own errors.
        services.patient_check(
            clinic=self.clinic, patient=self.instance if self.instance.pk else None,
            fields=self._fields_for_service(data),
        )  # fmt: skip


class SelfRegistrationForm(ServiceModelForm):
    """The public form behind a clinic's link: no professionals, no internal fields."""

    class Meta:
        model = Patient
        fields = [*PERSONAL_FIELDS, *ADDRESS_FIELDS, *GUARDIAN_FIELDS[:5]]
        widgets = {
            "birth_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "mobile": forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
            "phone": forms.TextInput(attrs={"inputmode": "tel"}),
            "guardian_mobile": forms.TextInput(attrs={"inputmode": "tel"}),
            "email": forms.EmailInput(attrs={"autocomplete": "email"}),
        }

    def __init__(self, *args: Any, link: SelfRegistrationLink, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.link = link
        self.fields["mobile"].required = True
        self.fields["birth_date"].required = True
        people_fields(self, link.clinic)

    def service_check(self, data: dict[str, Any]) -> None:
        # The same answer whether or not the document is on file (P4): the
        # check keeps a known document aside exactly as registering does.
        services.patient_self_register_check(link=self.link, fields=data)


def people_fields(form: forms.BaseForm, clinic: Clinic) -> None:
    """Help texts of the phone and document fields for the clinic's country,
    and the stored phone numbers shown as people write them."""
    example = phone_example(clinic.country)
    phone_help = (
        _("With the area code, e.g. %(example)s. Include the country code for numbers abroad.") % {"example": example}
        if example
        else _("Include the country code for numbers abroad.")
    )
    for name in ("mobile", "phone", "guardian_mobile"):
        if name in form.fields:
            form.fields[name].help_text = phone_help
            if form.initial.get(name):
                form.initial[name] = phone_display(form.initial[name])
    if clinic.country.upper() == "BR":
        for name in ("document", "guardian_document"):
            if name in form.fields:
                form.fields[name].help_text = _("CPF, e.g. 123.456.789-09.")


class ReviewForm(forms.Form):
    professionals: forms.ModelMultipleChoiceField[Professional] = forms.ModelMultipleChoiceField(
        label=_("Responsible professionals"),
        queryset=Professional.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one responsible professional.")},
    )

    def __init__(self, *args: Any, professionals: QuerySet[Professional], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["professionals"].queryset = professionals  # type: ignore[attr-defined]


class AnamnesisForm(forms.Form):
    """One field per question of the patient's questionnaire."""

    def __init__(self, *args: Any, questions: list[AnamnesisQuestion], answers: dict[str, Any], **kwargs: Any):
        super().__init__(*args, **kwargs)
        for question in questions:
            key = str(question.pk)
            field: forms.Field
            if question.kind == QuestionKind.YES_NO:
                field = forms.TypedChoiceField(
                    choices=[("", "—"), ("yes", _("Yes")), ("no", _("No"))],
                    coerce=lambda value: {"yes": True, "no": False}.get(value),
                    empty_value=None,
                    required=False,
                )
                initial = {True: "yes", False: "no"}.get(answers[key]) if key in answers else None
            elif question.kind == QuestionKind.CHOICE:
                field = forms.ChoiceField(choices=[("", "—"), *[(o, o) for o in question.options]], required=False)
                initial = answers.get(key, "")
            else:
                field = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
                initial = answers.get(key, "")
            field.label = question.text
            self.fields[key] = field
            self.initial[key] = initial


class AnamnesisGroupForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)


class AnamnesisQuestionForm(forms.Form):
    id = forms.IntegerField(widget=forms.HiddenInput, required=False)
    text = forms.CharField(label=_("Question"), max_length=300)
    kind = forms.ChoiceField(label=_("Kind"), choices=QuestionKind.choices, initial=QuestionKind.TEXT)
    options = forms.CharField(
        label=_("Options"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("For choice questions: one option per line."),
    )

    def clean_options(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data["options"].splitlines() if line.strip()]


AnamnesisQuestionFormSet = forms.formset_factory(AnamnesisQuestionForm, extra=2, can_delete=True)
