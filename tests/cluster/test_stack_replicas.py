"""Interchangeable replicas on the real cluster: three server pods, no affinity anywhere, clients
whose requests a gateway would spread (a new connection per request). The official Python SDK
client at 2026-07-28 and over one 2025-11-25 session fails no call, its calls reach several pods,
the session outlives the pod that created it, and a rolling restart under both loses nothing."""

from __future__ import annotations

import json
import subprocess
import time

import pytest

from conftest import HTTP_IN, NODE, SDK2_CALLS, kget, kubectl, metric, ready_pods, run_playbook, served

HTTP_URL = f"http://{NODE}/mcp"
REPLICAS = 3
CALLS = [*SDK2_CALLS, HTTP_URL]


SESSIONS_MADE = 'mcp_sessions_total{transport="streamable_http"}'


def wait_for_replicas(count: int, timeout: float = 240) -> list[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pods = ready_pods()
        if len(pods) == count:
            return pods
        time.sleep(2)
    raise AssertionError(f"{count} ready server pods expected, found {ready_pods()}")


def finished(process: subprocess.Popen, timeout: float = 600) -> dict:
    out, err = process.communicate(timeout=timeout)
    assert process.returncode == 0, err[-3000:]
    return json.loads(out.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def spread():
    """Three replicas (the HPA's minimum) and no affinity on the NodePort either."""
    run_playbook("deploy.yml", "-e", json.dumps({"server_nodeport_session_affinity": "None",
                                                 "scaling_min_replicas": REPLICAS}))
    assert kget("service", "mcp-server-nodeport")["spec"]["sessionAffinity"] == "None"
    assert kget("service", "mcp-server-service")["spec"]["sessionAffinity"] == "None"
    wait_for_replicas(REPLICAS)
    yield
    run_playbook("deploy.yml")  # the inventory's settings again


def test_a_2026_client_is_answered_by_several_pods_and_fails_nothing(spread, token):
    before = {pod: metric(pod, HTTP_IN) for pod in ready_pods()}
    summary = finished(subprocess.Popen([*CALLS, token, "auto", "100", "--fresh-connections"],
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    assert summary["protocol_version"] == "2026-07-28"
    assert summary["failures"] == 0, summary["samples"]
    took = served(before)
    assert sum(1 for n in took.values() if n > 0) >= 2, took


def test_a_2025_session_is_served_by_several_pods_and_outlives_its_pod(spread, token):
    before = {pod: metric(pod, HTTP_IN) for pod in ready_pods()}
    made = {pod: metric(pod, SESSIONS_MADE) for pod in before}
    client = subprocess.Popen([*CALLS, token, "legacy", "60", "--pause", "--fresh-connections"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    half = json.loads(client.stdout.readline())
    assert half["event"] == "half" and half["protocol_version"] == "2025-11-25"
    took = served(before)
    assert sum(1 for n in took.values() if n > 0) >= 2, took
    creator = [pod for pod, count in made.items() if metric(pod, SESSIONS_MADE) > count]
    assert len(creator) == 1, creator
    kubectl("delete", "pod", creator[0], "--wait=true", timeout=120)
    client.stdin.write("go on\n")
    client.stdin.flush()
    summary = finished(client)
    assert summary["failures"] == 0, summary["samples"]


def test_a_rolling_restart_under_both_eras_fails_no_call(spread, token):
    """Both clients call from before the restart until after its rollout is complete."""
    clients = [subprocess.Popen([*CALLS, token, mode, "10", "--fresh-connections", "--until-stdin-closes"],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for mode in ("auto", "legacy")]
    time.sleep(3)
    restarted = time.time()
    kubectl("rollout", "restart", "deployment/mcp-server")
    kubectl("rollout", "status", "deployment/mcp-server", "--timeout=300s", timeout=330)
    rolled_out = time.time()
    time.sleep(3)
    for client in clients:  # communicate() closes the client's stdin: it stops
        summary = finished(client)
        assert summary["failures"] == 0, summary["samples"]
        # answered before the restart began and after its rollout was complete: the calls spanned it
        assert summary["first_answer_at"] < restarted < rolled_out < summary["last_answer_at"], summary
