"""Patient pages: list, file, registration, review, anamnesis; the settings of
questionnaires and of the self-registration link; the public registration form."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Case, QuerySet, Value, When
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django_ratelimit.decorators import ratelimit

from clinic.errors import ApplicationError, add_to_form
from clinic.models import Professional
from clinic.permissions import Perm, membership_has_perm, require_perm
from clinic.service_forms import check_with_service
from clinic.tenancy import organization_scope
from patients import file_panels, selectors, services
from patients.forms import (
    AnamnesisForm,
    AnamnesisGroupForm,
    AnamnesisQuestionFormSet,
    PatientForm,
    ReviewForm,
    SelfRegistrationForm,
)
from patients.models import AccessChannel, AccessKind, AnamnesisGroup, AnamnesisQuestion, Patient
from patients.selectors import PatientStatus

PAGE_SIZE = 25


def get_patient_for_user(request: HttpRequest, patient_id: int) -> Patient:
    """A patient of the user's organization; 404 alike for missing and foreign ids."""
    try:
        return Patient.objects.select_related("clinic", "anamnesis_group").get(pk=patient_id)
    except Patient.DoesNotExist:
        raise Http404 from None


def _professional_choices(request: HttpRequest) -> QuerySet[Professional]:
    """Active professionals, those of the current clinic first."""
    clinic = request.clinic  # type: ignore[attr-defined]
    here_first = Case(When(clinic=clinic, then=Value(0)), default=Value(1))
    return Professional.objects.filter(is_active=True).select_related("clinic").order_by(here_first, "name")


def _patient_form(request: HttpRequest, data: Any = None, **kwargs: Any) -> PatientForm:
    instance = kwargs.get("instance")
    return PatientForm(
        data,
        clinic=instance.clinic if instance is not None else request.clinic,  # type: ignore[attr-defined]
        professionals=_professional_choices(request),
        anamnesis_groups=AnamnesisGroup.objects.filter(is_active=True),
        **kwargs,
    )


@login_required
def patient_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status") or PatientStatus.ACTIVE
    if status not in dict(PatientStatus.choices):
        status = PatientStatus.ACTIVE
    all_clinics = request.GET.get("clinic") == "all"
    search = request.GET.get("q", "")
    queryset = selectors.patient_list(
        clinic=None if all_clinics else request.clinic,  # type: ignore[attr-defined]
        search=search,
        status=status,
        today=services.clinic_today(request.clinic),  # type: ignore[attr-defined]
    )
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    services.access_log_record(
        request=request, patients=page.object_list, channel=AccessChannel.PAGE, what=AccessKind.LIST
    )
    context = {
        "page": page,
        "status": status,
        "statuses": PatientStatus.choices,
        "search": search,
        "all_clinics": all_clinics,
        "today": services.clinic_today(request.clinic),  # type: ignore[attr-defined]
        "can_manage": membership_has_perm(request.membership, Perm.MANAGE_PATIENTS),  # type: ignore[attr-defined]
        "can_configure": membership_has_perm(request.membership, Perm.CONFIGURE_CLINIC),  # type: ignore[attr-defined]
    }
    template = "patients/_table.html" if request.htmx else "patients/list.html"  # type: ignore[attr-defined]
    return render(request, template, context)


@login_required
@require_http_methods(["GET", "POST"])
def patient_create(request: HttpRequest) -> HttpResponse:
    require_perm(request, Perm.MANAGE_PATIENTS)
    form = _patient_form(request, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            patient = services.patient_create(
                clinic=request.clinic,  # type: ignore[attr-defined]
                fields=form.service_fields(),
                professionals=list(form.cleaned_data["professionals"]),
            )
        except ApplicationError as error:
            add_to_form(form, error)
        else:
            messages.success(request, _("Patient “%(name)s” registered.") % {"name": patient.full_name})
            _warn_minor_without_guardian(request, patient)
            return redirect("patients:detail", patient.pk)
    return render(request, "patients/form.html", {"form": form, "patient": None})


@login_required
@require_http_methods(["GET", "POST"])
def patient_edit(request: HttpRequest, patient_id: int) -> HttpResponse:
    require_perm(request, Perm.MANAGE_PATIENTS)
    patient = get_patient_for_user(request, patient_id)
    form = _patient_form(request, request.POST or None, instance=patient, allow_quick=False)
    if request.method == "POST" and form.is_valid():
        try:
            patient = services.patient_update(
                patient=patient,
                fields=form.service_fields(),
                professionals=list(form.cleaned_data["professionals"]),
            )
        except ApplicationError as error:
            add_to_form(form, error)
        else:
            messages.success(request, _("Changes saved."))
            _warn_minor_without_guardian(request, patient)
            return redirect("patients:detail", patient.pk)
    else:
        services.access_log_record(
            request=request, patients=[patient], channel=AccessChannel.PAGE, what=AccessKind.EDIT_FORM
        )
    return render(request, "patients/form.html", {"form": form, "patient": patient})


def _warn_minor_without_guardian(request: HttpRequest, patient: Patient) -> None:
    """P2 flags a minor without a guardian (saving is not refused): say so once, at the save."""
    if services.minor_without_guardian(patient):
        messages.warning(
            request,
            _("“%(name)s” is under 18 and has no guardian registered. Add one in the “Responsible party” section.")
            % {"name": patient.full_name},
        )


@login_required
def patient_detail(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = get_patient_for_user(request, patient_id)
    services.access_log_record(request=request, patients=[patient], channel=AccessChannel.PAGE, what=AccessKind.FILE)
    membership = request.membership  # type: ignore[attr-defined]
    questions = list(AnamnesisQuestion.objects.filter(group=patient.anamnesis_group)) if patient.anamnesis_group else []
    can_view_log = membership_has_perm(membership, Perm.VIEW_ACCESS_LOG)
    context = {
        "patient": patient,
        "professionals": list(patient.professionals.all()),
        "today": services.clinic_today(patient.clinic),
        "anamnesis": [(q, patient.anamnesis_answers.get(str(q.pk))) for q in questions],
        "history": selectors.patient_history(patient),
        "minor_without_guardian": services.minor_without_guardian(patient),
        "access_log": list(selectors.patient_access_log(patient)) if can_view_log else None,
        "can_manage": membership_has_perm(membership, Perm.MANAGE_PATIENTS),
        "review_form": ReviewForm(professionals=_professional_choices(request)) if patient.needs_review else None,
        # Next sessions, packages...: cards the apps above this one add.
        "panels": file_panels.panels_for(request, patient),
    }
    return render(request, "patients/detail.html", context)


@login_required
@require_POST
def patient_set_active(request: HttpRequest, patient_id: int, active: bool) -> HttpResponse:
    require_perm(request, Perm.MANAGE_PATIENTS)
    patient = services.patient_set_active(patient=get_patient_for_user(request, patient_id), active=active)
    if active:
        messages.success(request, _("“%(name)s” is active again.") % {"name": patient.full_name})
    else:
        messages.success(request, _("“%(name)s” was archived.") % {"name": patient.full_name})
    return redirect("patients:detail", patient.pk)


@login_required
@require_POST
def patient_review(request: HttpRequest, patient_id: int) -> HttpResponse:
    require_perm(request, Perm.MANAGE_PATIENTS)
    patient = get_patient_for_user(request, patient_id)
    form = ReviewForm(request.POST, professionals=_professional_choices(request))
    if form.is_valid():
        try:
            services.patient_confirm_review(patient=patient, professionals=list(form.cleaned_data["professionals"]))
        except ApplicationError as error:
            add_to_form(form, error)
        else:
            messages.success(request, _("Registration of “%(name)s” confirmed.") % {"name": patient.full_name})
            return redirect("patients:detail", patient.pk)
    for message in form.errors.get("professionals", []) + form.non_field_errors():
        messages.error(request, str(message))
    return redirect("patients:detail", patient.pk)


@login_required
@require_http_methods(["GET", "POST"])
def patient_anamnesis(request: HttpRequest, patient_id: int) -> HttpResponse:
    require_perm(request, Perm.MANAGE_PATIENTS)
    patient = get_patient_for_user(request, patient_id)
    groups = AnamnesisGroup.objects.filter(is_active=True)
    group = patient.anamnesis_group
    if request.GET.get("group"):
        group = groups.filter(pk=request.GET["group"]).first() or group
    if group is None:
        return render(request, "patients/anamnesis.html", {"patient": patient, "groups": groups, "form": None})
    questions = list(AnamnesisQuestion.objects.filter(group=group))
    form = AnamnesisForm(request.POST or None, questions=questions, answers=patient.anamnesis_answers)
    if request.method == "POST" and form.is_valid():
        try:
            services.patient_save_anamnesis(patient=patient, group=group, answers=form.cleaned_data)
        except ApplicationError as error:
            add_to_form(form, error)
        else:
            messages.success(request, _("Anamnesis saved."))
            return redirect(reverse("patients:detail", args=[patient.pk]) + "#anamnesis")
    elif request.method == "GET":
        services.access_log_record(
            request=request, patients=[patient], channel=AccessChannel.PAGE, what=AccessKind.ANAMNESIS
        )
    context = {"patient": patient, "groups": groups, "group": group, "form": form}
    return render(request, "patients/anamnesis.html", context)


# Settings: the self-registration link and the questionnaires.


@login_required
@require_http_methods(["GET", "POST"])
def self_registration_settings(request: HttpRequest) -> HttpResponse:
    require_perm(request, Perm.CONFIGURE_CLINIC)
    clinic = request.clinic  # type: ignore[attr-defined]
    if request.method == "POST":
        if request.POST.get("action") == "revoke":
            services.self_registration_link_revoke(clinic=clinic)
            messages.success(request, _("The link was revoked: it no longer opens the form."))
        else:
            services.self_registration_link_generate(clinic=clinic, actor=request.user)  # type: ignore[arg-type]
            messages.success(request, _("A new link was generated. The previous one no longer works."))
        return redirect("patients:self-registration-settings")
    link = selectors.self_registration_link_live(clinic)
    url = request.build_absolute_uri(reverse("self-register", args=[link.token])) if link else None
    to_review = selectors.patient_list(clinic=clinic, status=PatientStatus.TO_REVIEW).count()
    return render(
        request, "patients/self_registration_settings.html", {"link": link, "url": url, "to_review": to_review}
    )


@login_required
def anamnesis_group_list(request: HttpRequest) -> HttpResponse:
    require_perm(request, Perm.CONFIGURE_CLINIC)
    groups = AnamnesisGroup.objects.prefetch_related("questions").order_by("name")
    return render(request, "patients/anamnesis_groups.html", {"groups": groups})


@login_required
@require_http_methods(["GET", "POST"])
def anamnesis_group_edit(request: HttpRequest, group_id: int | None = None) -> HttpResponse:
    require_perm(request, Perm.CONFIGURE_CLINIC)
    group = None
    if group_id is not None:
        group = AnamnesisGroup.objects.filter(pk=group_id).first()
        if group is None:
            raise Http404
    initial_questions = [
        {"id": q.pk, "text": q.text, "kind": q.kind, "options": "\n".join(q.options)}
        for q in (AnamnesisQuestion.objects.filter(group=group) if group else [])
    ]
    form = AnamnesisGroupForm(
        request.POST or None, initial={"name": group.name, "is_active": group.is_active} if group else None
    )
    formset = AnamnesisQuestionFormSet(request.POST or None, initial=initial_questions, prefix="questions")
    valid = request.method == "POST" and all([form.is_valid(), formset.is_valid()])
    if request.method == "POST" and not valid:
        # The service's rules (a name in use, a choice with one option) on
        # what parsed, with the fields' own errors.
        rows = [getattr(row, "cleaned_data", None) or {} for row in formset.forms if not row.errors]
        check_with_service(
            form,
            lambda data: services.anamnesis_group_check(
                organization=request.organization,  # type: ignore[attr-defined]
                group=group, name=data.get("name"), questions=_kept_questions(rows),
            ),
        )  # fmt: skip
    if valid:
        questions = _kept_questions(formset.cleaned_data)
        try:
            services.anamnesis_group_save(
                organization=request.organization,  # type: ignore[attr-defined]
                group=group,
                name=form.cleaned_data["name"],
                is_active=form.cleaned_data["is_active"],
                questions=questions,
            )
        except ApplicationError as error:
            add_to_form(form, error)
        else:
            messages.success(request, _("Questionnaire saved."))
            return redirect("patients:anamnesis-groups")
    return render(request, "patients/anamnesis_group_form.html", {"form": form, "formset": formset, "group": group})


def _kept_questions(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The questionnaire's rows to save: filled in and not marked for removal."""
    return [row for row in rows if row and not row.get("DELETE") and (row.get("text") or "").strip()]


# The public self-registration form.


@ratelimit(key="ip", rate="30/m", method="GET", block=False)
@ratelimit(key="ip", rate="10/h", method="POST", block=False)
@require_http_methods(["GET", "POST"])
def self_register(request: HttpRequest, token: str) -> HttpResponse:
    link = selectors.self_registration_link_by_token(token)
    if link is None:
        raise Http404
    with organization_scope(link.organization_id), translation.override(link.clinic.language):
        if getattr(request, "limited", False):
            return render(request, "patients/public/rate_limited.html", {"clinic": link.clinic}, status=429)
        form = SelfRegistrationForm(request.POST or None, link=link)
        if request.method == "POST" and form.is_valid():
            try:
                services.patient_self_register(link=link, fields=form.cleaned_data)
            except ApplicationError as error:
                add_to_form(form, error)
            else:
                return redirect("self-register-done", token=token)
        response = render(request, "patients/public/register.html", {"form": form, "clinic": link.clinic})
        response.headers["Content-Language"] = link.clinic.language
        return response


@require_http_methods(["GET"])
def self_register_done(request: HttpRequest, token: str) -> HttpResponse:
    link = selectors.self_registration_link_by_token(token)
    if link is None:
        raise Http404
    with translation.override(link.clinic.language):
        return render(request, "patients/public/done.html", {"clinic": link.clinic})
