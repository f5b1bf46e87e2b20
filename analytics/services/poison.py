"""Parking events that can never be counted, with the reason (visible in admin)."""

import json
import logging
import uuid

from django.utils import timezone

from analytics.models import PoisonEvent
from analytics.upsert import insert_on_conflict

logger = logging.getLogger(__name__)


def poison_record(*, payload, reason: str) -> None:
    """Park a payload that can never be counted, with the reason, once per event id."""
    event_id = str(payload.get("id", ""))[:64] if isinstance(payload, dict) else ""
    event_id = event_id.replace("\x00", "\ufffd") or f"no-id-{uuid.uuid4()}"
    logger.warning("poison event %s: %s", event_id, reason)
    # PostgreSQL's text and jsonb cannot hold NUL characters, nor NaN or Infinity.
    try:
        text = json.dumps(payload, default=repr, allow_nan=False)
    except ValueError:
        text = json.dumps({"unstorable": repr(payload)[:4000]})
    stored = json.loads(text.replace("\\u0000", "\\ufffd"))
    insert_on_conflict(
        PoisonEvent,
        ["event_id", "payload", "reason", "created_at"],
        [(event_id, stored, reason.replace("\x00", "\ufffd"), timezone.now())],
        conflict=["event_id"],
    )
