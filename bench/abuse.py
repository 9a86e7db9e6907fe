"""`make bench-abuse`: what one client without a credential can do to the server and its other clients.

Each attack runs for ATTACK_SECONDS against a fresh server process while another client asks GET /health
on its own keep-alive connection every 10 ms; printed per attack: the server's RSS growth (target under
10 MiB) and that client's /health latency, p50/p99/max (target p99 under 50 ms). With `--baseline PATH`
(the app/src of another checkout) the same attacks run against that code too, interleaved, and the
table shows both side by side.

Attacks (each in a process of its own, so that it does not share this process's interpreter lock with
the latency probe):
- chunked: one connection sends `Transfer-Encoding: chunked`, the size line `ffffffffffff` and then
  bytes as fast as the server takes them;
- pipeline: one connection sends 60,000 `POST /mcp` (answered 401) and reads nothing;
- slow heads: 50 connections each send a head one byte a second;
- websocket: one WebSocket sends `tools/list` requests and reads nothing.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import socket
import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "app" / "tests"))

from fuzz.ws_frames import TEXT, encode, handshake  # noqa: E402
from support.processes import TEST_TOKEN, FerretDB, McpServerProcess  # noqa: E402

ATTACK_SECONDS = float(os.environ.get("BENCH_ABUSE_SECONDS", "12"))
RSS_TARGET_KIB = 10 * 1024
P99_TARGET_MS = 50.0
POST = b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"


def keep_sending(sock: socket.socket, data: bytes, deadline: float, times: int | None = None) -> None:
    """Sends `data` again and again until `deadline` (at most `times` times, then holds the connection
    open): a send the server does not take within the socket's timeout is tried again; a connection
    the server closed ends it."""
    sent = 0
    while time.monotonic() < deadline:
        if times is not None and sent >= times:
            time.sleep(0.1)
            continue
        try:
            sock.sendall(data)
            sent += 1
        except socket.timeout:
            continue
        except OSError:
            return  # refused and closed


def chunked(port: int, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
        sock.sendall(b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffff\r\n")
        keep_sending(sock, b"x" * 65536, deadline)


def pipeline(port: int, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        keep_sending(sock, POST * 500, deadline, times=60_000 // 500)


def slow_heads(port: int, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    head = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 1000
    socks = [socket.create_connection(("127.0.0.1", port), timeout=1) for _ in range(50)]
    at = 0
    while time.monotonic() < deadline and at < len(head):
        for sock in socks:
            try:
                sock.send(head[at:at + 1])
            except OSError:
                pass
        at += 1
        time.sleep(1)
    for sock in socks:
        sock.close()


def websocket(port: int, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    sock, _reader = handshake(port, TEST_TOKEN, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    frames = encode(TEXT, b'{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}', mask=b"abcd") * 500
    with sock:
        keep_sending(sock, frames, deadline)


ATTACKS = {"chunked": chunked, "pipeline": pipeline, "slow heads": slow_heads, "websocket": websocket}


def probe(port: int, stop_at: float) -> list[float]:
    """GET /health every 10 ms on one keep-alive connection; the latencies in ms."""
    latencies = []
    request = f"GET /health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    while time.monotonic() < stop_at:
        started = time.monotonic()
        sock.sendall(request)
        answer = b""
        while not answer.endswith(b"}"):
            chunk = sock.recv(65536)
            if not chunk:
                sock = socket.create_connection(("127.0.0.1", port), timeout=10)  # closed when idle: reopen
                break
            answer += chunk
        latencies.append(1000 * (time.monotonic() - started))
        time.sleep(0.01)
    sock.close()
    return latencies


def measure(server: McpServerProcess, name: str) -> dict[str, float]:
    before = server.rss_kib()
    peak = before
    attacker = multiprocessing.Process(target=ATTACKS[name], args=(server.port, ATTACK_SECONDS), daemon=True)
    attacker.start()
    stop_at = time.monotonic() + ATTACK_SECONDS
    latencies: list[float] = []
    while time.monotonic() < stop_at:  # the probe in slices, reading the RSS between them
        latencies += probe(server.port, min(stop_at, time.monotonic() + 0.5))
        peak = max(peak, server.rss_kib())
    attacker.join(10)
    if attacker.is_alive():
        attacker.kill()
    latencies.sort()
    return {"rss_growth_kib": peak - before, "p50_ms": statistics.median(latencies),
            "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))], "max_ms": latencies[-1],
            "probes": len(latencies)}


def start(uri: str, pythonpath: str | None) -> McpServerProcess:
    env = {"MCP_LOG_LEVEL": "warning", "MCP_REFUSED_RATE_LIMIT": "0"}
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    server = McpServerProcess(uri, f"abuse_{uuid.uuid4().hex[:8]}", python=str(ROOT / ".venv" / "bin" / "python"),
                              **env)
    server.start()
    server.wait_ready()
    return server


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--baseline", help="app/src of another checkout, attacked the same way beside ours")
    args = ap.parse_args()
    subjects = {"ours": None, **({"base": args.baseline} if args.baseline else {})}
    ferret = FerretDB().start()
    results: dict[tuple[str, str], dict[str, float]] = {}
    try:
        for attack in ATTACKS:
            for subject, path in subjects.items():  # interleaved: each attack against each server in turn
                server = start(ferret.uri, path)
                try:
                    results[(attack, subject)] = measure(server, attack)
                finally:
                    server.stop()
                r = results[(attack, subject)]
                print(f"  {attack:<11} {subject:<5} RSS +{r['rss_growth_kib'] / 1024:6.1f} MiB   /health p50 "
                      f"{r['p50_ms']:6.2f} ms  p99 {r['p99_ms']:7.2f} ms  max {r['max_ms']:8.2f} ms  ({r['probes']} probes)",
                      flush=True)
    finally:
        ferret.stop()
    print("")
    print(f"one attacking client for {ATTACK_SECONDS:g} s each, another client's GET /health every 10 ms; "
          f"targets: RSS growth < {RSS_TARGET_KIB // 1024} MiB, /health p99 < {P99_TARGET_MS:g} ms")
    header = f"{'attack':<11} {'RSS growth MiB':>15} {'/health p99 ms':>15}"
    if args.baseline:
        header += f" {'base RSS MiB':>13} {'base p99 ms':>12} {'p99 ours/base':>14}"
    print(header + "  target")
    for attack in ATTACKS:
        ours = results[(attack, "ours")]
        met = ours["rss_growth_kib"] < RSS_TARGET_KIB and ours["p99_ms"] < P99_TARGET_MS
        line = f"{attack:<11} {ours['rss_growth_kib'] / 1024:>15.1f} {ours['p99_ms']:>15.2f}"
        if args.baseline:
            base = results[(attack, "base")]
            line += (f" {base['rss_growth_kib'] / 1024:>13.1f} {base['p99_ms']:>12.2f} "
                     f"{ours['p99_ms'] / base['p99_ms']:>14.2f}")
        print(f"{line}  {'PASS' if met else 'MISS'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
