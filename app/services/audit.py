"""Write the audit log. Services call :func:`record` inside their unit of work."""

from __future__ import annotations

from app.extensions import db
from models import AuditLog


def record(actor: str, action: str, *, meeting_id: int | None = None, target: str | None = None,
           ip: str | None = None, **data: object) -> AuditLog:
    entry = AuditLog(actor=actor, action=action, meeting_id=meeting_id, target=target, ip=ip, data=data)
    db.session.add(entry)
    return entry
