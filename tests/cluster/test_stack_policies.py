"""The NetworkPolicies, enforced (kube-network-policies on the local cluster), one probe per case.

The server reaches MongoDB, DNS and the web-search provider (here a tiny HTTP server that the test
binds to the node's own address), and nothing else; MongoDB admits only the server, its init Job and
mongo-express; mongo-express admits only its allowed source ranges; a pod of another namespace
reaches none of them. Probes are a plain TCP connect with a short timeout: a policy drops the SYN,
so a refusal shows as a timeout towards a port that is listening. The server-side and mongo-express
cases run in the real pods (a bare pod with the server's labels would be adopted by its ReplicaSet);
the other namespace's cases each get a probe pod of their own. Traffic goes only to this machine's
own addresses and the cluster's.
"""

from __future__ import annotations

import http.server
import os
import threading
import urllib.request
import uuid

import pytest

from conftest import NAMESPACE, NODE, kubectl, ready_pods, run_pod, scratch_namespace, wait_stack_ready

PROBE_IMAGE = "127.0.0.1:5000/kringen/python:3.11-bookworm"
NODE_IP = "10.99.0.1"                    # the local cluster's node address (hack/localcluster/lib.sh)
PROVIDER_PORT, OTHER_PORT = 8888, 8889   # inventories/local: server_web_search_egress_ports
SERVICE = f"mcp-server-service.{NAMESPACE}.svc.cluster.local"
MONGODB = f"mongodb.{NAMESPACE}.svc.cluster.local"
MONGO_EXPRESS = f"mongo-express.{NAMESPACE}.svc.cluster.local"
CONNECT = (
    "import socket, sys\n"
    "try:\n"
    "    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3).close(); print('RESULT open')\n"
    "except socket.timeout:\n"
    "    print('RESULT timeout')\n"
    "except OSError as e:\n"
    "    print('RESULT error', e)\n"
)


def outcome(output: str) -> str:
    lines = [line for line in output.splitlines() if line.startswith("RESULT ")]
    assert lines, output
    return lines[-1].removeprefix("RESULT ")


def from_pod(target: str, component: str, host: str, port: int) -> str:
    """Connect from a running pod of the stack (deploy/<target>, container <component>)."""
    return outcome(kubectl("exec", f"deploy/{target}", "-c", component, "--", "python3", "-c", CONNECT, host,
                           str(port), timeout=120))


@pytest.fixture(scope="module")
def other_namespace():
    with scratch_namespace(f"netpol-probe-{uuid.uuid4().hex[:6]}") as name:
        yield name


def from_probe_pod(namespace: str, host: str, port: int) -> str:
    """One probe pod: connect once, print the outcome, exit; its log is read and the pod removed."""
    pod = run_pod(namespace, PROBE_IMAGE, "python3", "-c", CONNECT, host, str(port))
    try:
        kubectl("wait", f"pod/{pod}", "--for=jsonpath={.status.phase}=Succeeded", "--timeout=90s",
                namespace=namespace, timeout=120)
        return outcome(kubectl("logs", pod, namespace=namespace))
    finally:
        kubectl("delete", "pod", pod, "--wait=false", namespace=namespace, check=False)


@pytest.fixture(scope="module", autouse=True)
def stack_ready():
    wait_stack_ready()


# --- the server -------------------------------------------------------------------------------

def test_server_reaches_mongodb():
    assert from_pod("mcp-server", "server", MONGODB, 27017) == "open"


def test_server_reaches_nothing_else_in_the_cluster():
    assert from_pod("mcp-server", "server", MONGO_EXPRESS, 8081) == "timeout"
    assert from_pod("mcp-server", "server", "kubernetes.default.svc.cluster.local", 443) == "timeout"


class _Provider(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's name)
        body = b'{"results": []}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.mark.skipif(bool(os.environ.get("KRINGEN_USE_KUBECONFIG")), reason="the provider sits on the local node")
def test_server_reaches_the_web_search_provider_on_its_port_only():
    servers = [http.server.ThreadingHTTPServer((NODE_IP, port), _Provider) for port in (PROVIDER_PORT, OTHER_PORT)]
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        fetch = ("import sys, urllib.request\n"
                 "print('RESULT', urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())\n")
        got = kubectl("exec", "deploy/mcp-server", "-c", "server", "--", "python3", "-c", fetch,
                      f"http://{NODE_IP}:{PROVIDER_PORT}/search?q=x&format=json", timeout=120)
        assert outcome(got) == '{"results": []}'
        # The other port listens too (the host reaches it); only the policy keeps the server out.
        with urllib.request.urlopen(f"http://{NODE_IP}:{OTHER_PORT}/", timeout=5) as response:
            assert response.status == 200
        assert from_pod("mcp-server", "server", NODE_IP, OTHER_PORT) == "timeout"
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()


# --- mongo-express and another namespace -----------------------------------------------------

def test_mongo_express_does_not_reach_the_server():
    assert from_pod("mongo-express", "mongo-express", SERVICE, 8080) == "timeout"


def test_a_pod_of_another_namespace_reaches_dns_but_not_the_stack(other_namespace):
    assert from_probe_pod(other_namespace, "kube-dns.kube-system.svc.cluster.local", 53) == "open"
    for host, port in ((MONGODB, 27017), (SERVICE, 8080), (MONGO_EXPRESS, 8081)):
        assert from_probe_pod(other_namespace, host, port) == "timeout", (host, port)


# --- what the node needs still passes --------------------------------------------------------

def test_probes_nodeport_and_the_pod_proxy_still_reach_the_server():
    deployment = kubectl("get", "deployment", "mcp-server", "-o", "jsonpath={.status.readyReplicas}")
    assert int(deployment) >= 2  # the kubelet's readiness probes pass
    with urllib.request.urlopen(f"http://{NODE}/health", timeout=10) as response:
        assert response.status == 200
    pod = ready_pods()[0]  # not one still terminating after an earlier rollout
    assert "mcp_" in kubectl("get", "--raw", f"/api/v1/namespaces/{NAMESPACE}/pods/{pod}:9090/proxy/metrics")
