"""A listener's latest on/off state of something (a track's like, an artist's follow): the
batch's latest event per (key, listener) is upserted, and a later-stamped event always wins,
over the batch's other events and over the stored state."""

from collections.abc import Iterable, Sequence

from analytics.payloads import CountableEvent
from analytics.services.integrity import event_order
from analytics.upsert import insert_on_conflict, table


def latest_states(
    events: Iterable[CountableEvent], key: str
) -> dict[tuple[int, str], CountableEvent]:
    """The latest event of each (event.<key>, listener), in key order."""
    latest: dict[tuple[int, str], CountableEvent] = {}
    for e in sorted(events, key=event_order):
        latest[(getattr(e, key), e.listener)] = e
    return dict(sorted(latest.items()))


def states_write(
    model,
    latest: dict[tuple[int, str], CountableEvent],
    *,
    key: str,
    flag: str,
    on: str,
    returning: Sequence[str] = (),
) -> list[tuple]:
    """Store each latest event as the state (`flag` true for an event of type `on`) unless the
    stored one is later; the `returning` columns of the rows written."""
    t = table(model)
    return insert_on_conflict(
        model,
        [key, "listener", flag, "ts", "received_at", "event_id"],
        (
            (k, listener, e.type == on, e.ts, e.received_at, e.id)
            for (k, listener), e in latest.items()
        ),
        conflict=[key, "listener"],
        update_sql=(
            f"{flag} = excluded.{flag}, ts = excluded.ts, received_at = excluded.received_at, "
            "event_id = excluded.event_id "
            f"WHERE (excluded.ts, excluded.received_at, excluded.event_id) > "
            f"({t}.ts, {t}.received_at, {t}.event_id)"
        ),
        returning=returning,
    )
