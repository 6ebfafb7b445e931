"""The staff audit trail: one call from each service that moves money or decides an application,
inside the service's own transaction, so the record and the change commit together."""

from django.db import models

from kernel.models import AuditEvent


def audit_record(
    *,
    actor,
    action: str,
    target: models.Model | None,
    summary: str,
    changes: dict | None = None,
    account_number: str = "",
) -> AuditEvent:
    staff = actor if actor is not None and getattr(actor, "is_authenticated", False) else None
    return AuditEvent.objects.create(
        actor=staff,
        actor_email=staff.email if staff else "",
        action=action,
        object_type=target._meta.label_lower if target is not None else "",  # None: a report, say
        object_id=str(target.pk) if target is not None else "",
        account_number=account_number,
        summary=summary[:300],
        changes=changes or {},
    )
