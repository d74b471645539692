"""Writing the audit log: a row, and the same event as one log line for whoever reads logs instead."""

import json
import logging
from typing import Any

from django.db import transaction

from audit.models import AuditEvent

logger = logging.getLogger("audit")

# Free text in `detail` stays short: a username typed at the log-in form is attacker input.
DETAIL_TEXT_MAX = 200


def _bounded(detail: dict[str, Any] | None) -> dict[str, Any]:
    return {
        str(key)[:40]: value[:DETAIL_TEXT_MAX] if isinstance(value, str) else value
        for key, value in (detail or {}).items()
    }


def event_record(
    kind: str,
    *,
    actor_id: int | None = None,
    target_user_id: int | None = None,
    target_group_id: int | None = None,
    address: str = "",
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Store one event, inside the caller's transaction (it stays only if the change it records does).

    The log line is written once the transaction commits (at once outside one), so
    the log never shows an event that was rolled back.
    """
    if kind not in AuditEvent.Kind.values:
        raise ValueError(f"unknown audit event kind {kind!r}")
    event = AuditEvent.objects.create(
        kind=kind,
        actor_id=actor_id,
        target_user_id=target_user_id,
        target_group_id=target_group_id,
        address=(address or "")[:64],
        detail=_bounded(detail),
    )
    transaction.on_commit(lambda: _log(event))
    return event


def _log(event: AuditEvent) -> None:
    # One line (chatsite/logging.py escapes newlines): `user=` is the actor, as in every other record.
    logger.info(
        "audit %s target_user=%s target_group=%s address=%s detail=%s",
        event.kind,
        event.target_user_id if event.target_user_id is not None else "-",
        event.target_group_id if event.target_group_id is not None else "-",
        event.address or "-",
        json.dumps(event.detail, sort_keys=True, ensure_ascii=True, separators=(",", ":")),
        extra={"user_id": event.actor_id if event.actor_id is not None else "-"},
    )
