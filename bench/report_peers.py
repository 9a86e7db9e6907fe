"""The other MCP servers' part of bench/report.py: names, and ours against each peer.

bench/peers/rows.sh writes RESULTS/peers.tsv, one line per peer row: row, era, status (measured,
refused, not built, not started), package and version, mode, note (why it was not measured).
"""

from __future__ import annotations

from pathlib import Path

# Our four rows, the "ours" of every ratio.
OURS = [("ours", "WS 2025"), ("ours_ws_2026", "WS 2026"), ("ours_http", "HTTP 2025"), ("ours_http_2026", "HTTP 2026")]
# Our HTTP row in the same era as a peer row, for the CPU ratio.
OURS_HTTP_BY_ERA = {"2025": "ours_http", "2026": "ours_http_2026"}
# Above this share of its one CPU the load generator, not the server, bounds the rate.
CLIENT_SATURATED_PCT = 90.0
# Names of the servers run.sh starts itself (peers built by bench/peers/build.sh name themselves).
LOCAL = {"sdk": "Python SDK", "tornado_fixed": "Tornado"}


def load(results: Path) -> list[dict]:
    path = results / "peers.tsv"
    if not path.exists():
        return []
    rows = []
    for line in path.read_text().splitlines():
        row, era, status, what, mode, note = (line.split("\t") + [""] * 6)[:6]
        rows.append({"row": row, "era": era, "status": status, "what": LOCAL.get(what, what), "mode": mode, "note": note})
    return rows


def names(peers: list[dict]) -> dict[str, str]:
    return {p["row"]: f"{p['what']}: {p['mode']}, HTTP {p['era']} (peer)" for p in peers if p["status"] == "measured"}


def saturated(run: dict | None) -> bool:
    return bool(run) and run.get("client_cpu_pct", 0.0) >= CLIENT_SATURATED_PCT


def section(peers: list[dict], runs: dict[tuple[str, int], dict], conns: list[int]) -> list[str]:
    """Lines of the peers section: ours/peer calls/s for each of our rows, and what was not measured."""
    out: list[str] = []
    p = out.append
    measured = [x for x in peers if x["status"] == "measured" and any((x["row"], c) in runs for c in conns)]
    if measured:
        p("")
        p("ours against the other implementations: ours calls/s / peer calls/s (> 1: ours is faster), and peer CPU us/call / "
          "ours over HTTP in the same era (> 1: ours costs less per call)")
        width = max(len(x["row"]) for x in measured)
        head = f"{'peer row':<{width}} {'conns':>5} {'calls/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'us/call':>8} " + \
            "".join(f"{label:>11}" for _, label in OURS) + f"{'CPU ratio':>11}"
        p(head)
        for x in measured:
            for c in conns:
                r = runs.get((x["row"], c))
                if not r:
                    continue
                ratios = ""
                for ours, _ in OURS:
                    o = runs.get((ours, c))
                    ratio = f"{o['rate'] / r['rate']:.2f}" if o and r["rate"] else "n/a"
                    ratios += f"{ratio:>11}"
                o = runs.get((OURS_HTTP_BY_ERA.get(x["era"], ""), c))
                cpu = f"{r['cpu_us_call'] / o['cpu_us_call']:.2f}" if o and o["cpu_us_call"] and r["cpu_us_call"] else "n/a"
                flag = " client-bound" if saturated(r) else ""
                p(f"{x['row']:<{width}} {c:>5} {r['rate']:>9.0f} {r['p50_ms']:>8.3f} {r['p99_ms']:>8.3f} "
                  f"{r['cpu_us_call']:>8.1f} {ratios}{cpu:>11}{flag}")
    bound = sorted({f"{k} @ {c}" for (k, c), r in runs.items() if saturated(r)})
    if bound:
        p("")
        p(f"load generator saturated (>= {CLIENT_SATURATED_PCT:.0f}% of its CPU) in: {', '.join(bound)}; there calls/s is "
          "bounded by the client and CPU us/call is the fair figure")
    skipped = [x for x in peers if x["status"] != "measured"]
    if skipped:
        p("")
        p("not measured")
        for x in skipped:
            p(f"  {x['row']} ({x['what']}: {x['mode']}, era {x['era']}): {x['status']}: {x['note']}")
    return out
