from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import login_required, permission_required
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.models import ServiceAccount
from accounts.selectors import service_account_get_for_user, service_account_list_for_user
from assistance.forms import ApplicationForm, EligibilityForm, IncomeFormSet, MemberFormSet, PaymentPlanForm
from assistance.models import ApplicationDocument, PaymentPlan
from assistance.selectors import application_get_for_user, application_list_for_user
from assistance.services.applications import Income, Member, application_submit
from assistance.services.eligibility import eligibility_check, guidelines_for
from assistance.services.plans import plan_open_by_staff, plan_request, plan_schedule
from billing.calendar import local_today
from billing.selectors import account_past_due
from portal.errors import ApplicationError


def assistance_home(request):
    applications = application_list_for_user(user=request.user) if request.user.is_authenticated else []
    return render(request, "assistance/home.html", {"applications": applications})


def eligibility(request):
    today = local_today()
    form = EligibilityForm(request.GET or None)
    result = None
    try:
        table = guidelines_for(year=today.year)
    except ApplicationError:
        table = []
    if form.is_bound and form.is_valid() and table:
        result = eligibility_check(
            household_size=form.cleaned_data["household_size"],
            monthly_income=form.cleaned_data["monthly_income"],
            on=today,
        )
    return render(request, "assistance/eligibility.html", {"form": form, "result": result, "table": table})


@login_required
@require_http_methods(["GET", "POST"])
def apply(request):
    accounts = service_account_list_for_user(user=request.user)
    if not accounts.exists():
        messages.info(request, _("Link your service account first, then apply."))
        return redirect("service_account_link")
    data = request.POST or None
    form = ApplicationForm(data, request.FILES or None, accounts=accounts)
    members = MemberFormSet(data, prefix="members")
    incomes = IncomeFormSet(data, prefix="incomes")
    problem = ""
    if request.method == "POST" and form.is_valid() and members.is_valid() and incomes.is_valid():
        listed = [
            Member(f.cleaned_data["name"], f.cleaned_data["relationship"])
            for f in members
            if f.cleaned_data.get("name")
        ]
        sources = [
            Income(f.cleaned_data["kind"], f.cleaned_data["monthly_amount"])
            for f in incomes
            if f.cleaned_data.get("kind")
        ]
        documents = {
            ApplicationDocument.Kind.PHOTO_ID: [form.cleaned_data["photo_id"]],
            ApplicationDocument.Kind.INCOME_PROOF: [
                f for f in (form.cleaned_data["income_proof"], form.cleaned_data["income_proof_more"]) if f
            ],
            ApplicationDocument.Kind.LATE_NOTICE: [f for f in (form.cleaned_data["late_notice"],) if f],
        }
        try:
            application = application_submit(
                applicant=request.user,
                service_account=form.cleaned_data["service_account"],
                members=listed,
                incomes=sources,
                phone=form.cleaned_data["phone"],
                preferred_contact_time=form.cleaned_data["preferred_contact_time"],
                attestation_name=form.cleaned_data["attestation_name"],
                documents=documents,
            )
        except ApplicationError as exc:
            problem = exc.message
        else:
            messages.success(
                request, _("Your application is submitted. We will call you for a short assessment.")
            )
            return redirect("assistance_detail", pk=application.pk)
    elif request.method == "POST":
        problem = _("Please correct the fields marked below.")
    return render(
        request,
        "assistance/apply.html",
        {"form": form, "members": members, "incomes": incomes, "problem": problem},
        status=400 if problem else 200,
    )


@login_required
def application_detail(request, pk: int):
    application = application_get_for_user(user=request.user, pk=pk)
    return render(request, "assistance/detail.html", {"application": application})


@login_required
def document(request, pk: int):
    """Only the applicant and staff allowed to review applications may open a document."""
    doc = get_object_or_404(ApplicationDocument.objects.select_related("application"), pk=pk)
    allowed = doc.application.applicant_id == request.user.pk or (
        request.user.is_staff and request.user.has_perm("assistance.view_applicationdocument")
    )
    if not allowed:
        raise Http404
    response = FileResponse(doc.file.open("rb"), content_type=doc.content_type)
    response["Content-Disposition"] = "inline"
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def payment_plan(request, pk: int):
    account = service_account_get_for_user(user=request.user, pk=pk)
    current = PaymentPlan.objects.filter(service_account=account).order_by("-requested_at").first()
    past_due = account_past_due(service_account=account, as_of=local_today())
    form = PaymentPlanForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            plan_request(
                service_account=account, user=request.user, installments=form.cleaned_data["installments"]
            )
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request, _("Your request is sent. A clerk will review it and we will email you.")
            )
            return redirect("payment_plan", pk=account.pk)
    schedule = []
    if current and current.status == PaymentPlan.Status.ACTIVE:
        schedule = plan_schedule(
            total=current.total, installments=current.installments, starts_on=current.starts_on
        )
    return render(
        request,
        "assistance/payment_plan.html",
        {
            "account": account,
            "plan": current,
            "past_due": past_due,
            "form": form,
            "schedule": schedule,
        },
    )


@staff_member_required
@permission_required("assistance.decide_paymentplan", raise_exception=True)
def staff_payment_plan(request, pk: int):
    """Open a payment plan agreed with a caller, each installment shown before it is opened."""
    account = get_object_or_404(ServiceAccount, pk=pk)
    today = local_today()
    past_due = account_past_due(service_account=account, as_of=today)
    current = PaymentPlan.objects.filter(service_account=account).order_by("-requested_at").first()
    form = PaymentPlanForm(request.POST or request.GET or None)
    if request.method == "POST" and form.is_valid():
        try:
            plan = plan_open_by_staff(
                service_account=account, by=request.user, installments=form.cleaned_data["installments"]
            )
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request,
                f"The plan is open: ${plan.total:,.2f} in {plan.installments} installments; the customer was emailed.",
            )
            return redirect("staff_account", pk=account.pk)
    schedule = []
    if form.is_bound and form.is_valid() and past_due > 0:
        schedule = plan_schedule(
            total=past_due, installments=form.cleaned_data["installments"], starts_on=today
        )
    return render(
        request,
        "assistance/staff_payment_plan.html",
        {"account": account, "past_due": past_due, "plan": current, "form": form, "schedule": schedule},
    )
