"""Staff pages for runs: the list with what each login may start, the start form, a run's page
with its progress, result and files, and the audited download of a file."""

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render

from kernel.errors import ApplicationError
from kernel.models import Run, StoredFile
from kernel.runs import RUN_KINDS, file_open_for, run_kinds_for, run_start, runs_expire_stale


@staff_member_required
@permission_required("portal.view_run", raise_exception=True)
def runs(request):
    runs_expire_stale()
    return render(
        request,
        "portal/runs.html",
        {"runs": Run.objects.select_related("started_by")[:50], "kinds": run_kinds_for(request.user)},
    )


@staff_member_required
@permission_required("portal.start_runs", raise_exception=True)
def run_new(request, kind: str):
    spec = RUN_KINDS.get(kind)
    if spec is None or not spec.available() or not request.user.has_perm(spec.permission):
        raise Http404
    form = spec.form(request.POST or request.GET or None)
    if request.method == "POST" and form.is_valid():
        try:
            run = run_start(kind=kind, parameters=form.cleaned_data, by=request.user)
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            return redirect("run_detail", pk=run.pk)
    return render(request, "portal/run_new.html", {"spec": spec, "form": form})


@staff_member_required
@permission_required("portal.view_run", raise_exception=True)
def run_detail(request, pk: int):
    runs_expire_stale()
    run = get_object_or_404(Run.objects.select_related("started_by"), pk=pk)
    files = [f for f in run.files.all() if request.user.has_perm(f.permission)]
    return render(
        request,
        "portal/run_detail.html",
        {
            "run": run,
            "files": files,
            "hidden_files": run.files.count() - len(files),
            "active": run.status in Run.ACTIVE,
            "spec": RUN_KINDS.get(run.kind),
            # A dry run that found something to do can be confirmed; one that found nothing cannot.
            "confirmable": run.parameters.get("dry_run") == "True"
            and run.status == Run.Status.SUCCEEDED
            and " 0 account(s) would be" not in run.summary,
        },
    )


@staff_member_required
@permission_required("portal.view_run", raise_exception=True)
def file_download(request, pk: int):
    stored = get_object_or_404(StoredFile, pk=pk)
    if not request.user.has_perm(stored.permission):
        raise PermissionDenied  # a bank file, say, is for finance
    try:
        handle = file_open_for(stored=stored, user=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("run_detail", pk=stored.run_id) if stored.run_id else redirect("runs")
    return FileResponse(handle, as_attachment=True, filename=stored.name, content_type=stored.content_type)


@staff_member_required
@permission_required("portal.view_run", raise_exception=True)
def run_status(request, pk: int):
    """What the run's page asks every few seconds while it waits."""
    runs_expire_stale()
    run = get_object_or_404(Run, pk=pk)
    return JsonResponse(
        {
            "status": str(run.get_status_display()),
            "progress": run.progress,
            "done": run.status not in Run.ACTIVE,
        }
    )
