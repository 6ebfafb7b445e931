from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models


class AuditEvent(models.Model):
    """A staff action that moved money or decided an application: who, when, what changed.

    Append-only: the database refuses UPDATE and DELETE (migration 0002), and admin offers no
    way to add, change or delete one.
    """

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The login's email as it was then: the record stays readable if the login changes.
    actor_email = models.CharField(max_length=254, blank=True)
    action = models.CharField(max_length=60, db_index=True)
    object_type = models.CharField(max_length=60)
    object_id = models.CharField(max_length=40)
    account_number = models.CharField(max_length=20, blank=True, db_index=True)
    summary = models.CharField(max_length=300)
    changes = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_email or 'system'}: {self.summary}"


class OutboxTask(models.Model):
    """Work owed to the Celery queue (a bill-ready email, a receipt, a chunk of a run), written
    in the same transaction as what it follows. It is handed to the queue when that transaction
    commits; if the queue is down then, `outbox_flush` (every minute) hands it over later. A row
    is never deleted: queued_at says when it went."""

    task = models.CharField(max_length=200, help_text="The Celery task's dotted name.")
    args = models.JSONField(default=list, encoder=DjangoJSONEncoder)
    # How many emails (or accounts) the task covers: what "N wait for the queue" counts.
    items = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    # Set when the task cannot be sent for a reason of its own (not the broker being down).
    failed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=models.Q(queued_at__isnull=True),
                name="portal_outbox_waiting_idx",
            )
        ]

    def __str__(self) -> str:
        if self.queued_at:
            state = f"queued {self.queued_at:%Y-%m-%d %H:%M}"
        else:
            state = "failed" if self.failed_at else "waiting"
        return f"{self.task} ({self.items}): {state}"


class Run(models.Model):
    """A run started from the staff pages (a bill run, a NACHA file, notices, the certification
    sweep): done by a Celery worker, its progress, result and files shown on its page."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting for a worker"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Done"
        FAILED = "failed", "Failed"

    ACTIVE = (Status.QUEUED, Status.RUNNING)

    kind = models.CharField(max_length=40)
    label = models.CharField(max_length=200)
    parameters = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0, help_text="Percent done.")
    summary = models.TextField(blank=True)
    error = models.CharField(max_length=500, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        permissions = [
            ("start_runs", "Can start runs (bills, NACHA files, notices, certification) from staff pages")
        ]
        constraints = [
            # One run of a kind at a time: a second bill run would wait on the first's locks.
            models.UniqueConstraint(
                fields=["kind"],
                condition=models.Q(status__in=["queued", "running"]),
                name="portal_run_one_active",
            )
        ]

    def __str__(self) -> str:
        return self.label


class StoredFile(models.Model):
    """A file the portal wrote (a letter batch, a NACHA file, a bill file, an export), kept in
    private storage and downloaded from its run's page by the roles allowed, each time audited."""

    run = models.ForeignKey(Run, on_delete=models.PROTECT, null=True, blank=True, related_name="files")
    name = models.CharField(max_length=200)
    path = models.CharField(max_length=500, help_text="Where it is kept, under the private storage root.")
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    permission = models.CharField(max_length=100, help_text="The permission a login needs to download it.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.name
