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
CPU_MAX = "/sys/fs/cgroup/cpu.max"


def usable_cpus(cpu_max: str = CPU_MAX) -> int:
    """CPUs this process may run on, capped by the cgroup v2 CPU quota (a container's CPU limit)."""
    count = len(os.sched_getaffinity(0))
    try:
        with open(cpu_max) as handle:
            quota, period = handle.read().split()[:2]
        if quota != "max":
            count = min(count, math.ceil(int(quota) / int(period)))
    except (OSError, ValueError):
        pass
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
