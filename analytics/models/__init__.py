"""Analytics storage, one module per concern."""

from analytics.models.counters import (
    ArtistListener,
    ArtistStats,
    FilteredHour,
    LikeState,
    ListenerHour,
    TrackHour,
    TrackListener,
    TrackStats,
)
from analytics.models.events import Event, EventType, FilterReason, UserAgent
from analytics.models.integrity import (
    AddressKey,
    AddressLikes,
    AddressListener,
    Block,
    BlockKind,
    IngestKey,
    ListenerSeconds,
    ListenerSlot,
)
from analytics.models.operations import PipelineHealth, PoisonEvent, ReconcileRun

__all__ = [
    "AddressKey",
    "AddressLikes",
    "AddressListener",
    "ArtistListener",
    "ArtistStats",
    "Block",
    "BlockKind",
    "Event",
    "EventType",
    "FilterReason",
    "FilteredHour",
    "IngestKey",
    "LikeState",
    "ListenerHour",
    "ListenerSeconds",
    "ListenerSlot",
    "PipelineHealth",
    "PoisonEvent",
    "ReconcileRun",
    "TrackHour",
    "TrackListener",
    "TrackStats",
    "UserAgent",
]
