"""One inventory, several clusters: three hosts that all point at the local cluster, each with its own
namespace, node port and host name, converge in one deploy.yml run, side by side (Ansible's forks),
and a second run changes nothing on any of them."""

from __future__ import annotations

import json
import re
import time
import urllib.request

import pytest

from conftest import LOCAL_INVENTORY, kubectl, run_playbook

CLUSTERS = {f"many-cluster-{i}": {"mcp_namespace": f"mcp-many-{i}", "server_nodeport": 30820 + i,
                                  "server_ingress_host": f"many{i}.localtest.me",
                                  # the stack without mongo-express and Keycloak (whose node port is the main
                                  # stack's): the test is about the hosts, not the parts
                                  "mongo_express_enabled": False, "mcp_keycloak_enabled": False,
                                  "server_auth_mode": "tokens"}
            for i in range(1, 4)}


def namespaces_gone() -> None:
    kubectl("delete", "namespace", *(c["mcp_namespace"] for c in CLUSTERS.values()), "--ignore-not-found",
            "--wait=true", "--timeout=300s", namespace="default", timeout=330)


@pytest.fixture(scope="module")
def inventory(tmp_path_factory):
    folder = tmp_path_factory.mktemp("many-clusters")
    kubeconfig = "{{ lookup('ansible.builtin.env', 'KUBECONFIG') }}"
    hosts = {name: {"mcp_kubeconfig": kubeconfig, **settings} for name, settings in CLUSTERS.items()}
    (folder / "hosts.yml").write_text(json.dumps({"mcp_clusters": {"children": {"local": {"hosts": hosts}}}}))
    (folder / "group_vars").symlink_to(LOCAL_INVENTORY.parent / "group_vars")
    namespaces_gone()
    yield folder / "hosts.yml"
    namespaces_gone()


def recap(output: str) -> dict[str, dict[str, int]]:
    block = output[output.rindex("PLAY RECAP"):]
    return {host: {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", counts)}
            for host, counts in re.findall(r"^(\S+)\s+:\s+(.*)$", block, re.M)}


def test_three_clusters_converge_in_one_run(inventory):
    started = time.monotonic()
    first = recap(run_playbook("deploy.yml", inventory=inventory).stdout)
    took = time.monotonic() - started
    assert set(first) == set(CLUSTERS), first
    assert all(counts["failed"] == 0 and counts["changed"] > 0 for counts in first.values()), first
    for settings in CLUSTERS.values():
        namespace = settings["mcp_namespace"]
        ready = json.loads(kubectl("get", "deployment", "mcp-server", "-o", "json", namespace=namespace))["status"]
        assert ready.get("readyReplicas", 0) >= 1, (namespace, ready)
        with urllib.request.urlopen(f"http://127.0.0.1:{settings['server_nodeport']}/health", timeout=10) as answer:
            assert answer.status == 200, namespace
        assert not json.loads(kubectl("get", "deployment", "mongo-express", "--ignore-not-found", "-o", "json",
                                      namespace=namespace) or "{}"), namespace
    print(f"three clusters' first deploy: {took:.1f} s")

    again = recap(run_playbook("deploy.yml", inventory=inventory).stdout)
    assert {host: counts["changed"] for host, counts in again.items()} == {host: 0 for host in CLUSTERS}, again
