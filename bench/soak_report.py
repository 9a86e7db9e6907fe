"""The soak's table and verdict (bench/soak.sh): reads the JSON lines of `loadgen soak`.

Prints calls, errors and p50/p99 latency per transport for each minute, the server's RSS (median
of its one-a-second samples) and CPU; then each target with PASS/FAIL, and exits 1 when any
fails: an error anywhere (a failed call, a session that could not be opened, an ERROR line in
the server's log), RSS growth >= the limit (the last minute against the first after the
warm-up), a process that died, a transport that made no call in a minute, or a run cut short.
"""

from __future__ import annotations

import argparse
import json
import math
import sys

TRANSPORTS = ("ws", "http")


def load(path: str) -> tuple[list[dict], dict | None]:
    minutes, done = [], None
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                event = json.loads(line)
                if event["event"] == "minute":
                    minutes.append(event)
                elif event["event"] == "done":
                    done = event
    return minutes, done


def table(minutes: list[dict]) -> list[str]:
    head = "| minute | " + " | ".join(
        f"{t} calls | {t} errors | {t} p50 ms | {t} p99 ms | {t} max ms" for t in TRANSPORTS
    ) + " | RSS MiB | server CPU |"
    rows = [head, "|" + " ---: |" * (head.count("|") - 1)]
    for m in minutes:
        cells = ["warm-up" if m["minute"] == 0 else str(m["minute"])]
        for t in TRANSPORTS:
            x = m["transports"][t]
            cells += [f"{x['calls']:,}", str(x["errors"]), f"{x['p50_ms']:.1f}", f"{x['p99_ms']:.1f}", f"{x['max_ms']:.0f}"]
        cells += [f"{m['rss_kib'] / 1024:.1f}", f"{m['server_cpu_pct']:.0f} %"]
        rows.append("| " + " | ".join(cells) + " |")
    return rows


def verdicts(minutes: list[dict], done: dict | None, args: argparse.Namespace) -> list[tuple[bool, str]]:
    measured = [m for m in minutes if m["minute"] > 0]
    out: list[tuple[bool, str]] = []
    want = math.ceil(args.minutes)
    out.append((done is not None and len(measured) >= want,
                f"run complete: {len(measured)} of {want} minutes measured"
                + ("" if done else ", no end record (the load generator did not finish)")))
    errors = {t: sum(m["transports"][t]["errors"] for m in minutes) for t in TRANSPORTS}
    calls = {t: sum(m["transports"][t]["calls"] for m in minutes) for t in TRANSPORTS}
    out.append((sum(errors.values()) == 0,
                "0 errors: " + ", ".join(f"{t} {errors[t]} errors in {calls[t]:,} calls" for t in TRANSPORTS)))
    idle = [f"{t} in minute {m['minute']}" for m in measured for t in TRANSPORTS
            if m["transports"][t]["calls"] == 0 and args.expect_calls[t]]
    out.append((not idle, "every transport made calls every minute" + (f" (none: {', '.join(idle)})" if idle else "")))
    if measured and measured[0]["rss_kib"] > 0:
        first, last = measured[0]["rss_kib"], measured[-1]["rss_kib"]
        growth = 100 * (last - first) / first
        out.append((growth < args.max_growth,
                    f"RSS growth {growth:+.2f} % < {args.max_growth:g} % (minute 1 {first / 1024:.1f} MiB, "
                    f"minute {measured[-1]['minute']} {last / 1024:.1f} MiB; peak {max(m['rss_max_kib'] for m in measured) / 1024:.1f} MiB)"))
    else:
        out.append((False, "RSS growth: no RSS samples after the warm-up"))
    alive = args.server_alive and not (done or {}).get("server_gone", True)
    out.append((alive, "server process alive to the end" if alive else "the server process died"))
    out.append((args.loadgen_rc == 0 and not (done or {}).get("stuck"),
                f"load generator exit status {args.loadgen_rc}, connections stuck at the end: {(done or {}).get('stuck', '?')}"))
    out.append((not args.server_errors, f"server log: {len(args.server_errors)} ERROR/Traceback lines"
                + "".join(f"\n      {line}" for line in args.server_errors[:5])))
    return out


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("jsonl")
    p.add_argument("--minutes", type=float, required=True)
    p.add_argument("--max-growth", type=float, default=5.0)
    p.add_argument("--server-alive", type=int, required=True)
    p.add_argument("--loadgen-rc", type=int, required=True)
    p.add_argument("--server-log", required=True)
    p.add_argument("--ws", type=int, required=True)
    p.add_argument("--http", type=int, required=True)
    args = p.parse_args()
    args.expect_calls = {"ws": args.ws > 0, "http": args.http > 0}
    with open(args.server_log, encoding="utf-8", errors="replace") as f:
        args.server_errors = [line.rstrip() for line in f if "ERROR" in line or "Traceback" in line]
    minutes, done = load(args.jsonl)
    print("\n".join(table(minutes)))
    if done:
        print(f"\n{done['ws_conns']} WebSocket sessions + {done['http_conns']} HTTP clients, eras {','.join(done['eras'])}; "
              f"{done['opened']} opened at the start, {done['reopens']:,} sessions re-opened during the run; {done['seconds']:.0f} s")
    print()
    results = verdicts(minutes, done, args)
    for ok, text in results:
        print(f"{'PASS' if ok else 'FAIL'}  {text}")
    failed = [text.split(":")[0] for ok, text in results if not ok]
    print("\nsoak: " + ("PASS" if not failed else "FAIL: " + "; ".join(failed)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
