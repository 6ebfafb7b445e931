"""Runs started from the staff pages, and the files they write.

Each app registers its kinds of run (`run_kind_register`, from its AppConfig.ready): a form for
the parameters, the permission a login needs to start it, and the function that does the work.
`run_start` records the run and hands it to a Celery worker once the transaction commits; the
worker calls the function with a progress callback, keeps each file it returns in private
storage (`StoredFile`), and records the summary or the error. One run of a kind at a time.

This module names no app: the apps register with it.
"""

import datetime as dt
import hashlib
import logging
import mimetypes
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from kernel.audit import audit_record
from kernel.errors import ApplicationError
from kernel.models import Run, StoredFile

logger = logging.getLogger(__name__)


@dataclass
class RunFile:
    """A file a run wrote, and the permission needed to download it."""

    path: Path
    permission: str
    name: str = ""


@dataclass
class RunOutcome:
    summary: str
    files: list[RunFile] = field(default_factory=list)


@dataclass(frozen=True)
class RunKind:
    key: str
    title: str  # "Bill run", as the staff pages list it
    permission: str  # to start it
    form: type  # a django Form for the parameters
    describe: Callable[[dict], str]  # the cleaned parameters → "Bill run for November 2026"
    execute: Callable[..., RunOutcome]  # (parameters=..., progress=...) → RunOutcome
    help: str = ""
    # A dry run's page offers to do it for real (the certification sweep): the button's words.
    confirm_kind: str = ""
    # Whether this utility has such runs at all (the shut-off path's collections, say).
    available: Callable[[], bool] = lambda: True
    # Parameters → JSON and back (dates as ISO strings).
    to_json: Callable[[dict], dict] = lambda data: {k: str(v) for k, v in data.items()}


RUN_KINDS: dict[str, RunKind] = {}
RUN_STALE_HOURS = 24


def run_kind_register(kind: RunKind) -> None:
    RUN_KINDS[kind.key] = kind


def run_kinds_for(user) -> list[RunKind]:
    return [kind for kind in RUN_KINDS.values() if kind.available() and user.has_perm(kind.permission)]


def run_start(*, kind: str, parameters: dict, by) -> Run:
    """Record the run and queue it; refused while one of the same kind waits or runs."""
    spec = RUN_KINDS.get(kind)
    if spec is None or not spec.available():
        raise ApplicationError("There is no such run.")
    if not by.has_perm(spec.permission):
        raise ApplicationError("Your role cannot start this run.")
    label = spec.describe(parameters)
    runs_expire_stale()
    try:
        with transaction.atomic():
            run = Run.objects.create(
                kind=kind, label=label, parameters=spec.to_json(parameters), started_by=by
            )
            audit_record(actor=by, action="run.start", target=run, summary=f"{by.email} started: {label}")
            transaction.on_commit(lambda: _queue(run.pk))
    except IntegrityError:
        busy = Run.objects.filter(kind=kind, status__in=Run.ACTIVE).select_related("started_by").first()
        who = ""
        if busy is not None:
            by_whom = f"by {busy.started_by.email} " if busy.started_by else ""
            who = f" (started {by_whom}at {timezone.localtime(busy.created_at):%H:%M})"
        raise ApplicationError(f"{spec.title} is running already{who}: wait for it to finish.") from None
    return run


def runs_expire_stale() -> int:
    """A run whose worker died (a restart mid-run) would block its kind, and its page would wait,
    for ever: a day after it was started without finishing, it is taken for failed."""
    return Run.objects.filter(
        status__in=Run.ACTIVE, created_at__lt=timezone.now() - dt.timedelta(hours=RUN_STALE_HOURS)
    ).update(status=Run.Status.FAILED, error="It stopped without finishing.", finished_at=timezone.now())


def _queue(run_pk: int) -> None:
    from kernel.tasks import run_execute_task

    try:
        run_execute_task.delay(run_pk)
    except Exception:  # the broker is down: the run says so rather than wait for ever
        logger.exception("could not queue run %s", run_pk)
        Run.objects.filter(pk=run_pk, status=Run.Status.QUEUED).update(
            status=Run.Status.FAILED,
            error="The task queue could not be reached: start the run again in a moment.",
            finished_at=timezone.now(),
        )


def run_execute(run_pk: int) -> Run:
    """The worker's part: do the work, keep the files, record how it went. Run once."""
    with transaction.atomic():
        run = Run.objects.select_for_update().get(pk=run_pk)
        if run.status != Run.Status.QUEUED:
            return run  # a redelivered task: the first delivery has it
        run.status, run.started_at = Run.Status.RUNNING, timezone.now()
        run.save(update_fields=["status", "started_at"])

    def progress(percent: float) -> None:
        Run.objects.filter(pk=run.pk, status=Run.Status.RUNNING).update(
            progress=max(0, min(100, int(percent)))
        )

    # Whatever goes wrong, the run ends as failed with a reason, never left "running".
    try:
        outcome = RUN_KINDS[run.kind].execute(parameters=run.parameters, progress=progress)
        for item in outcome.files:
            file_keep(run=run, path=item.path, permission=item.permission, name=item.name)
    except ApplicationError as exc:
        _finish(run, status=Run.Status.FAILED, error=str(exc.message)[:500])
    except Exception:
        logger.exception("run %s (%s) failed", run.pk, run.kind)
        _finish(
            run, status=Run.Status.FAILED, error="The run stopped on an error; it is in the server's log."
        )
    else:
        _finish(run, status=Run.Status.SUCCEEDED, summary=outcome.summary)
    run.refresh_from_db()
    return run


def _finish(run: Run, *, status: str, summary: str = "", error: str = "") -> None:
    done = {"progress": 100} if status == Run.Status.SUCCEEDED else {}
    # Only a run still running: one taken for failed meanwhile (stale) stays failed.
    Run.objects.filter(pk=run.pk, status=Run.Status.RUNNING).update(
        status=status, summary=summary, error=error, finished_at=timezone.now(), **done
    )


def storage_roots() -> list[Path]:
    return [Path(settings.PRIVATE_MEDIA_ROOT).resolve(), Path(settings.NOTICES_ROOT).resolve()]


def run_folder(key: str) -> Path:
    """A fresh folder in private storage for one run's files."""
    folder = Path(settings.PRIVATE_MEDIA_ROOT) / "runs" / f"{timezone.now():%Y%m%d-%H%M%S-%f}-{key}"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def file_keep(*, run: Run | None, path: Path, permission: str, name: str = "") -> StoredFile:
    """Record a file already written in private storage (never anywhere else)."""
    resolved = Path(path).resolve()
    if not any(resolved.is_relative_to(root) for root in storage_roots()):
        raise ValueError(f"{resolved} is outside private storage")
    digest = hashlib.sha256(resolved.read_bytes()).hexdigest()
    return StoredFile.objects.create(
        run=run,
        name=name or resolved.name,
        path=str(resolved),
        content_type=mimetypes.guess_type(resolved.name)[0] or "application/octet-stream",
        size=resolved.stat().st_size,
        sha256=digest,
        permission=permission,
    )


def file_open_for(*, stored: StoredFile, user):
    """The file's bytes for a login allowed them, the download audited; else an ApplicationError."""
    if not user.has_perm(stored.permission):
        raise ApplicationError("Your role cannot download this file.")
    path = Path(stored.path)
    if not path.is_file():
        raise ApplicationError("The file is no longer in private storage: ask the administrator.")
    audit_record(
        actor=user, action="file.download", target=stored, summary=f"{user.email} downloaded {stored.name}"
    )
    return path.open("rb")


def command_run_record(*, kind: str, label: str, summary: str, files: list[RunFile]) -> Run | None:
    """A command-line run listed with the others: its files, copied into private storage when
    written elsewhere (`--output`), downloadable from its page like a browser run's. Best effort:
    the command's own work is done whatever happens here."""
    import shutil

    try:
        with transaction.atomic():
            run = Run.objects.create(
                kind=kind,
                label=f"{label} (command line)",
                status=Run.Status.SUCCEEDED,
                progress=100,
                summary=summary,
                started_at=timezone.now(),
                finished_at=timezone.now(),
            )
            folder = None
            for item in files:
                path = Path(item.path)
                if not path.is_file():
                    continue
                if not any(path.resolve().is_relative_to(root) for root in storage_roots()):
                    folder = folder or run_folder(f"{kind}-command")
                    path = Path(shutil.copy2(path, folder / path.name))
                file_keep(run=run, path=path, permission=item.permission, name=item.name)
        return run
    except Exception:
        logger.exception("could not list the %s command's run", kind)
        return None
