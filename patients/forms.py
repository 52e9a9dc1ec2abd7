from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from clinic.models import Professional
from clinic.service_forms import ServiceModelForm
from patients.models import AnamnesisGroup, AnamnesisQuestion, Patient, QuestionKind
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
        professionals: QuerySet[Professional],
        anamnesis_groups: QuerySet[AnamnesisGroup],
        allow_quick: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["professionals"].queryset = professionals  # type: ignore[attr-defined]
        self.fields["anamnesis_group"].queryset = anamnesis_groups  # type: ignore[attr-defined]
        self.fields["full_name"].widget.attrs["autofocus"] = True
        if not allow_quick:
            del self.fields["quick"]
        if self.instance.pk:
            self.initial["professionals"] = list(self.instance.professionals.values_list("pk", flat=True))

    def sections(self) -> list[tuple[str, Any, str, list[forms.BoundField]]]:
        return [(key, title, icon, [self[name] for name in names]) for key, title, icon, names in SECTIONS]

    def service_fields(self) -> dict[str, Any]:
        """What to hand to the service: in quick mode, personal information only."""
        names = PERSONAL_FIELDS if self.cleaned_data.get("quick") else PATIENT_FIELDS
        return {name: self.cleaned_data[name] for name in names if name in self.cleaned_data}


class SelfRegistrationForm(ServiceModelForm):
    """The public form behind a clinic's link: no professionals, no internal fields."""

    class Meta:
        model = Patient
        fields = [*PERSONAL_FIELDS, *ADDRESS_FIELDS, *GUARDIAN_FIELDS[:5]]
        widgets = {"birth_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["mobile"].required = True
        self.fields["birth_date"].required = True


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
