"""Autoscaling on the real cluster (after test_stack.py, whose last test redeployed the stack).

metrics-server feeds the HPA; a bounded load on 127.0.0.1 through the NodePort drives the server's
CPU past the target and the HPA scales out to at least 3 within 3 minutes; a deploy.yml run while
scaled out leaves the replica count as the HPA set it; after the load the count comes back down
(inventories/local shortens the scale-down window for this).
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import threading
import time

from conftest import KUBECONFIG, KUBECTL, NAMESPACE, NODE, REPO, kget, kubectl, run_playbook

HOST, PORT = NODE.rsplit(":", 1)
assert HOST.startswith("127."), "the load goes to loopback only"
SCALE_UP_LIMIT_SECONDS = 180
# The load's own bounds: it stops by itself after LOAD_SECONDS or LOAD_REQUESTS, whichever is first.
LOAD_SECONDS = 240
LOAD_REQUESTS = 2_000_000
LOAD_CONNECTIONS = 8
OUR_MANAGERS = ("kringen.mcp_server",)


def replicas() -> int:
    return kget("deployment", "mcp-server")["spec"]["replicas"]


def hpa() -> dict:
    return kget("hpa", "mcp-server-hpa")


def replica_owners() -> set[str]:
    """The field managers that hold the Deployment's spec.replicas."""
    fields = kget("deployment", "mcp-server", "--show-managed-fields")["metadata"]["managedFields"]
    return {f["manager"] for f in fields if "f:replicas" in f.get("fieldsV1", {}).get("f:spec", {})}


def wait_until(what: str, timeout: float, check) -> float:
    """Poll check() every 2 s until it is true; return the seconds it took."""
    start = time.monotonic()
    while not check():
        assert time.monotonic() - start < timeout, f"{what}: not within {timeout:.0f}s (HPA: {hpa()['status']})"
        time.sleep(2)
    return time.monotonic() - start


class Load:
    """GET /health over keep-alive connections to the NodePort, in a thread, until stopped or bounded."""

    REQUEST = f"GET /health HTTP/1.1\r\nHost: {HOST}\r\n\r\n".encode()

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.sent = 0
        self.errors = 0
        self.thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)

    def __enter__(self) -> Load:
        self.thread.start()
        return self

    def __exit__(self, *_) -> None:
        self.stop.set()
        self.thread.join(30)
        assert not self.thread.is_alive()

    def _going(self, deadline: float) -> bool:
        return not self.stop.is_set() and time.monotonic() < deadline and self.sent < LOAD_REQUESTS

    async def _connection(self, deadline: float) -> None:
        while self._going(deadline):
            try:
                reader, writer = await asyncio.wait_for(asyncio.open_connection(HOST, int(PORT)), 5)
                try:
                    while self._going(deadline):
                        writer.write(self.REQUEST)
                        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
                        length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))
                        await asyncio.wait_for(reader.readexactly(length), 10)
                        self.sent += 1
                finally:
                    writer.close()
            except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, AttributeError):
                self.errors += 1
                await asyncio.sleep(0.5)

    async def _run(self) -> None:
        deadline = time.monotonic() + LOAD_SECONDS
        await asyncio.gather(*(self._connection(deadline) for _ in range(LOAD_CONNECTIONS)))


class ReplicaWatch:
    """Every value of the Deployment's spec.replicas while in the block (a kubectl watch)."""

    def __enter__(self) -> ReplicaWatch:
        self.seen: list[int] = []
        self.process = subprocess.Popen(
            [KUBECTL, "--kubeconfig", KUBECONFIG, "-n", NAMESPACE, "get", "deployment", "mcp-server", "--watch",
             "-o", "jsonpath={.spec.replicas}{\"\\n\"}"], stdout=subprocess.PIPE, text=True)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        return self

    def _read(self) -> None:
        for line in self.process.stdout:
            if line.strip():
                self.seen.append(int(line))

    def __exit__(self, *_) -> None:
        time.sleep(1)  # the watch's last events
        self.process.terminate()
        self.process.wait(10)
        self.reader.join(10)


def scale_down_window() -> int:
    return hpa()["spec"]["behavior"]["scaleDown"]["stabilizationWindowSeconds"]


def test_metrics_server_serves_cpu_and_memory():
    def pods_measured() -> bool:
        out = kubectl("top", "pods", "-l", "app.kubernetes.io/component=server", "--no-headers", check=False)
        return len(out.strip().splitlines()) >= 2
    wait_until("kubectl top pods", 120, pods_measured)

    def hpa_reads_both() -> bool:
        current = hpa()["status"].get("currentMetrics") or []
        return {m["resource"]["name"] for m in current if m.get("resource", {}).get("current")} == {"cpu", "memory"}
    wait_until("the HPA reading CPU and memory", 120, hpa_reads_both)
    assert replicas() == 2
    assert not set(OUR_MANAGERS) & replica_owners(), replica_owners()


def test_load_scales_out_a_deploy_keeps_the_count_and_it_scales_back(capsys):
    assert replicas() == 2
    with Load() as load:
        took = wait_until("scaling out to 3 or more", SCALE_UP_LIMIT_SECONDS, lambda: replicas() >= 3)
    scaled = replicas()
    assert load.sent > 1000, (load.sent, load.errors)
    with capsys.disabled():
        print(f"\nHPA scaled 2 -> {scaled} in {took:.0f}s under load ({load.sent} requests, {load.errors} errors)")

    # A deploy while scaled out leaves the count to the HPA: every value spec.replicas takes meanwhile
    # is at least the HPA's (its scale-down window holds the count for the deploy's length).
    started = time.monotonic()
    with ReplicaWatch() as watch:
        run_playbook("deploy.yml")
    took_deploy = time.monotonic() - started
    after = replicas()
    with capsys.disabled():
        print(f"deploy.yml while scaled out: {took_deploy:.0f}s, replicas {scaled} -> {after}, seen {watch.seen}")
    assert took_deploy < scale_down_window(), "the deploy outlasted the scale-down window: the check below is void"
    assert watch.seen and min(watch.seen) >= scaled, (scaled, watch.seen)
    assert after >= scaled, (scaled, after)
    assert after == hpa()["status"]["desiredReplicas"]
    assert not set(OUR_MANAGERS) & replica_owners(), replica_owners()

    down = wait_until("scaling back to 2", 420, lambda: replicas() == 2)
    with capsys.disabled():
        print(f"back to 2 replicas {down:.0f}s after the deploy")
    kubectl("rollout", "status", "deployment/mcp-server", "--timeout=120s", timeout=150)


def test_the_hpa_behaviour_comes_from_the_inventory():
    text = (REPO / "inventories/local/group_vars/mcp_clusters.yml").read_text()
    settings = {k: int(v) for k, v in re.findall(r"(?m)^(scaling_scale_down_\w+): *(\d+)", text)}
    scale_down = hpa()["spec"]["behavior"]["scaleDown"]
    assert scale_down["stabilizationWindowSeconds"] == settings["scaling_scale_down_stabilization_seconds"]
    assert scale_down["policies"] == [{"type": "Pods", "value": settings["scaling_scale_down_pods_per_period"],
                                       "periodSeconds": settings["scaling_scale_down_period_seconds"]}]
