"""The report of a run: the table of figures, the targets with their verdicts (rows and
targets by phase: bench/report_load.py, bench/report_scale.py), the CPU by process role, and
the exact-count checks (bench/checks.py) with what was filtered."""

from bench.checks import exactness, filtered_line
from bench.report_load import INGEST_ORDER, freshness_rows, ingest_rows, memory_rows, pipeline_rows
from bench.report_scale import catalog_rows, history_rows, settings_rows


def table(results: dict) -> tuple[str, list[dict]]:
    """The printed table of a run's results, and its targets with their verdicts."""
    rows: list[tuple[str, str, str, str]] = []
    targets: list[dict] = []
    ingest_rows(results.get("ingest", {}), rows, targets)
    pipeline_rows(results.get("pipeline", {}), rows, targets)
    freshness_rows(results, rows, targets)
    history_rows(results.get("history", {}), results.get("pipeline", {}), rows, targets)
    settings_rows(results.get("settings", {}), rows, targets)
    catalog_rows(results.get("catalog", {}), rows, targets)
    memory_rows(results, rows, targets)
    widths = [max(len(r[i]) for r in rows) for i in range(4)] if rows else [0] * 4
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    lines.append("")
    for t in targets:
        value = t["value"]
        shown = "-" if value is None else f"{value:,.2f}"
        lines.append(f"{t['result']:4s}  {t['target']:40s} {shown:>12s}  target {t['goal']}")
    lines += _cpu_lines(results)
    for name, error in results.get("errors", {}).items():
        lines.append(f"phase {name} FAILED: {error}")
    for name, what in results.get("interruptions", {}).items():
        lines.append(
            f"phase {name}: a service went away {len(what)} time(s); its timings are suspect"
        )
    checks = exactness(results)
    lines.append("")
    lines.append("exact counts: " + ", ".join(f"{k}={v}" for k, v in checks.items()))
    lines.append(filtered_line(results))
    return "\n".join(lines), targets


def _cpu_lines(results: dict) -> list[str]:
    lines = []
    ing, pipe = results.get("ingest", {}), results.get("pipeline", {})
    if ing:
        lines.append("")
        lines.append("CPU per request (ms; whole machine, by process role):")
        for name in INGEST_ORDER:
            shares = ", ".join(f"{k} {v:.2f}" for k, v in ing[name]["cpu_ms_per_request"].items())
            lines.append(f"  {name:13s} {shares}")
    if pipe:
        lines.append("CPU per event counted (µs; whole machine, by process role):")
        for w, p in pipe.items():
            shares = ", ".join(f"{k} {v:.0f}" for k, v in p["events"]["cpu_us_per_event"].items())
            noop = ", ".join(f"{k} {v:.0f}" for k, v in p["noop"]["cpu_us_per_task"].items())
            lines.append(f"  {w} worker(s): {shares}")
            lines.append(f"  no-op, concurrency {w}: {noop}")
    return lines
