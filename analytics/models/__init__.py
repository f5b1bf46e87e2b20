"""Analytics storage, one module per concern."""

from analytics.models.counters import (
    ArtistStats,
    FilteredHour,
    LikeState,
    ListenerHour,
    TrackFiltered,
    TrackHour,
    TrackStats,
)
from analytics.models.events import (
    FOLLOW_TYPES,
    Event,
    EventKey,
    EventType,
    FilterReason,
    UserAgent,
)
from analytics.models.follows import FollowEvent, FollowState
from analytics.models.integrity import (
    AddressFollows,
    AddressHour,
    AddressKey,
    Block,
    BlockKind,
    IngestKey,
    ListenerHourUse,
)
from analytics.models.operations import (
    CountingFailure,
    PipelineHealth,
    PoisonEvent,
    ReconcileRun,
    WorkerPool,
)
from analytics.models.rollups import (
    BreakdownListener,
    ListenerDay,
    ReachCell,
    Rollup,
    SuperListeners,
)
from analytics.models.trending import TrendingTrack

__all__ = [
    "FOLLOW_TYPES",
    "AddressFollows",
    "AddressHour",
    "AddressKey",
    "ArtistStats",
    "Block",
    "BreakdownListener",
    "BlockKind",
    "CountingFailure",
    "Event",
    "EventKey",
    "EventType",
    "FilterReason",
    "FilteredHour",
    "FollowEvent",
    "FollowState",
    "IngestKey",
    "LikeState",
    "ListenerDay",
    "ListenerHour",
    "ListenerHourUse",
    "PipelineHealth",
    "PoisonEvent",
    "WorkerPool",
    "ReachCell",
    "ReconcileRun",
    "Rollup",
    "TrackFiltered",
    "TrackHour",
    "SuperListeners",
    "TrackStats",
    "TrendingTrack",
    "UserAgent",
]
