"""What the cluster tests share: kubectl on the cluster under test, and the collection's playbooks."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import subprocess
import time
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
NAMESPACE = os.environ.get("MCP_NAMESPACE", "mcp-server")
NODE = os.environ.get("MCP_NODE_ADDRESS", "127.0.0.1:30800")
# The local gateway (Traefik): its Ingress and HTTPRoute match this host name (inventories/local's
# server_ingress_host); the tests send it as Host to the node's loopback address.
GATEWAY_HOST, GATEWAY_ADDRESS = "mcp.localtest.me", "127.0.0.1"
GATEWAY_PORTS = {"ingress": 30880, "httproute": 30881}
# The official Python SDK 2.x (its own virtualenv), and its script of many calls (app/tests/sdk2/calls.py).
SDK2_PYTHON = os.environ.get("MCP_SDK2_PYTHON", str(REPO / ".venv-sdk2/bin/python"))
SDK2_CALLS = [SDK2_PYTHON, str(REPO / "app/tests/sdk2/calls.py")]


def kubectl_path() -> str:
    out = subprocess.run(["bash", str(REPO / "hack/build/kubernetes.sh")], capture_output=True, text=True, check=True)
    return str(Path(out.stdout.strip().splitlines()[-1]) / "kubectl")


KUBECTL = kubectl_path()
KUBECONFIG = os.environ.get("KUBECONFIG") or os.path.expanduser(
    os.path.join(os.environ.get("KRINGEN_CACHE", "~/.cache/kringen-mcp"), "cluster", "kubeconfig"))


def kubectl(*args: str, check: bool = True, timeout: int = 300, namespace: str = NAMESPACE,
            stdin: str | None = None) -> str:
    result = subprocess.run([KUBECTL, "--kubeconfig", KUBECONFIG, "-n", namespace, *args], capture_output=True,
                            text=True, timeout=timeout, input=stdin)
    if check and result.returncode != 0:
        raise AssertionError(f"kubectl {' '.join(args)}: {result.stderr}")
    return result.stdout


@contextlib.contextmanager
def scratch_namespace(name: str):
    """A namespace of the tests' own, removed (with its pods) afterwards."""
    kubectl("create", "namespace", name)
    try:
        deadline = time.monotonic() + 60
        while not kubectl("get", "serviceaccount", "default", "--ignore-not-found", namespace=name).strip():
            assert time.monotonic() < deadline, f"no default ServiceAccount in {name}"
            time.sleep(1)
        yield name
    finally:
        kubectl("delete", "namespace", name, "--wait=true", check=False, timeout=180)


def run_pod(namespace: str, image: str, *command: str) -> str:
    """Start a bare pod running COMMAND; return its name. It is killed at once when deleted (a
    command such as `sleep` ignores SIGTERM, and would hold its namespace's deletion for 30 s)."""
    name = f"probe-{uuid.uuid4().hex[:6]}"
    kubectl("run", name, f"--image={image}", "--image-pull-policy=IfNotPresent", "--restart=Never",
            '--overrides={"spec": {"terminationGracePeriodSeconds": 0}}', "--command", "--", *command,
            namespace=namespace)
    return name


def kget(*args: str) -> dict:
    return json.loads(kubectl("get", *args, "-o", "json"))


def secret(name: str, key: str) -> str:
    return base64.b64decode(kget("secret", name)["data"][key]).decode()


@pytest.fixture(scope="module")
def token() -> str:
    """The server's first bearer token (kept across undeploy and redeploy)."""
    return secret("mcp-server-auth", "tokens").split()[0]


def wait_ready(kind: str, name: str, timeout: int = 300) -> None:
    kubectl("rollout", "status", f"{kind}/{name}", f"--timeout={timeout}s", timeout=timeout + 30)


def wait_stack_ready() -> None:
    """Every workload of the stack rolled out."""
    for kind, name in (("deployment", "mcp-server"), ("statefulset", "mongodb"), ("deployment", "mongo-express"),
                       ("deployment", "keycloak")):
        wait_ready(kind, name)


LOCAL_INVENTORY = REPO / "inventories/local/hosts.yml"


def run_playbook(name: str, *extra: str, inventory: Path = LOCAL_INVENTORY) -> subprocess.CompletedProcess:
    playbook = os.environ.get("ANSIBLE_PLAYBOOK", str(REPO / ".venv-ansible/bin/ansible-playbook"))
    result = subprocess.run([playbook, "-i", str(inventory), str(REPO / "playbooks" / name),
                             *extra], cwd=REPO, capture_output=True, text=True, timeout=1800,
                            env={**os.environ, "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"), "KUBECONFIG": KUBECONFIG,
                                 "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0"})
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    return result


SERVER_SELECTOR = "app.kubernetes.io/name=mcp-server,app.kubernetes.io/component=server"
HTTP_IN = 'mcp_messages_total{direction="in",transport="streamable_http"}'


def ready_pods() -> list[str]:
    pods = kget("pods", "-l", SERVER_SELECTOR)["items"]
    return sorted(p["metadata"]["name"] for p in pods if p["metadata"].get("deletionTimestamp") is None
                  and any(c["type"] == "Ready" and c["status"] == "True" for c in p["status"].get("conditions", [])))


def metric(pod: str, series: str) -> float:
    """One series of a pod's /metrics, read through the API server's pod proxy."""
    text = kubectl("get", "--raw", f"/api/v1/namespaces/{NAMESPACE}/pods/{pod}:9090/proxy/metrics")
    match = re.search(rf"^{re.escape(series)} (\S+)$", text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


def served(before: dict[str, float], series: str = HTTP_IN) -> dict[str, float]:
    """Messages each pod took since `before` (pods that are gone are left out)."""
    ready = ready_pods()
    return {pod: metric(pod, series) - count for pod, count in before.items() if pod in ready}
