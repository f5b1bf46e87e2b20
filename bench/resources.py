"""CPU and memory accounting from /proc: CPU seconds by process role across the machine, and
the resident memory of a process tree."""

import contextlib
import os
import resource
from pathlib import Path

from bench.context import LIVE, LOADERS
from bench.procs import process_tree


def _proc_stats() -> tuple[dict[int, int], dict[int, float], dict[int, str]]:
    """Parent, CPU seconds and command name of every process on the machine."""
    tick = os.sysconf("SC_CLK_TCK")
    parent: dict[int, int] = {}
    cpu: dict[int, float] = {}
    comm: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError, ValueError):
            stat = (entry / "stat").read_text()
            head, rest = stat.rsplit(")", 1)
            fields = rest.split()
            pid = int(entry.name)
            parent[pid] = int(fields[1])
            cpu[pid] = (int(fields[11]) + int(fields[12])) / tick
            comm[pid] = head.split("(", 1)[1]
    return parent, cpu, comm


def _role(pid: int, parent: dict[int, int], comm: dict[int, str]) -> str:
    """The role of this run's process the pid descends from, else one by command name."""
    role, p = None, pid
    while p > 1 and role is None:
        role = LIVE.get(p)
        p = parent.get(p, 0)
    if role is None:
        name = comm[pid]
        role = (
            "rabbitmq" if name in ("beam.smp", "epmd", "erl_child_setup", "inet_gethost")
            else "postgres" if name.startswith("postgres")
            else "load" if pid in LOADERS
            else "other"
        )  # fmt: skip
    return role


def cpu_snapshot() -> dict:
    """CPU seconds used so far by every process on the machine, each with its role: this
    run's web and workers, RabbitMQ, PostgreSQL, the load generators, everything else (other
    users of the machine). wrk runs and exits between two snapshots: its CPU comes from this
    process's reaped children."""
    parent, cpu, comm = _proc_stats()
    out: dict = {pid: (_role(pid, parent, comm), seconds) for pid, seconds in cpu.items()}
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    out["reaped"] = ("load", children.ru_utime + children.ru_stime)
    return out


def cpu_delta(before: dict, after: dict) -> dict[str, float]:
    """CPU seconds by role between two snapshots (processes that exited in between, other
    than reaped children, are missing: a lower bound for `other`)."""
    roles: dict[str, float] = {}
    for pid, (role, seconds) in after.items():
        used = seconds - before.get(pid, (role, 0.0))[1]
        roles[role] = roles.get(role, 0.0) + used
    return {role: round(seconds, 3) for role, seconds in sorted(roles.items())}


def role_cpu(role: str) -> float:
    """CPU seconds used so far by the processes of one role."""
    return sum(sec for r, sec in cpu_snapshot().values() if r == role)


def memory(pid: int) -> dict:
    """VmRSS and VmHWM (peak) in MiB of a process and each of its descendants."""
    out = {}
    for p in process_tree(pid):
        with contextlib.suppress(OSError):
            fields = dict(
                line.split(":", 1) for line in Path(f"/proc/{p}/status").read_text().splitlines()
            )
            out[p] = {
                "name": fields["Name"].strip(),
                "rss_mb": int(fields["VmRSS"].split()[0]) / 1024,
                "hwm_mb": int(fields["VmHWM"].split()[0]) / 1024,
            }
    return out


def memory_sum(pid: int) -> dict:
    per = memory(pid)
    return {
        "processes": len(per),
        "rss_mb": round(sum(p["rss_mb"] for p in per.values()), 1),
        "hwm_mb": round(sum(p["hwm_mb"] for p in per.values()), 1),
        "max_process_hwm_mb": round(max((p["hwm_mb"] for p in per.values()), default=0), 1),
    }
