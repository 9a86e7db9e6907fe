"""Several server processes on one port (SO_REUSEPORT, the kernel spreads new connections).

The parent binds nothing and runs no event loop: it forks the children first, so each builds its own
loop, MongoDB client and background tasks. It forwards SIGTERM and SIGINT to them and exits once they
have: 0, or 1 if one of them failed. A child that ends on its own (a crash) makes the parent stop
the others and exit 1, so that the pod restarts whole rather than serving at part strength unseen.
"""

from __future__ import annotations

import logging
import math
import os
import signal
from collections.abc import Callable

log = logging.getLogger("mcp_server")
CGROUP = "/sys/fs/cgroup"


def _read(path: str) -> str | None:
    try:
        with open(path) as handle:
            return handle.read().strip()
    except OSError:
        return None


def _own_v2_group(proc_cgroup: str = "/proc/self/cgroup") -> str:
    """This process's cgroup v2 path ("" inside a cgroup namespace, where it shows as "/")."""
    for line in (_read(proc_cgroup) or "").splitlines():
        if line.startswith("0::"):
            return line[3:].rstrip("/")
    return ""


def cpu_quota(cgroup: str = CGROUP, own_group: str | None = None) -> float | None:
    """The container's CPU limit in CPUs (cgroup v2 cpu.max, else v1 cfs quota), or None: no limit."""
    group = _own_v2_group() if own_group is None else own_group
    v2 = _read(f"{cgroup}{group}/cpu.max") if group else None
    v2 = v2 if v2 is not None else _read(f"{cgroup}/cpu.max")
    try:
        if v2 is not None:
            quota, period = v2.split()[:2]
            return None if quota == "max" else int(quota) / int(period)
        quota, period = _read(f"{cgroup}/cpu/cpu.cfs_quota_us"), _read(f"{cgroup}/cpu/cpu.cfs_period_us")
        if quota is None or period is None or int(quota) <= 0:
            return None
        return int(quota) / int(period)
    except ValueError:
        return None


def usable_cpus(cgroup: str = CGROUP, own_group: str | None = None) -> int:
    """CPUs this process may run on, capped by the container's CPU limit (rounded up)."""
    count = len(os.sched_getaffinity(0))
    quota = cpu_quota(cgroup, own_group)
    if quota is not None:
        count = min(count, math.ceil(quota))
    return max(1, count)


def process_count(setting: int) -> int:
    """MCP_PROCESSES: a number of processes, or 0 for one per usable CPU."""
    return setting if setting > 0 else usable_cpus()


def run_children(count: int, child: Callable[[int], int]) -> int:
    """Fork `count` children running child(index); supervise them until all have ended."""
    children: dict[int, int] = {}
    stopping = False

    def stop_all(signum: int) -> None:
        for pid in children:
            try:
                os.kill(pid, signum)
            except ProcessLookupError:
                pass

    def forward(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True
        stop_all(signum)

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, forward)
    for index in range(count):
        pid = os.fork()
        if pid == 0:
            for signum in (signal.SIGTERM, signal.SIGINT):
                signal.signal(signum, signal.SIG_DFL)
            code = 1
            try:
                code = child(index)
            except BaseException:
                log.exception("server process failed", extra={"process_index": index})
            finally:
                logging.shutdown()
                os._exit(code)
        children[pid] = index
    log.info("processes started", extra={"processes": count, "pids": sorted(children)})

    status = 0
    try:
        while children:
            try:
                pid, wait_status = os.wait()
            except ChildProcessError:
                break
            index = children.pop(pid, None)
            code = os.waitstatus_to_exitcode(wait_status)
            if not stopping:
                stopping = True
                status = 1
                stop_all(signal.SIGTERM)
                log.error("a server process ended on its own; stopping the others",
                          extra={"process_index": index, "pid": pid, "exit_code": code})
            elif code != 0:
                status = 1
    finally:
        stop_all(signal.SIGTERM)  # the parent itself failing leaves no child behind
    return status
