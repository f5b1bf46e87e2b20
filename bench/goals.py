"""The goals a run is held to (docs/performance.md, "Targets and ratios"), and a target's
verdict: each figure is a ratio to a baseline measured in the same run, or a bound."""

CAPTURE_VS_NAIVE = 1.5  # single-event capture, req/s, against the naive synchronous view
CAPTURE_VS_BARE = 0.9  # ... against the bare DRF view
BATCHED_EVENTS_PER_S = 10_000  # capture in arrays of 50, relaying included
PIPELINE_VS_NOOP = 2.5  # counting against Celery's no-op drain
FRESHNESS_P99_MS = {"50": 1000, "90": 2000}  # 202 to visible, at 50% and 90% of sustained
HISTORY_BIG_VS_SMALL = 1.2  # p50 of a page on the large history against the small one
WRITES_FLAT = 0.8  # counting on the large history, against an empty store, tuned settings
CATALOG_VS_DEMO = 0.8  # a fan page's rate with the big catalog against the demo's
MEMORY_GROWTH = 0.10  # worker RSS growth over the soak


def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else "PASS" if ok else "MISS"


def target(name: str, value: float | None, goal: str, ok: bool | None) -> dict:
    """One line of the targets: what was measured, its goal and the verdict."""
    return {"target": name, "value": value, "goal": goal, "result": verdict(ok)}
