from django.conf import settings
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.models import ServiceAccount
from accounts.selectors import service_account_get_for_user, service_account_list_for_user
from assistance.forms import (
    UPLOAD_FIELDS,
    ApplicationForm,
    DocumentAddForm,
    EligibilityForm,
    IncomeFormSet,
    MemberFormSet,
    PaymentPlanForm,
)
from assistance.models import ApplicationDocument, ApplicationDraft, DraftUpload, PaymentPlan
from assistance.selectors import (
    application_get_for_user,
    application_list_for_user,
    application_status_context,
    applications_open_for_accounts,
)
from assistance.services.applications import Income, Member, application_submit
from assistance.services.documents import (
    documents_add,
    draft_discard,
    draft_get,
    draft_save,
    draft_upload_add,
    draft_upload_remove,
)
from assistance.services.eligibility import eligibility_check, guidelines_for
from assistance.services.plans import (
    plan_open_by_staff,
    plan_preview,
    plan_request,
    plan_schedule,
    plan_withdraw,
)
from billing.calendar import local_today
from billing.selectors import account_past_due
from kernel.errors import ApplicationError
from kernel.uploads import private_file_response


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


def _stored(post) -> dict[str, list[str]]:
    """What was typed, as kept in the draft (never the CSRF token or the files)."""
    return {
        key: [value.replace("\x00", "") for value in values]  # PostgreSQL's JSON refuses NUL
        for key, values in post.lists()
        if key not in ("csrfmiddlewaretoken", "action", "remove_upload")
    }


def _as_query(stored: dict) -> QueryDict:
    query = QueryDict(mutable=True)
    for key, values in stored.items():
        query.setlist(key, values)
    return query


def _add_row(stored: dict, prefix: str, most: int) -> None:
    key = f"{prefix}-TOTAL_FORMS"
    try:
        count = int(stored.get(key, ["1"])[0])
    except ValueError:
        count = 1
    stored[key] = [str(min(count + 1, most))]
    stored.setdefault(f"{prefix}-INITIAL_FORMS", ["0"])


def _keep_uploads(request) -> dict[str, str]:
    """Keep each file that checks out with the login's draft; a wrong file is named, the others kept."""
    problems = {}
    for name, kind in UPLOAD_FIELDS.items():
        for upload in request.FILES.getlist(name):
            try:
                draft_upload_add(user=request.user, kind=kind, upload=upload)
            except ApplicationError as exc:
                problems[name] = exc.message
    return problems


@login_required
@require_http_methods(["GET", "POST"])
def apply(request):
    accounts = service_account_list_for_user(user=request.user)
    if not accounts.exists():
        messages.info(request, _("Link your service account first, then apply."))
        return redirect("service_account_link")
    reviewing = list(applications_open_for_accounts(accounts=accounts))
    available = accounts.exclude(pk__in=[a.service_account_id for a in reviewing])
    if not available.exists():
        # Said before anything is typed: one application per account at a time.
        return render(request, "assistance/apply_open.html", {"reviewing": reviewing})
    problem = ""
    upload_problems = {}
    if request.method == "POST":
        stored = _stored(request.POST)
        upload_problems = _keep_uploads(request)
        done = _draft_step(request, stored, upload_problems)
        if done is not None:
            return done
    else:
        stored = draft_get(user=request.user)
    attached = list(DraftUpload.objects.filter(user=request.user))
    form, members, incomes = _application_forms(request, stored, accounts=available, attached=attached)
    if request.method == "POST":
        valid = form.is_valid() & members.is_valid() & incomes.is_valid()
        for name, message in upload_problems.items():
            form.errors.pop(name, None)
            form.add_error(name, message)
            valid = False
        if valid:
            application = _submit(request, form, members, incomes, attached)
            if isinstance(application, str):
                problem = application
            else:
                messages.success(
                    request, _("Your application is submitted. We will call you for a short assessment.")
                )
                return redirect("assistance_detail", pk=application.pk)
        else:
            problem = _(
                "Please correct the fields marked below. Your answers and the files that were "
                "accepted are kept."
            )
    return render(
        request,
        "assistance/apply.html",
        {
            "form": form,
            "members": members,
            "incomes": incomes,
            "problem": problem,
            "attached": attached,
            "reviewing": reviewing,
            "household_size": len([f for f in members.forms if f.is_bound and f.has_changed()]) or 1,
            "draft_days": settings.ASSISTANCE_DRAFT_DAYS,
            "retention_years": round(settings.ASSISTANCE_DOCUMENT_RETENTION_DAYS / 365),
        },
        status=400 if problem else 200,
    )


def _draft_step(request, stored: dict, upload_problems: dict):
    """A posted form saves the draft; a button other than Submit (add a person or an income,
    remove a file, save for later) is done here and answered with a redirect. None: submit."""
    action = request.POST.get("action", "submit")
    if request.POST.get("remove_upload", "").isdecimal():
        action = "remove"
        try:
            draft_upload_remove(user=request.user, pk=int(request.POST["remove_upload"]))
        except ApplicationError as exc:
            messages.error(request, exc.message)
    if action == "add_member":
        _add_row(stored, "members", MemberFormSet.max_num)
    elif action == "add_income":
        _add_row(stored, "incomes", IncomeFormSet.max_num)
    draft_save(user=request.user, data=stored)
    if action == "submit":
        return None
    for message in upload_problems.values():
        messages.error(request, message)
    if action == "save":
        messages.success(
            request,
            _("Saved. Your answers and files are kept for %(days)d days; come back to finish.")
            % {"days": settings.ASSISTANCE_DRAFT_DAYS},
        )
    anchor = {"add_member": "#household", "add_income": "#income", "remove": "#documents"}
    return redirect(reverse("assistance_apply") + anchor.get(action, ""))


def _application_forms(request, stored: dict | None, *, accounts, attached):
    """The application form and the household and income formsets: bound to what was posted, or
    filled from the saved draft."""
    data = _as_query(stored) if stored else None
    kinds = {u.kind for u in attached}
    if request.method == "POST":
        form = ApplicationForm(data, accounts=accounts, attached_kinds=kinds)
    else:
        # The attestation is made afresh each time the application is sent.
        initial = {
            name: values[-1]
            for name, values in (stored or {}).items()
            if values and name not in ("attest", "attestation_name")
        }
        form = ApplicationForm(initial=initial, accounts=accounts, attached_kinds=kinds)
    members = MemberFormSet(data if data and "members-TOTAL_FORMS" in data else None, prefix="members")
    incomes = IncomeFormSet(data if data and "incomes-TOTAL_FORMS" in data else None, prefix="incomes")
    return form, members, incomes


def _submit(request, form, members, incomes, attached):
    """The application, or the reason it was refused."""
    listed = [Member(row["name"], row["relationship"]) for row in members.filled()]
    sources = [Income(row["kind"], row["monthly_amount"]) for row in incomes.filled()]
    try:
        application = application_submit(
            applicant=request.user,
            service_account=form.cleaned_data["service_account"],
            members=listed,
            incomes=sources,
            phone=form.cleaned_data["phone"],
            preferred_contact_time=form.cleaned_data["preferred_contact_time"],
            attestation_name=form.cleaned_data["attestation_name"],
            drafts=attached,
        )
    except ApplicationError as exc:
        return exc.message
    ApplicationDraft.objects.filter(user=request.user).delete()
    return application


@login_required
@require_http_methods(["POST"])
def apply_discard(request):
    draft_discard(user=request.user)
    messages.success(request, _("Your unfinished application and its files are deleted."))
    return redirect("assistance_home")


@login_required
def application_detail(request, pk: int):
    application = application_get_for_user(user=request.user, pk=pk)
    context = application_status_context(application=application)
    add_form = DocumentAddForm() if context["document_request"] else None
    return render(request, "assistance/detail.html", {**context, "add_form": add_form})


@login_required
@require_http_methods(["POST"])
def documents_add_view(request, pk: int):
    application = application_get_for_user(user=request.user, pk=pk)
    form = DocumentAddForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            documents_add(
                application=application,
                user=request.user,
                kind=form.cleaned_data["kind"],
                uploads=[f for f in (form.cleaned_data["file"], form.cleaned_data["file_more"]) if f],
            )
        except ApplicationError as exc:
            form.add_error("file", exc.message)
        else:
            messages.success(request, _("Thank you: the document is added and the clerk is told."))
            return redirect("assistance_detail", pk=application.pk)
    context = application_status_context(application=application)
    if context["document_request"] is None:
        return render(
            request,
            "assistance/detail.html",
            {
                **context,
                "problem": form.errors.get("file", [""])[0] or _("No document is being asked for right now."),
            },
            status=400,
        )
    return render(request, "assistance/detail.html", {**context, "add_form": form}, status=400)


@login_required
def document(request, pk: int):
    """Only the applicant and staff allowed to review applications may open a document."""
    doc = get_object_or_404(ApplicationDocument.objects.select_related("application"), pk=pk)
    allowed = doc.application.applicant_id == request.user.pk or (
        request.user.is_staff and request.user.has_perm("assistance.view_applicationdocument")
    )
    if not allowed or not doc.file:  # no file: deleted after the retention period
        raise Http404
    return private_file_response(doc.file, content_type=doc.content_type)


@login_required
@require_http_methods(["GET", "POST"])
def payment_plan(request, pk: int):
    """Choose a number of months, see each installment with the bill it comes with, then ask."""
    account = service_account_get_for_user(user=request.user, pk=pk)
    today = local_today()
    current = PaymentPlan.objects.filter(service_account=account).order_by("-requested_at").first()
    past_due = account_past_due(service_account=account, as_of=today)
    form = PaymentPlanForm(request.POST or request.GET or None)
    if request.method == "POST" and form.is_valid():
        try:
            plan_request(
                service_account=account,
                user=request.user,
                installments=form.cleaned_data["installments"],
                acknowledge=True,
            )
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request,
                _("Your request is sent, and we emailed you that we received it. A clerk will review it."),
            )
            return redirect("payment_plan", pk=account.pk)
    schedule = preview = []
    if current and current.status == PaymentPlan.Status.ACTIVE:
        schedule = plan_preview(
            total=current.total, installments=current.installments, starts_on=current.starts_on
        )
    elif form.is_bound and form.is_valid() and past_due > 0:
        preview = plan_preview(
            total=past_due, installments=form.cleaned_data["installments"], starts_on=today
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
            "preview": preview,
        },
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_http_methods(["POST"])
def payment_plan_withdraw(request, pk: int):
    account = service_account_get_for_user(user=request.user, pk=pk)
    plan = PaymentPlan.objects.filter(service_account=account, status=PaymentPlan.Status.REQUESTED).first()
    if plan is None:
        messages.error(request, _("There is no request being reviewed to withdraw."))
        return redirect("payment_plan", pk=account.pk)
    try:
        plan_withdraw(plan=plan, user=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Your payment plan request is withdrawn."))
    return redirect("payment_plan", pk=account.pk)


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
