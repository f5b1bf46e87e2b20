"""`make bench-smoke`: the benchmark runs end to end and every count it checks is exact:
each accepted event stored once, and each stored one credited or filtered with a reason.

No timing is asserted: the figures of a tiny run on a shared machine mean nothing. Nor is
it asserted that nothing was filtered: the rules may filter a rare repeat of random fans.
"""

import contextlib
import json
import os
import subprocess
import sys

import psycopg2
import pytest

from tests.conftest import ROOT

pytestmark = [pytest.mark.slow, pytest.mark.integration]


def test_bench_smoke_counts_are_exact(tmp_path):
    tag = f"benchsmoke{os.getpid()}"
    db = f"mvsic_{tag}"
    out = tmp_path / "results.json"
    try:
        run = subprocess.run(
            [sys.executable, "bench/run.py", "--smoke", "--db", db, "--tag", tag, "--json", out],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
    finally:
        # Best effort: another test may have the database server down for a moment.
        with contextlib.suppress(psycopg2.Error):
            conn = psycopg2.connect(host="127.0.0.1", user="postgres", dbname="postgres")
            conn.autocommit = True
            with conn.cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
            conn.close()
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    results = json.loads(out.read_text())
    assert set(results["exact"]) >= {"http", "pipeline_1", "freshness_50", "freshness_90", "soak"}
    assert all(results["exact"].values()), results["exact"]
    pipeline = results["pipeline"]["1"]["events"]
    assert pipeline["counted"] == pipeline["published"]
    assert pipeline["plays_credited"] + pipeline["plays_filtered"] == pipeline["plays_published"]
    assert results["soak"]["counted"] == results["soak"]["events"] + min(
        50_000, max(results["soak"]["events"] // 10, 100)
    )
    checks = [
        results["http_drain"],
        pipeline,
        *results["freshness"].values(),
        results["soak"],
    ]
    for check in checks:
        assert check["counted"] > 0, check
        assert check["credited"] + check["filtered"] == check["counted"], check
        assert sum(check["filtered_by_reason"].values()) == check["filtered"], check
    # The bench's ingest key and events were taken: none refused as bad, unauthorised or
    # over a rate limit (the baselines identify and validate alike).
    for name, endpoint in results["ingest"].items():
        assert not {"400", "401", "403", "429"} & set(endpoint["by_status"]), (name, endpoint)
    # The fan pages answered on the demo catalog and on the generated one (all 200s).
    catalog = results["catalog"]
    assert catalog["big"]["artists"] >= catalog["artists"]
    assert catalog["big"]["tracks"] >= catalog["tracks"]
    assert catalog["big"]["events"] == catalog["events"]
    assert set(catalog["ratios"]) >= {"home", "artist", "track", "tag", "search"}
    assert all(p["big_rps"] > 0 for p in catalog["pages"].values())
    assert "PASS" in results["table"] or "MISS" in results["table"]
    assert "filtered (stored, not credited): http=" in results["table"]
