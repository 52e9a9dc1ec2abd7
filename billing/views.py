"""The finance pages (B1-B3): the receivables list, registering a payment
(one click from the list, the calendar's appointment and the patient's
file; or from a package), a payment's page with its refunds and receipt."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from billing import pix, selectors, services
from billing.commissions import commission_report
from billing.errors import PriceMismatch
from billing.forms import (
    CashDayForm,
    CommissionFilterForm,
    PaymentForm,
    ReceivableFilterForm,
    RefundForm,
    default_period,
)
from billing.models import Method, Payment, Receivable
from billing.receivables import account_credit, local_date
from clinic.errors import ApplicationError, add_to_form
from clinic.models import Clinic, Professional, User
from clinic.permissions import Perm, require_perm
from packages.catalog import selectors as catalog
from packages.catalog.exporters import XLSX_CONTENT_TYPE
from packages.catalog.models import Posting
from packages.catalog.templatetags.catalog_tags import money as money_text
from packages.patient_packages.models import PackageStatus, PatientPackage
from patients.models import Patient

PAGE_SIZE = 50


def _clinic(request: HttpRequest) -> Clinic:
    clinic: Clinic | None = getattr(request, "clinic", None)
    if clinic is None:
        raise Http404
    return clinic


def _actor(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def get_payment_for_user(request: HttpRequest, payment_id: int) -> Payment:
    """A payment of the user's organization; 404 alike for missing and foreign ids."""
    payment = selectors.payment_list().filter(pk=payment_id).first()
    if payment is None:
        raise Http404
    return payment


@login_required
def receivable_list(request: HttpRequest) -> HttpResponse:
    """What patients owe (B1), by period, status, professional, service and
    patient, with totals; open rows can be selected and paid together."""
    require_perm(request, Perm.TAKE_PAYMENTS)
    clinic = _clinic(request)
    today = local_date(timezone.now(), clinic.time_zone)
    data = request.GET.copy()
    if not data.get("start") and not data.get("end") and not data.get("patient"):
        start, end = default_period(today)
        data["start"], data["end"] = start.isoformat(), end.isoformat()
    form = ReceivableFilterForm(
        data,
        professionals=Professional.objects.filter(clinic=clinic, is_active=True).order_by("name"),
        services=catalog.visible_services(clinic=clinic).order_by("name"),
    )
    filters = form.filters(clinic=clinic.pk)
    page = Paginator(selectors.receivable_list(filters), PAGE_SIZE).get_page(request.GET.get("page"))
    patient = Patient.objects.filter(pk=filters.patient).first() if filters.patient else None
    pay_package = request.GET.get("package")
    context = {
        "form": form,
        "page": page,
        "totals": selectors.receivable_totals(filters),
        "patient": patient,
        "credit": account_credit(patient.pk) if patient else None,
        "currency": clinic.currency,
        "pay_package": pay_package if pay_package and pay_package.isdigit() else "",
        "query": _without_page(data),
        "today": today,
    }
    return render(request, "billing/receivables.html", context)


def _without_page(data: Any) -> str:
    query = data.copy()
    query.pop("page", None)
    text: str = query.urlencode()
    return text


@dataclass(frozen=True)
class Selection:
    patient: Patient
    receivables: list[Receivable]

    @property
    def total_open(self) -> Decimal:
        return sum((r.open for r in self.receivables), Decimal("0.00"))


def _selection(request: HttpRequest, data: Any) -> Selection:
    """The receivables chosen to pay (one patient's), or the one of an
    appointment (the calendar's "Register payment"), or none (an advance on
    the patient's account)."""
    ids = [int(v) for v in data.getlist("receivables") if str(v).isdigit()]
    if not ids and str(data.get("appointment", "")).isdigit():
        ids = list(Receivable.objects.filter(appointment_id=int(data["appointment"])).values_list("pk", flat=True))
    rows = list(Receivable.objects.filter(pk__in=ids).select_related("patient", "appointment", "patient_package"))
    rows.sort(key=lambda r: ids.index(r.pk))
    patients = {r.patient_id for r in rows}
    if len(patients) > 1:
        raise ApplicationError(_("Choose the sessions of one patient at a time."))
    if rows:
        return Selection(rows[0].patient, rows)
    if str(data.get("patient", "")).isdigit():
        patient = Patient.objects.filter(pk=int(data["patient"])).first()
        if patient is not None:
            return Selection(patient, [])
    raise Http404


def _packages_to_pay_from(patient: Patient) -> Any:
    return PatientPackage.objects.filter(
        patient=patient, status=PackageStatus.ACTIVE, deleted_at__isnull=True, posting=Posting.TOTAL
    ).order_by("-created_at")


@login_required
@require_http_methods(["GET", "POST"])
def payment_register(request: HttpRequest) -> HttpResponse:
    """Register a payment for the chosen receivables: money (cash, card,
    Pix, transfer) or sessions of a package (K11 asks to confirm a price
    that differs from the package's value per session)."""
    require_perm(request, Perm.TAKE_PAYMENTS)
    clinic = _clinic(request)
    source = request.POST if request.method == "POST" else request.GET
    try:
        selection = _selection(request, source)
    except ApplicationError as error:
        messages.error(request, error.detail)
        return redirect("billing:index")
    except Http404:
        if str(source.get("appointment", "")).isdigit():
            # A session of a package that posts its total owes nothing of its own.
            messages.info(request, _("Nothing to pay for this session: its package covers it."))
            return redirect("billing:index")
        raise
    patient = selection.patient
    packages = _packages_to_pay_from(patient)
    initial: dict[str, Any] = {"method": Method.CASH, "amount": selection.total_open}
    package_id = source.get("package")
    if package_id and str(package_id).isdigit() and packages.filter(pk=int(package_id)).exists():
        initial |= {"method": Method.PACKAGE, "patient_package": int(package_id)}
    credit = account_credit(patient.pk)
    form = PaymentForm(
        request.POST if request.method == "POST" else None, initial=initial, packages=packages,
        has_guardian=bool(patient.guardian_name), credit=credit, receivables=[r.pk for r in selection.receivables],
    )  # fmt: skip
    mismatch: list[dict[str, Any]] = []
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        ids = [r.pk for r in selection.receivables]
        try:
            if data["method"] == Method.PACKAGE:
                payment = services.payment_from_package(
                    package=data["patient_package"], receivables=ids, confirm_price=data["confirm_price"],
                    patient=patient, actor=_actor(request), note=data["note"],
                )  # fmt: skip
            else:
                payment = services.payment_take(
                    clinic=clinic, patient=patient, method=data["method"], amount=data["amount"], receivables=ids,
                    payer=data.get("payer") or "patient", use_credit=data["use_credit"], note=data["note"],
                    actor=_actor(request),
                )  # fmt: skip
        except PriceMismatch as error:
            # Ask once, with the prices side by side; confirming sends the same form again.
            by_id = {r.pk: r for r in selection.receivables}
            mismatch = [
                {"receivable": by_id[int(pk)], "price": Decimal(price), "value": Decimal(value)}
                for pk, price, value in zip(
                    error.fields["receivables"], error.fields["prices"], error.fields["values"], strict=True
                )
            ]
            confirmed = request.POST.copy()
            confirmed["confirm_price"] = "on"
            form.data = confirmed
        except ApplicationError as error:
            add_to_form(form, error)
        else:
            messages.success(
                request,
                _("Payment no. %(number)s registered for %(patient)s.")
                % {"number": payment.number, "patient": patient.full_name},
            )
            return redirect("billing:payment", payment.pk)
    context = {
        "form": form,
        "selection": selection,
        "patient": patient,
        "credit": credit,
        "currency": clinic.currency,
        "mismatch": mismatch,
        "package_average": {p.pk: p.average_price for p in packages},
    }
    return render(request, "billing/payment_form.html", context)


def _refund_choices(payment: Payment) -> list[tuple[int, str]]:
    net = services.net_by_receivable(payment)
    rows = Receivable.objects.filter(pk__in=net).select_related("clinic").order_by("due_date", "pk")
    return [(r.pk, _refund_label(r, net[r.pk])) for r in rows]


def _refund_label(receivable: Receivable, amount: Decimal) -> str:
    day = date_format(receivable.due_date, "SHORT_DATE_FORMAT")
    return f"{receivable.description} · {day} · {money_text(amount, receivable.clinic.currency)}"


@login_required
@require_http_methods(["GET", "POST"])
def payment_detail(request: HttpRequest, payment_id: int) -> HttpResponse:
    """A payment: what it paid, its refunds, its receipt; refund from here (B3)."""
    require_perm(request, Perm.TAKE_PAYMENTS)
    payment = get_payment_for_user(request, payment_id)
    by_amount = payment.method != Method.PACKAGE
    form = RefundForm(
        request.POST if request.method == "POST" else None, choices=_refund_choices(payment), by_amount=by_amount
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            refund = services.payment_refund(
                payment=payment, actor=_actor(request), reason=data["reason"],
                amount=data.get("amount") or None, receivables=data["receivables"] or None,
            )  # fmt: skip
        except ApplicationError as error:
            add_to_form(form, error)
        else:
            if payment.method == Method.PACKAGE:
                text = _("The sessions were removed from the package and credited back to it.")
            else:
                text = _("Refund of %(amount)s registered.") % {
                    "amount": money_text(refund.amount, payment.clinic.currency)
                }
            messages.success(request, text)
            return redirect("billing:payment", payment.pk)
    allocations = selectors.payment_detail_allocations(payment)
    context = {
        "payment": payment,
        "allocations": allocations,
        "refunds": payment.refunds.all(),
        "form": form,
        "currency": payment.clinic.currency,
        "rest": services.payment_rest(payment),
    }
    return render(request, "billing/payment_detail.html", context)


@login_required
def payment_receipt(request: HttpRequest, payment_id: int) -> HttpResponse:
    require_perm(request, Perm.TAKE_PAYMENTS)
    payment = get_payment_for_user(request, payment_id)
    from billing.exporters import receipt_pdf

    response = HttpResponse(receipt_pdf(payment), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="receipt-{payment.number}.pdf"'
    return response


@login_required
def payment_list(request: HttpRequest) -> HttpResponse:
    """Payments received, newest first."""
    require_perm(request, Perm.TAKE_PAYMENTS)
    clinic = _clinic(request)
    rows = selectors.payment_list().filter(clinic=clinic)
    patient_id, package_id = request.GET.get("patient", ""), request.GET.get("package", "")
    if patient_id.isdigit():
        rows = rows.filter(patient_id=int(patient_id))
    package = None
    if package_id.isdigit():
        # A package's paid sessions (B3): its payments, each listing the
        # sessions it paid, which can be removed from there.
        package = PatientPackage.objects.filter(pk=int(package_id)).select_related("patient").first()
        if package is None:
            raise Http404
        rows = rows.filter(patient_package=package)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"page": page, "currency": clinic.currency, "package": package, "query": _without_page(request.GET)}
    return render(request, "billing/payment_list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def receivable_pix(request: HttpRequest, receivable_id: int) -> HttpResponse:
    """A Pix copy-and-paste code and QR code for what is open on a
    receivable; "Pix received" registers the payment by hand."""
    require_perm(request, Perm.TAKE_PAYMENTS)
    receivable = Receivable.objects.select_related("clinic", "patient", "appointment").filter(pk=receivable_id).first()
    if receivable is None:
        raise Http404
    clinic = receivable.clinic
    if request.method == "POST":
        try:
            payment = services.payment_take(
                clinic=clinic, patient=receivable.patient, method=Method.PIX, amount=receivable.open,
                receivables=[receivable.pk], actor=_actor(request), note=_("Pix received"),
            )  # fmt: skip
        except ApplicationError as error:
            messages.error(request, error.summary)
            return redirect("billing:pix", receivable.pk)
        messages.success(
            request,
            _("Payment no. %(number)s registered for %(patient)s.")
            % {"number": payment.number, "patient": receivable.patient.full_name},
        )
        return redirect("billing:payment", payment.pk)
    code = svg = ""
    if clinic.pix_key and receivable.open > 0:
        code = pix.brcode(
            key=clinic.pix_key, name=clinic.name, city=clinic.pix_city or clinic.name, amount=receivable.open,
            txid=pix.reference(f"REC{receivable.pk}"),
        )  # fmt: skip
        svg = pix.qr_svg(code)
    context = {"receivable": receivable, "code": code, "svg": svg, "currency": clinic.currency, "clinic": clinic}
    return render(request, "billing/pix.html", context)


def _month_so_far(request: HttpRequest, clinic: Clinic) -> dict[str, str]:
    today = local_date(timezone.now(), clinic.time_zone)
    start, _end = default_period(today)
    return {"start": start.isoformat(), "end": today.isoformat()}


@login_required
def commissions(request: HttpRequest) -> HttpResponse:
    """Each professional's commissions in a period, with the sessions behind
    each sum (B5); `?format=xlsx` downloads it as Excel."""
    require_perm(request, Perm.EXPORT_REPORTS)
    clinic = _clinic(request)
    data = request.GET.copy()
    for key, value in _month_so_far(request, clinic).items():
        data.setdefault(key, value)
    form = CommissionFilterForm(
        data, professionals=Professional.objects.filter(clinic=clinic).order_by("-is_active", "name")
    )
    report = []
    if form.is_valid():
        chosen = form.cleaned_data["professional"]
        report = commission_report(
            clinic=clinic, start=form.cleaned_data["start"], end=form.cleaned_data["end"],
            professional=chosen.pk if chosen else None,
        )  # fmt: skip
        if request.GET.get("format") == "xlsx":
            from billing.exporters import commissions_xlsx

            title = _("Commissions from %(start)s to %(end)s") % {
                "start": date_format(form.cleaned_data["start"], "SHORT_DATE_FORMAT"),
                "end": date_format(form.cleaned_data["end"], "SHORT_DATE_FORMAT"),
            }
            content = commissions_xlsx(report, currency=clinic.currency, time_zone=clinic.time_zone, title=title)
            response = HttpResponse(content, content_type=XLSX_CONTENT_TYPE)
            response["Content-Disposition"] = 'attachment; filename="commissions.xlsx"'
            return response
    context = {
        "form": form,
        "report": report,
        "currency": clinic.currency,
        "clinic": clinic,
        "query": _without_page(data),
        "total": sum((row.total for row in report), Decimal("0.00")),
    }
    return render(request, "billing/commissions.html", context)


@login_required
def cash_summary(request: HttpRequest) -> HttpResponse:
    """The day's closing: received and refunded per method (cash, card,
    Pix, transfer, package)."""
    require_perm(request, Perm.TAKE_PAYMENTS)
    clinic = _clinic(request)
    today = local_date(timezone.now(), clinic.time_zone)
    form = CashDayForm(request.GET or {"day": today.isoformat()})
    day = form.cleaned_data["day"] if form.is_valid() else today
    lines = selectors.cash_summary(clinic_id=clinic.pk, day=day, time_zone=clinic.time_zone)
    money_lines = [line for line in lines if line.method != Method.PACKAGE]
    received = sum((line.received for line in money_lines), Decimal("0.00"))
    refunded = sum((line.refunded for line in money_lines), Decimal("0.00"))
    context = {
        "form": form, "day": day, "lines": lines, "currency": clinic.currency, "received": received,
        "refunded": refunded, "net": received - refunded,
    }  # fmt: skip
    return render(request, "billing/cash.html", context)


def pay_url(**params: Any) -> str:
    return f"{reverse('billing:pay')}?{urlencode(params, doseq=True)}"
