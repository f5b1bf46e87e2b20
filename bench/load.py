"""HTTP load on the bench's gunicorn: closed-loop wrk runs (events posted, pages read) and
fixed-rate open-loop senders (bench/openloop.py) with freshness markers."""

import json
import os
import shutil
import subprocess
import sys
import uuid

from bench.context import BENCH, LOADERS, WRK_CONNECTIONS, WRK_THREADS, log
from bench.fans import LISTENERS, LISTENERS_PER_ADDRESS, PLAY_SECONDS, ingest_headers


def wrk_ensure() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        log("installing wrk (Debian package)")
        quiet = {"check": False, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        subprocess.run(["apt-get", "update", "-qq"], **quiet)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], **quiet)
    found = shutil.which("wrk")
    if not found:
        sys.exit("bench: wrk is missing; install it with `apt-get install wrk` (Debian).")
    return found


def wrk(
    args,
    path: str,
    seconds: float,
    *,
    script: str,
    script_args=(),
    headers=(),
    c=None,
    t=None,
    port=None,
):
    seconds = max(1, round(seconds))  # wrk takes whole seconds
    command = [
        args.wrk, f"-t{t or WRK_THREADS}", f"-c{c or WRK_CONNECTIONS}", f"-d{seconds}s",
        "--timeout", "10s", "-s", str(BENCH / "lua" / script),
    ]  # fmt: skip
    for header in headers:
        command += ["-H", header]
    command += [f"http://127.0.0.1:{port or args.port}{path}", "--", *map(str, script_args)]
    out = subprocess.run(command, capture_output=True, text=True, check=False, timeout=seconds + 60)
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("BENCH_JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk failed: {out.stdout[-1000:]} {out.stderr[-1000:]}")
    result = json.loads(line.removeprefix("BENCH_JSON "))
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    result["ok"] = sum(n for code, n in result["by_status"].items() if code.startswith("2"))
    return result


def nonce() -> str:
    return uuid.uuid4().hex[:8]


def post_load(args, path: str, seconds: float, per_request: int, seed_info: dict) -> dict:
    """wrk posting fan events as the bench's ingest-key client (bench/fans.py)."""
    headers = ingest_headers(seed_info["ingest_key"])
    return wrk(
        args,
        path,
        seconds,
        script="events.lua",
        script_args=(
            per_request,
            seed_info["first_track"],
            seed_info["last_track"],
            nonce(),
            LISTENERS,
            LISTENERS_PER_ADDRESS,
            PLAY_SECONDS,
        ),
        headers=[f"{name}: {value}" for name, value in headers.items()],
    )


def openloop(args, mode, seed_info, rate: float, processes: int = 2) -> dict:
    """Fixed-rate load from `processes` sender processes; the first also samples markers."""
    procs = []
    for i in range(processes):
        command = [sys.executable, str(BENCH / "openloop.py"), "--port", str(args.port)]
        command += ["--rate", f"{rate / processes:.2f}", "--duration", str(mode["fresh_seconds"])]
        command += ["--threads", "64", "--token", seed_info["token"]]
        command += ["--ingest-key", seed_info["ingest_key"]]
        command += ["--first-track", str(seed_info["first_track"])]
        command += ["--last-track", str(seed_info["last_track"])]
        if i == 0:
            command += ["--marker-tracks", ",".join(map(str, seed_info["markers"]))]
        procs.append(subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE))
        LOADERS.add(procs[-1].pid)
    outs = []
    for proc in procs:
        stdout, stderr = proc.communicate(timeout=mode["fresh_seconds"] + 180)
        if proc.returncode != 0:
            raise RuntimeError(f"open-loop sender failed: {stderr.decode()[-2000:]}")
        outs.append(json.loads(stdout.decode().strip().splitlines()[-1]))
    merged = _openloop_merge(outs)
    merged["rate_offered"] = rate
    merged["processes"] = processes
    return merged


def _openloop_merge(outs: list[dict]) -> dict:
    """One result of the senders' own: sums of rates and counts, the worse of the latencies,
    the first sender's marker samples."""
    merged = dict(outs[0])
    merged["rate_achieved"] = sum(o["rate_achieved"] for o in outs)
    merged["sent"] = sum(o["sent"] for o in outs)
    merged["by_status"] = add_counts(o["by_status"] for o in outs)
    for key in ("late_p50_ms", "late_p99_ms", "latency_p50_ms", "latency_p99_ms"):
        merged[key] = max(o[key] for o in outs)  # the worse of the senders
    return merged


def add_counts(counts) -> dict[str, int]:
    """The sum of several {status code: count} maps."""
    total: dict[str, int] = {}
    for by_status in counts:
        for code, n in by_status.items():
            total[code] = total.get(code, 0) + n
    return total
