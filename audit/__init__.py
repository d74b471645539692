"""The audit log of security events: who logged in (or failed to) from where, who changed passwords,
roles and memberships, whose account went.

The bottom layer: it imports no other app, and every app may call `audit.record`.
"""

from typing import Any


def record(
    kind: str,
    *,
    actor_id: int | None = None,
    target_user_id: int | None = None,
    target_group_id: int | None = None,
    address: str = "",
    detail: dict[str, Any] | None = None,
):
    """Store one AuditEvent and write it as one log line (see audit/services.py)."""
    from audit.services import event_record  # models load only once the app registry is ready

    return event_record(
        kind,
        actor_id=actor_id,
        target_user_id=target_user_id,
        target_group_id=target_group_id,
        address=address,
        detail=detail,
    )
