"""The exact-count checks of a run: every accepted event stored once, and every stored event
either credited (the hourly counters and the daily rollups take credited events only) or
filtered with a reason (FilteredHour, and the rollups' "filtered"). Filtered events are
counted and reported by reason, never taken as lost."""

from bench.context import retry
from bench.db import sql

TALLY_SQL = """
SELECT (SELECT count(*) FROM analytics_event),
       (SELECT coalesce(sum(plays + likes + unlikes), 0) FROM analytics_trackhour),
       (SELECT coalesce(sum(events), 0) FROM analytics_filteredhour),
       (SELECT coalesce(sum(plays), 0) FROM analytics_trackstats),
       (SELECT count(*) FROM analytics_event WHERE type = 'play' AND reason <> ''),
       (SELECT coalesce(sum(n), 0) FROM analytics_rollup WHERE scope = 't' AND span = 'd'
          AND metric IN ('plays', 'likes', 'unlikes')),
       (SELECT coalesce(sum(n), 0) FROM analytics_rollup WHERE scope = 't' AND span = 'd'
          AND metric = 'filtered')
"""
FIGURES = (
    "events", "credited", "filtered", "plays_credited", "plays_filtered", "days_credited",
    "days_filtered",
)  # fmt: skip
REASONS_SQL = "SELECT reason, sum(events) FROM analytics_filteredhour GROUP BY reason"


def tally() -> dict:
    """What the store holds: events stored, events credited (hourly counters), filtered
    (filtered hours, also by reason), plays credited (track counters), plays filtered."""

    def read() -> dict:
        row = sql(TALLY_SQL, fetch=True)[0]
        reasons = {reason: int(n) for reason, n in sql(REASONS_SQL, fetch=True)}
        return {**dict(zip(FIGURES, map(int, row), strict=True)), "by_reason": reasons}

    return retry("reading the counts", read)


def tally_change(before: dict, after: dict) -> dict:
    """What was added between two tallies."""
    change: dict = {name: after[name] - before[name] for name in FIGURES}
    reasons = sorted(after["by_reason"].keys() | before["by_reason"].keys())
    change["by_reason"] = {
        reason: n
        for reason in reasons
        if (n := after["by_reason"].get(reason, 0) - before["by_reason"].get(reason, 0))
    }
    return change


def counted_check(change: dict, accepted: int, *, sent: int | None = None) -> dict:
    """What the accepted events became: each stored once (with `sent`, between the 202s wrk
    read and the events it sent: it stops with requests in flight), each stored one credited
    or filtered."""
    stored = change["events"]
    stored_ok = stored == accepted if sent is None else accepted <= stored <= sent
    return {
        "counted": stored,
        "credited": change["credited"],
        "filtered": change["filtered"],
        "filtered_by_reason": change["by_reason"],
        # The artist's local days hold what the hours hold.
        "exact": stored_ok
        and change["credited"] + change["filtered"] == stored
        and (change["days_credited"], change["days_filtered"])
        == (change["credited"], change["filtered"]),
    }


def checked(results: dict) -> dict[str, dict]:
    """The result of each count a run checked, by name."""
    found = {}
    if "http_drain" in results:
        found["http"] = results["http_drain"]
    for w, p in results.get("pipeline", {}).items():
        found[f"pipeline_{w}"] = p["events"]
    for share, f in results.get("freshness", {}).items():
        found[f"freshness_{share}"] = f
    if "soak" in results:
        found["soak"] = results["soak"]
    return found


def exactness(results: dict) -> dict[str, bool]:
    return {name: check["exact"] for name, check in checked(results).items()}


def filtered_line(results: dict) -> str:
    """How many of each check's events were stored but not credited, and why."""
    parts = []
    for name, check in checked(results).items():
        if "filtered" in check:  # absent in runs from before the integrity rules
            why = ", ".join(f"{r} {n}" for r, n in check["filtered_by_reason"].items())
            parts.append(f"{name}={check['filtered']}" + (f" ({why})" if why else ""))
    return "filtered (stored, not credited): " + (", ".join(parts) or "-")
