"""The audit log of security events: who logged in (or failed to) from where, who changed passwords,
roles and memberships, whose account went.

The bottom layer: it imports no other app, and every app may call `audit.record`.
"""

from typing import Any


def record(kind: str, **fields: Any):
    """Store one AuditEvent and write it as one log line: `audit.services.event_record`, with its keyword
    arguments (`actor_id`, `target_user_id`, `target_group_id`, `address`, `detail`). Imported when
    called, since models load only once the app registry is ready."""
    from audit.services import event_record

    return event_record(kind, **fields)
