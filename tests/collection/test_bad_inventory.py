"""Bad inventory values fail in argument validation, naming the variable, before any cluster call;
an unreachable cluster fails with a message that says so."""

from __future__ import annotations

import json

import pytest

from conftest import run_playbook

UNREACHABLE_KUBECONFIG = """
apiVersion: v1
kind: Config
clusters: [{name: nowhere, cluster: {server: "https://127.0.0.1:1"}}]
contexts: [{name: nowhere, context: {cluster: nowhere, user: u}}]
current-context: nowhere
users: [{name: u, user: {token: not-a-real-token}}]
"""


@pytest.fixture(scope="module")
def kubeconfig(tmp_path_factory):
    path = tmp_path_factory.mktemp("kube") / "config"
    path.write_text(UNREACHABLE_KUBECONFIG)
    return path


def deploy(kubeconfig, extra: dict):
    values = {"mcp_kubeconfig": str(kubeconfig), "mcp_context": "nowhere", "mcp_image_enabled": False, **extra}
    return run_playbook("playbooks/deploy.yml", "-l", "local-dev", "-e", json.dumps(values))


@pytest.mark.parametrize("extra,fragment", [
    ({"server_replicas": "many"}, "server_replicas"),
    ({"server_replicas": -1}, "server_replicas must be at least 1"),
    ({"mcp_cloud": "azure"}, "server_cloud must be one of"),
    ({"scaling_min_replicas": 5, "scaling_max_replicas": 3}, "not above scaling_max_replicas"),
    ({"scaling_min_replicas": 0}, "scaling_min_replicas must be at least 1"),
    ({"scaling_scale_down_stabilization_seconds": 7200}, "scaling_scale_down_stabilization_seconds 0-3600"),
    ({"mcp_autoscaling": "sometimes"}, "server_autoscaling"),
    ({"mongodb_storage_size": "ten gigs"}, "mongodb_storage_size must be a Kubernetes quantity"),
    ({"mongodb_auth_enabled": "sometimes"}, "mongodb_auth_enabled"),
    ({"server_nodeport": 80}, "server_nodeport 30000-32767"),
    ({"server_httproute_enabled": True}, "server_httproute_enabled needs server_gateway_name"),
    ({"server_ingress_timeout_seconds": 100000}, "server_ingress_timeout_seconds must be 1-99999"),
    ({"server_ingress_profile": "haproxy"}, "server_ingress_profile must be one of"),
    ({"server_log_level": "loud"}, "server_log_level"),
    ({"server_auth_tokens": ["short"]}, "server_auth_tokens at least 16 characters"),
    ({"server_request_state_keys": ["too-short-a-key"]}, "server_request_state_keys: every key must be at least 32"),
    ({"mongo_express_allowed_source_ranges": ["everyone"]}, "mongo_express_allowed_source_ranges must be CIDRs"),
    ({"mongodb_replica_set_enabled": True, "mongodb_replica_set_members": 2}, "mongodb_replica_set_members 3, 5 or 7"),
])
def test_bad_values_fail_before_any_cluster_call(kubeconfig, extra, fragment):
    result = deploy(kubeconfig, extra)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert fragment in output, output[-3000:]
    assert "Cannot reach the Kubernetes API" not in output
    assert "k8s_cluster_info" not in output and "Ask the Kubernetes API" not in output


def test_unreachable_cluster_is_named(kubeconfig):
    result = deploy(kubeconfig, {})
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert f"Cannot reach the Kubernetes API of local-dev (kubeconfig {kubeconfig}, context nowhere)" in output
    assert "not-a-real-token" not in output
