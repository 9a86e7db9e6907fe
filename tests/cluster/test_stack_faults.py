"""Faults on purpose, with a client writing the whole time: a server pod force-killed, MongoDB's
pod force-killed, the node drained (held by the PodDisruptionBudgets), containerd and kubelet
restarted. Each time every write the server acknowledged is read back afterwards (none lost), and
the stack is whole again before the next fault.

The writer is the official Python SDK 2.x client at 2026-07-28 (app/tests/sdk2/calls.py --write),
a new connection per call through the local gateway's HTTPRoute (Traefik, no affinity), so its
calls go to every server pod, as in production behind a gateway."""

from __future__ import annotations

import json
import subprocess
import threading
import time
import urllib.request
import uuid


from conftest import (GATEWAY_ADDRESS, GATEWAY_HOST, GATEWAY_PORTS, KUBECONFIG, KUBECTL, REPO, SDK2_CALLS,
                      SERVER_SELECTOR, kget, kubectl, ready_pods, wait_stack_ready)

STACK = "app.kubernetes.io/part-of=kringen-mcp-server"


class Writer:
    """calls.py --write in the background from now until finish(), which returns its summary after
    it has read back every acknowledged note."""

    def __init__(self, token: str):
        self.process = subprocess.Popen(
            [*SDK2_CALLS, f"http://{GATEWAY_HOST}:{GATEWAY_PORTS['httproute']}/mcp", token, "auto", "20",
             "--fresh-connections", "--until-stdin-closes", "--resolve", f"{GATEWAY_HOST}:{GATEWAY_ADDRESS}",
             "--write", f"fault-{uuid.uuid4().hex[:6]}"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def finish(self, timeout: float = 300) -> dict:
        time.sleep(2)  # a few writes after the stack is whole again
        out, err = self.process.communicate(timeout=timeout)
        assert self.process.returncode == 0, err[-3000:]
        summary = json.loads(out.strip().splitlines()[-1])
        assert summary["acknowledged"] >= 20, summary
        assert summary["lost"] == 0, summary
        return summary


class ReadySampler:
    """The fewest Ready server pods seen, sampled every half second until stopped."""

    def __init__(self):
        self.fewest = len(ready_pods())
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            self.fewest = min(self.fewest, len(ready_pods()))
            self.samples += 1

    def stop(self) -> int:
        self._stop.set()
        self._thread.join(30)
        return self.fewest


def stack_whole() -> None:
    wait_stack_ready()
    deadline = time.monotonic() + 120
    while len(ready_pods()) < 2:
        assert time.monotonic() < deadline, f"server pods Ready: {ready_pods()}"
        time.sleep(1)


def test_a_force_killed_server_pod_loses_no_acknowledged_write(token):
    writer = Writer(token)
    time.sleep(5)
    victim = ready_pods()[0]
    kubectl("delete", "pod", victim, "--grace-period=0", "--force")
    stack_whole()
    assert victim not in ready_pods()
    summary = writer.finish()
    print(f"server pod killed: {summary}")


def test_a_force_killed_mongodb_pod_loses_no_acknowledged_write(token):
    writer = Writer(token)
    time.sleep(5)
    uid = kget("pod", "mongodb-0")["metadata"]["uid"]
    kubectl("delete", "pod", "mongodb-0", "--grace-period=0", "--force")
    time.sleep(3)
    stack_whole()
    assert kget("pod", "mongodb-0")["metadata"]["uid"] != uid
    summary = writer.finish()
    print(f"MongoDB pod killed: {summary}")


def test_a_drain_of_the_node_is_held_by_the_disruption_budgets(token):
    node = kget("nodes")["items"][0]["metadata"]["name"]
    writer = Writer(token)
    sampler = ReadySampler()
    try:
        drain = subprocess.run([KUBECTL, "--kubeconfig", KUBECONFIG, "drain", node, f"--pod-selector={STACK}",
                                "--ignore-daemonsets", "--delete-emptydir-data", "--timeout=15s"],
                               capture_output=True, text=True, timeout=120)
    finally:
        fewest = sampler.stop()
        kubectl("uncordon", node)
    assert drain.returncode != 0, "the drain evicted every pod of the stack: no budget held it"
    assert "disruption budget" in drain.stdout + drain.stderr, drain.stderr[-2000:]
    assert fewest >= 1 and sampler.samples >= 15, (fewest, sampler.samples)
    stack_whole()
    summary = writer.finish()
    print(f"drain held (fewest Ready server pods {fewest}): {summary}")


class HealthPoller:
    """GET /health on each server pod's own address (from the node, as root: no policy applies)
    every 0.2 s until stopped; counts the answers that were not 200."""

    def __init__(self):
        pods = kget("pods", "-l", SERVER_SELECTOR)["items"]
        self.urls = [f"http://{p['status']['podIP']}:8080/health" for p in pods if p["status"].get("podIP")]
        self.polls = self.failures = 0
        self.samples: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            for url in self.urls:
                self.polls += 1
                try:
                    with urllib.request.urlopen(url, timeout=2) as answer:
                        ok = answer.status == 200
                except OSError as exc:
                    ok = False
                    self.samples.append(f"{url}: {exc}")
                self.failures += 0 if ok else 1

    def stop(self) -> "HealthPoller":
        self._stop.set()
        self._thread.join(30)
        return self


def test_restarting_containerd_and_kubelet_keeps_running_pods_serving(token):
    """The pods' processes keep running and answering on their own addresses. Through Services and
    the gateway they drop out for a moment: a restarted kubelet reports every container unready
    until its first readiness probe, and the endpoints follow. No acknowledged write is lost."""
    def containers() -> dict[str, int]:
        pods = kget("pods", "-l", STACK)["items"]
        return {p["metadata"]["uid"]: sum(c["restartCount"] for c in p["status"].get("containerStatuses", []))
                for p in pods if p["status"].get("phase") == "Running"}
    def server_replicas() -> int:
        return kget("deployment", "mcp-server")["spec"]["replicas"]
    before, replicas_before = containers(), server_replicas()
    writer = Writer(token)
    poller = HealthPoller()
    time.sleep(3)
    restart = subprocess.run(["bash", str(REPO / "hack/localcluster/restart.sh"), "containerd", "kubelet"],
                             capture_output=True, text=True, timeout=240)
    assert restart.returncode == 0, restart.stderr[-2000:]
    time.sleep(10)  # the restarted kubelet's first probes and status updates
    stack_whole()
    poller.stop()
    summary = writer.finish()
    assert poller.urls and poller.polls >= 50 and poller.failures == 0, (poller.polls, poller.samples[:5])
    after = containers()
    # The HPA may scale the server in meanwhile (the writer's load comes and goes): a pod it removed is
    # gone, not restarted. A restarted pod would be a new one, a restarted container a higher count.
    assert set(after) <= set(before), "pods were recreated along with containerd and kubelet"
    assert after == {uid: before[uid] for uid in after}, "containers were restarted"
    assert len(set(before) - set(after)) <= max(0, replicas_before - server_replicas()), "pods went missing"
    print(f"containerd and kubelet restarted: {poller.polls} pod health checks all answered; writer {summary}")
