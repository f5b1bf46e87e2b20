"""How much of a track a playback heard: the player's summary turned into figures.

A summary lists the ranges of the track that were played, in seconds. The track is cut
into twenty parts of 5% each; a part counts as heard when at least half of it was played.
A playback is complete when it heard at least 90% of the track, a skip when it heard less
than 10% of it or less than 5 seconds, and partial otherwise (docs/reliability.md).
"""

from collections.abc import Sequence

PARTS = 20
COMPLETE = 0.9
SKIP_SHARE = 0.1
SKIP_SECONDS = 5.0
MAX_RANGES = 100


def ranges_merge(ranges: Sequence[Sequence[float]], duration: float) -> list[tuple[float, float]]:
    """The ranges clipped to the track and merged where they overlap."""
    clipped = sorted(
        (max(0.0, float(a)), min(duration, float(b))) for a, b in ranges if min(duration, b) > a
    )
    merged: list[tuple[float, float]] = []
    for a, b in clipped:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def heard_summary(ranges: Sequence[Sequence[float]], duration: float) -> tuple[int, float]:
    """(bits of the parts heard, seconds heard) of a playback of a track of `duration`."""
    if duration <= 0:
        return 0, 0.0
    merged = ranges_merge(ranges, duration)
    part = duration / PARTS
    bits = 0
    for k in range(PARTS):
        lo, hi = k * part, (k + 1) * part
        covered = sum(max(0.0, min(b, hi) - max(a, lo)) for a, b in merged)
        if covered >= part / 2:
            bits |= 1 << k
    return bits, sum(b - a for a, b in merged)


def outcome(seconds: float, duration: float) -> str:
    """complete, partial or skip."""
    share = seconds / duration if duration > 0 else 0.0
    if share >= COMPLETE:
        return "complete"
    if share < SKIP_SHARE or seconds < SKIP_SECONDS:
        return "skip"
    return "partial"


def parts_heard(bits: int) -> list[int]:
    return [k for k in range(PARTS) if bits >> k & 1]
