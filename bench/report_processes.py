"""The table of bench/processes.sh: medians over the rounds, one process against two, per transport.

usage: report_processes.py RESULTS_DIR CPUS
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

TRANSPORTS = {"ws": "WebSocket", "http": "Streamable HTTP"}


def main(results: Path, cpus: str) -> int:
    runs: dict[tuple[str, int], list[dict]] = {}
    for path in sorted(results.glob("load-*.json")):
        transport, procs, _round = path.stem.split("-")[1:]
        runs.setdefault((transport, int(procs[1:])), []).append(json.loads(path.read_text()))
    failed = sum(r["errors"] + r["setup_errors"] for rs in runs.values() for r in rs)
    print(f"bench/processes: 2026-07-28 tools/call, {cpus} CPUs, nothing pinned; medians of "
          f"{len(next(iter(runs.values())))} interleaved rounds; {failed} failed calls")
    print("| transport | processes | calls/s | p50 ms | p99 ms | server CPU % | server CPU µs per call | load generator CPU % |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    rates = {}
    for (transport, procs), rs in sorted(runs.items()):
        med = {k: statistics.median(r.get(k, 0) for r in rs)
               for k in ("rate", "p50_ms", "p99_ms", "server_cpu_pct", "server_cpu_us_per_call", "client_cpu_pct")}
        rates[transport, procs] = med["rate"]
        print(f"| {TRANSPORTS[transport]} | {procs} | {med['rate']:.0f} | {med['p50_ms']:.2f} | {med['p99_ms']:.2f} | "
              f"{med['server_cpu_pct']:.0f} | {med['server_cpu_us_per_call']:.0f} | {med['client_cpu_pct']:.0f} |")
    for transport in TRANSPORTS:
        if (transport, 1) in rates and (transport, 2) in rates:
            print(f"{TRANSPORTS[transport]}: two processes / one = {rates[transport, 2] / rates[transport, 1]:.2f}x calls/s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), sys.argv[2]))
