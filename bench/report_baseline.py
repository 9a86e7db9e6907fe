"""ours / base for each row that `BENCH_BASELINE` added to a `bench/run.sh` run: the same requests,
interleaved in the same run, against our server and against the baseline checkout's."""

from __future__ import annotations

import sys
from pathlib import Path

from report import aggregate

PAIRS = (("ours", "base", "WebSocket, 2025 session"), ("ours_ws_2026", "base_ws_2026", "WebSocket, 2026-07-28"),
         ("ours_http_2026", "base_http_2026", "HTTP, 2026-07-28"))


def main() -> int:
    runs = aggregate(Path(sys.argv[1]))
    print("")
    print(f"ours against the baseline ({sys.argv[2]}), interleaved in this run:")
    print(f"{'row':<24} {'conns':>5} {'calls/s ours':>13} {'base':>9} {'ratio':>6} {'CPU us/call ours':>17} {'base':>7} {'ratio':>6}")
    for ours, base, title in PAIRS:
        for conns in sorted({c for kind, c in runs if kind == base}):
            a, b = runs.get((ours, conns)), runs.get((base, conns))
            if not a or not b or not b["rate"] or not b["cpu_us_call"]:
                continue
            print(f"{title:<24} {conns:>5} {a['rate']:>13.0f} {b['rate']:>9.0f} {a['rate'] / b['rate']:>6.2f} "
                  f"{a['cpu_us_call']:>17.1f} {b['cpu_us_call']:>7.1f} {a['cpu_us_call'] / b['cpu_us_call']:>6.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
