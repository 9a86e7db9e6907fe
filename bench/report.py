"""Print bench/run.sh's results side by side, with ratios and targets.

    python bench/report.py RESULTS_DIR [--env TEXT] [--sdk TEXT] [--cpus TEXT]

Exit status 1 when any run had errors (failed calls, sessions not opened, dropped
sessions), else 0, whether the targets are met or not.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import report_peers

TARGET_ECHO_RATIO = 0.60   # ours / echo, at least
TARGET_SDK_RATIO = 20.0    # ours / SDK, at least
TARGET_KIB_SESSION = 20.0  # KiB per idle session, less than
# ours / echo before the 2026-07-28 era was added, per connection count: the WebSocket path must
# not have become slower (informational, like the others).
TARGET_WS_BEFORE = {1: 0.60, 50: 0.83}
# A 2025 HTTP session recorded in MongoDB (any replica serves it) against one in process memory.
TARGET_SHARED_SESSION = 0.90
SHARED_SESSION_CONNS = 50

NAMES = {
    "ours": "ours: mcp_server, WebSocket, 2025 session",
    "echo": "bare Tornado WebSocket echo",
    "sdk": "SDK 2.x MCPServer, Streamable HTTP (default)",
    "sdk_fast": "SDK 2.x + uvloop/httptools (info)",
    "ours_ws_2026": "ours: WebSocket, stateless 2026-07-28 (info)",
    "ours_http": "ours: Streamable HTTP, 2025 session (info)",
    "ours_http_memory": "ours: Streamable HTTP, 2025 session in memory (info)",
    "ours_http_2026": "ours: Streamable HTTP, stateless 2026-07-28 (info)",
}
ORDER = ["ours", "echo", "sdk", "sdk_fast", "ours_ws_2026", "ours_http_memory", "ours_http", "ours_http_2026"]
# (2026 row, 2025 row, transport): the same process and transport, the two protocol eras.
ERA_PAIRS = [("ours_ws_2026", "ours", "WebSocket"), ("ours_http_2026", "ours_http", "Streamable HTTP")]


def load(path: Path) -> dict | None:
    return json.loads(path.read_text()) if path.exists() else None


def mark(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def aggregate(res: Path) -> dict[tuple[str, int], dict]:
    """Each (server, conns) was measured in several interleaved rounds: they are added up."""
    rounds: dict[tuple[str, int], list[dict]] = {}
    for path in sorted(res.glob("load-*.json")):
        data = json.loads(path.read_text())
        rounds.setdefault((data["label"], data["conns"]), []).append(data)
    runs: dict[tuple[str, int], dict] = {}
    for key, rs in rounds.items():
        calls = sum(r["calls"] for r in rs)
        duration = sum(r["duration_s"] for r in rs)
        cpu = sum(r.get("server_cpu_s", 0.0) for r in rs)
        runs[key] = {
            "label": key[0], "conns": key[1], "rounds": len(rs), "calls": calls, "duration_s": duration,
            "warmup_s": rs[0]["warmup_s"], "round_s": rs[0]["duration_s"],
            "rate": calls / duration if duration else 0.0,
            "rates": [r["rate"] for r in rs],
            "p50_ms": sum(r["p50_ms"] for r in rs) / len(rs),
            "p99_ms": sum(r["p99_ms"] for r in rs) / len(rs),
            "errors": sum(r["errors"] for r in rs), "setup_errors": sum(r["setup_errors"] for r in rs),
            "error_samples": [e for r in rs for e in r["error_samples"]][:5],
            "cpu_pct": 100 * cpu / duration if duration else 0.0,
            "cpu_us_call": 1e6 * cpu / calls if calls else 0.0,
            "client_cpu_pct": sum(r.get("client_cpu_pct", 0.0) for r in rs) / len(rs),
        }
    return runs


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("results", type=Path)
    ap.add_argument("--env", default="")
    ap.add_argument("--sdk", default="")
    ap.add_argument("--cpus", default="")
    ap.add_argument("--steal", default="")
    args = ap.parse_args()
    res: Path = args.results

    runs = aggregate(res)
    conns = sorted({c for _, c in runs})
    peers = report_peers.load(res)
    names = {**NAMES, **report_peers.names(peers)}
    kinds = [k for k in ORDER + list(report_peers.names(peers)) if any((k, c) in runs for c in conns)]

    problems: list[str] = []
    out: list[str] = []
    p = out.append
    p("")
    p("=" * 100)
    p("MCP server benchmark: tools/call test_simple_text round trips (closed loop, one request in flight per connection)")
    if args.cpus:
        p(f"pinning: {args.cpus}")
    if args.steal:
        p(args.steal)
    if args.env:
        p(f"ours/echo: {args.env}")
    if args.sdk:
        p(f"SDK: {args.sdk}; stateful sessions, json_response=False (SSE answers)")
    any_run = next(iter(runs.values()), None)
    if any_run:
        p(f"each figure: {any_run['rounds']} interleaved rounds of ({any_run['warmup_s']:g} s warm-up + "
          f"{any_run['round_s']:g} s measured) on fresh connections; rate = calls / measured time; p50/p99 = mean over rounds")
        p("server CPU = user+system time of the server process over the measured time (100% = the one pinned CPU); "
          "client = the same for the load generator (* = saturated, its CPU bounds the rate)")
    if any(k.endswith("_2026") for k, _ in runs):
        p("2025 rows: initialize once per connection, then calls in that session; 2026-07-28 rows: stateless requests "
          "(the _meta envelope in each; over HTTP also MCP-Protocol-Version/Mcp-Method/Mcp-Name headers, no session)")
    p("=" * 100)
    p("")
    width = max([48] + [len(names.get(k, k)) for k in kinds])
    p(f"{'server':<{width}} {'conns':>5} {'calls/s':>9} {'rounds (calls/s)':>17} {'p50 ms':>8} {'p99 ms':>8} "
      f"{'CPU':>5} {'CPU us/call':>11} {'client':>7} {'errors':>6}")
    for kind in kinds:
        for c in conns:
            r = runs.get((kind, c))
            if r is None:
                continue
            errors = r["errors"] + r["setup_errors"]
            spread = "/".join(f"{x:.0f}" for x in r["rates"])
            client = f"{r['client_cpu_pct']:.0f}%{'*' if report_peers.saturated(r) else ' '}"
            p(f"{names.get(kind, kind):<{width}} {c:>5} {r['rate']:>9.0f} {spread:>17} {r['p50_ms']:>8.3f} {r['p99_ms']:>8.3f} "
              f"{r['cpu_pct']:>4.0f}% {r['cpu_us_call']:>11.1f} {client:>7} {errors:>6}")
            if errors:
                problems.append(f"{kind} @ {c} conns: {errors} error(s): {'; '.join(r['error_samples'])}")
            if r["calls"] == 0:
                problems.append(f"{kind} @ {c} conns: no call completed")

    def rate(kind: str, c: int) -> float | None:
        r = runs.get((kind, c))
        return r["rate"] if r and r["rate"] > 0 else None

    def cpu_us(kind: str, c: int) -> float | None:
        r = runs.get((kind, c))
        return r["cpu_us_call"] if r and r["cpu_us_call"] > 0 else None

    def cols(k: str) -> int:
        return max(11, len(k) + 2)

    p("")
    p("side by side (calls/s)")
    side = [k for k in kinds if k in NAMES]   # the peers have a section of their own
    header = f"{'conns':>5} " + "".join(f"{k:>{cols(k)}}" for k in side) + f"{'ours/echo':>12}{'ours/SDK':>11}"
    if "sdk_fast" in kinds:
        header += f"{'ours/SDKfast':>14}"
    p(header)
    targets: list[tuple[str, str, bool | None]] = []
    for c in conns:
        row = f"{c:>5} " + "".join(f"{(rate(k, c) or 0):>{cols(k)}.0f}" for k in side)
        ours, echo, sdk, fast = rate("ours", c), rate("echo", c), rate("sdk", c), rate("sdk_fast", c)
        re_ = ours / echo if ours and echo else None
        rs = ours / sdk if ours and sdk else None
        row += f"{(f'{re_:.2f}' if re_ else 'n/a'):>12}{(f'{rs:.1f}x' if rs else 'n/a'):>11}"
        if "sdk_fast" in kinds:
            rf = ours / fast if ours and fast else None
            row += f"{(f'{rf:.1f}x' if rf else 'n/a'):>14}"
        p(row)
        targets.append((f"ours/echo at {c:>2} conn(s) >= {TARGET_ECHO_RATIO:.2f}",
                        f"{re_:.2f}" if re_ else "n/a", None if re_ is None else re_ >= TARGET_ECHO_RATIO))
        targets.append((f"ours/SDK  at {c:>2} conn(s) >= {TARGET_SDK_RATIO:.0f}x",
                        f"{rs:.1f}x" if rs else "n/a", None if rs is None else rs >= TARGET_SDK_RATIO))

    # The WebSocket path as it was before 2026-07-28 came in: both concurrencies must hold.
    before = {c: (rate("ours", c) / rate("echo", c) if rate("ours", c) and rate("echo", c) else None)
              for c in TARGET_WS_BEFORE}
    known = [v for v in before.values() if v is not None]
    (c1, t1), (c2, t2) = TARGET_WS_BEFORE.items()
    targets.append((
        f"WebSocket figures no worse than before: ours/echo >= {t1:.2f} at {c1} conn and >= {t2:.2f} at {c2}",
        "/".join(f"{v:.2f}" if v is not None else "n/a" for v in before.values()),
        None if len(known) < len(before) else all(v >= TARGET_WS_BEFORE[c] for c, v in before.items() if v is not None)))

    shared, memory = rate("ours_http", SHARED_SESSION_CONNS), rate("ours_http_memory", SHARED_SESSION_CONNS)
    ratio = shared / memory if shared and memory else None
    targets.append((f"2025 HTTP session shared/in memory at {SHARED_SESSION_CONNS} conns >= {TARGET_SHARED_SESSION:.2f}",
                    f"{ratio:.2f}" if ratio else "n/a", None if ratio is None else ratio >= TARGET_SHARED_SESSION))

    pairs = [(new, old, transport) for new, old, transport in ERA_PAIRS if new in kinds and old in kinds]
    if pairs:
        p("")
        p("stateless 2026-07-28 against a 2025 session, same process and transport "
          "(calls/s ratio > 1: 2026 is faster; CPU ratio > 1: 2026 costs more per call)")
        labels = {new: f"{new} / {old} ({transport})" for new, old, transport in pairs}
        lw = max(len(label) for label in labels.values())
        p(f"{'ratio':<{lw}} {'conns':>5} {'2025 calls/s':>13} {'2026 calls/s':>13} {'calls/s ratio':>14} "
          f"{'2025 us/call':>13} {'2026 us/call':>13} {'CPU ratio':>10}")
        for new, old, transport in pairs:
            for c in conns:
                rn, ro, cn, co = rate(new, c), rate(old, c), cpu_us(new, c), cpu_us(old, c)
                if rn is None and ro is None:
                    continue
                p(f"{labels[new]:<{lw}} {c:>5} {(ro or 0):>13.0f} {(rn or 0):>13.0f} "
                  f"{(f'{rn / ro:.2f}' if rn and ro else 'n/a'):>14} {(co or 0):>13.1f} {(cn or 0):>13.1f} "
                  f"{(f'{cn / co:.2f}' if cn and co else 'n/a'):>10}")

    out.extend(report_peers.section(peers, runs, conns))

    p("")
    p("memory per idle WebSocket session (initialize + notifications/initialized, then idle; VmRSS of the server)")
    p(f"{'server':<48} {'sessions':>8} {'RSS before':>11} {'RSS after':>11} {'KiB/session':>12}")
    per_session: dict[str, float] = {}
    for kind in ("ours", "echo"):
        m = load(res / f"mem-{kind}.json")
        if m is None:
            continue
        events = [json.loads(line) for line in (res / f"mem-{kind}.jsonl").read_text().splitlines() if line.strip()] \
            if (res / f"mem-{kind}.jsonl").exists() else []
        ready = next((e for e in events if e.get("event") == "ready"), None)
        done = next((e for e in events if e.get("event") == "done"), None)
        opened = ready["opened"] if ready else 0
        if not ready or opened < m["sessions"] or ready.get("errors"):
            problems.append(f"memory {kind}: opened {opened} of {m['sessions']} sessions; "
                            f"errors: {ready.get('error_samples') if ready else 'no ready event'}")
        if not done:
            problems.append(f"memory {kind}: idle load generator did not report at the end")
        elif done.get("dropped") or done.get("errors"):
            problems.append(f"memory {kind}: {done.get('dropped')} session(s) dropped while idle: {done.get('error_samples')}")
        kib = (m["rss_after_kib"] - m["rss_before_kib"]) / opened if opened else float("nan")
        per_session[kind] = kib
        p(f"{NAMES[kind]:<48} {opened:>8} {m['rss_before_kib']:>8} KiB {m['rss_after_kib']:>8} KiB {kib:>12.1f}")
    if "ours" in per_session and "echo" in per_session:
        p(f"{'MCP overhead over the bare WebSocket':<48} {'':>8} {'':>11} {'':>11} "
          f"{per_session['ours'] - per_session['echo']:>12.1f}")
    if "ours" in per_session:
        kib = per_session["ours"]
        targets.append((f"KiB per idle session < {TARGET_KIB_SESSION:.0f}", f"{kib:.1f}", kib < TARGET_KIB_SESSION))

    p("")
    p("targets")
    for name, value, ok in targets:
        p(f"  {name:<34} {value:>9}  {'n/a' if ok is None else mark(ok)}")
    if problems:
        p("")
        p("ERRORS (the run is not valid):")
        for problem in problems:
            p(f"  - {problem}")
    p("")
    print("\n".join(out))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
