"""Forms of the Team settings pages; `clinic.team` validates the rest."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from clinic.models import Clinic, Membership, Role
from clinic.team import TeamPowers

NO_ACCESS = ""


def _role_choices(roles: Sequence[str]) -> list[tuple[str, str]]:
    return [(role.value, str(role.label)) for role in Role if role.value in roles]


class InviteForm(forms.Form):
    """Input for `member_invite`: who, and their role in which clinics."""

    first_name = forms.CharField(label=_("First name"), max_length=150)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    email = forms.EmailField(
        label=_("E-mail"), max_length=254, help_text=_("The invitation goes here; it is also their username.")
    )
    role = forms.ChoiceField(label=_("Role"))
    clinics = forms.TypedMultipleChoiceField(
        label=_("Clinics"), coerce=int, widget=forms.CheckboxSelectMultiple, error_messages={
            "required": _("Choose at least one clinic.")
        },
    )  # fmt: skip

    def __init__(self, *args: Any, powers: TeamPowers, clinics: Sequence[Clinic], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        manageable = [clinic for clinic in clinics if clinic.pk in powers.manages]
        self.fields["clinics"].choices = [(clinic.pk, clinic.name) for clinic in manageable]  # type: ignore[attr-defined]
        grantable = {role for clinic in manageable for role in powers.grantable_roles(clinic.pk)}
        self.fields["role"].choices = _role_choices(sorted(grantable))  # type: ignore[attr-defined]
        if not self.is_bound and Role.RECEPTIONIST in grantable:
            self.initial.setdefault("role", Role.RECEPTIONIST)


class MemberRolesForm(forms.Form):
    """The person's role in each clinic (or no access), one select per
    clinic; the clinics whose team the reader does not manage, or where the
    person is owner and the reader is not, are shown but cannot change."""

    def __init__(
        self, *args: Any, powers: TeamPowers, clinics: Sequence[Clinic], memberships: Sequence[Membership],
        **kwargs: Any,
    ) -> None:  # fmt: skip
        super().__init__(*args, **kwargs)
        current = {m.clinic_id: m.role for m in memberships}
        is_owner = Role.OWNER in current.values()
        self.clinics: dict[str, Clinic] = {}
        for clinic in clinics:
            if not clinic.is_active and clinic.pk not in current:
                continue
            name = self.field_name(clinic.pk)
            roles = powers.grantable_roles(clinic.pk)
            role = current.get(clinic.pk, NO_ACCESS)
            locked = (
                not roles or (is_owner and not powers.owns) or (role == Role.OWNER and clinic.pk not in powers.owns)
            )
            choices = [(NO_ACCESS, str(_("No access"))), *_role_choices(roles if not locked else Role.values)]
            if locked:
                choices = [choice for choice in choices if choice[0] == role]
            self.fields[name] = forms.ChoiceField(
                label=clinic.name, choices=choices, required=False, initial=role, disabled=locked
            )
            self.clinics[name] = clinic

    @staticmethod
    def field_name(clinic_id: int) -> str:
        return f"role_{clinic_id}"

    def changed_roles(self) -> dict[int, str | None]:
        """clinic id -> the new role (None: no access), for the fields changed."""
        return {
            self.clinics[name].pk: (self.cleaned_data[name] or None)
            for name in self.changed_data
            if name in self.clinics and not self.fields[name].disabled
        }

    @property
    def can_change(self) -> bool:
        return any(not field.disabled for field in self.fields.values())
