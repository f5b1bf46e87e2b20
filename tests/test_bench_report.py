"""The bench's report of a stored run: its targets, goals and verdicts as docs/performance.md
gives them for that run."""

import json

from bench.report import table
from tests.conftest import ROOT

HISTORY = ROOT / "bench" / "results" / "history"


def _targets(name: str) -> dict[str, tuple[str, str, str]]:
    text, targets = table(json.loads((HISTORY / name).read_text()))
    assert all(f"target {t['goal']}" in text for t in targets)
    return {t["target"]: (f"{t['value']:.2f}", t["goal"], t["result"]) for t in targets}


def test_the_latest_full_runs_targets():
    targets = _targets("20261130T1810Z.json")
    assert targets["ingest single / naive (req/s)"] == ("1.98", ">= 1.5", "PASS")
    assert targets["ingest batched events/s"] == ("18442.68", ">= 10000", "PASS")
    assert targets["pipeline 1 worker / Celery no-op"] == ("1.80", ">= 2.5", "MISS")
    assert targets["freshness p99 at 90% (ms)"] == ("1178.07", "<= 2000", "PASS")
    assert targets["worker RSS growth over soak"] == ("0.00", "< 0.10", "PASS")


def test_the_history_phases_targets():
    targets = _targets("20261130T1841Z-history.json")
    assert targets["history dashboard p50 big / small"] == ("1.15", "<= 1.2", "PASS")
    assert targets["history track_stats_api_12m p50 big / small"] == ("1.80", "<= 1.2", "MISS")
    assert not any("_all" in name for name in targets)  # shown, held to no goal
