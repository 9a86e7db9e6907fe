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


# Each bad value and the one message it must fail with: the variable, the value and the rule.
CASES = [
    ({"server_replicas": "many"}, "argument 'server_replicas' is of type str and we were unable to convert to int"),
    ({"server_replicas": -1}, "server_replicas must be at least 1, got -1"),
    ({"server_processes": 100}, "server_processes must be 0 (one per CPU of the container's limit) to 64, got 100"),
    ({"mcp_cloud": "azure"}, "value of mcp_cloud must be one of: local, generic, eks, gke, aks, got: azure"),
    ({"mcp_namespace": "Team_A"}, "mcp_namespace must be a DNS label (lower-case letters, digits and '-', at most 63), got 'Team_A'"),
    ({"mcp_server_port": 70000}, "mcp_server_port must be a port (1-65535), got 70000"),
    ({"mcp_cluster_cidrs": ["pods"]}, "mcp_cluster_cidrs must be CIDRs, got ['pods']"),
    ({"mcp_autoscaling": "sometimes"}, "argument 'mcp_autoscaling' is of type str and we were unable to convert to bool"),
    ({"server_namespace": "old", "scaling_cluster_cidrs": []},
     "Settings that moved: scaling_cluster_cidrs is gone, set mcp_cluster_cidrs instead; server_namespace is gone, "
     "set mcp_namespace instead;"),
    ({"scaling_min_replicas": 5, "scaling_max_replicas": 3}, "scaling_max_replicas must not be below scaling_min_replicas (5), got 3"),
    ({"scaling_min_replicas": 0}, "scaling_min_replicas must be at least 1, got 0"),
    ({"scaling_cpu_target_percent": 150}, "scaling_cpu_target_percent must be 1-100, got 150"),
    ({"scaling_scale_down_stabilization_seconds": 7200}, "scaling_scale_down_stabilization_seconds must be 0-3600, got 7200"),
    ({"mongodb_storage_size": "ten gigs"}, "mongodb_storage_size must be a Kubernetes quantity such as 10Gi, got 'ten gigs'"),
    ({"mongodb_auth_enabled": "sometimes"}, "argument 'mongodb_auth_enabled' is of type str and we were unable to convert to bool"),
    ({"mongodb_replica_set_enabled": True, "mongodb_replica_set_members": 2},
     "mongodb_replica_set_members must be 3, 5 or 7 when mongodb_replica_set_enabled, got 2"),
    ({"server_nodeport": 80}, "server_nodeport must be in the NodePort range 30000-32767, got 80"),
    ({"server_termination_grace_period_seconds": 10},
     "server_termination_grace_period_seconds must be more than server_prestop_sleep_seconds + server_drain_seconds"
     " + server_shutdown_timeout_seconds, got 10 for 15 + 5 + 8"),
    ({"server_httproute_enabled": True}, "server_gateway_name must name the Gateway to attach the route to when server_httproute_enabled"),
    ({"server_ingress_timeout_seconds": 100000},
     "server_ingress_timeout_seconds must be 1-99999 (it becomes a Gateway API duration in seconds), got 100000"),
    ({"server_ingress_profile": "haproxy"}, "server_ingress_profile must be one of local, generic, eks, gke, aks, traefik, got 'haproxy'"),
    ({"server_log_level": "loud"}, "value of server_log_level must be one of"),
    ({"server_auth_tokens": ["short"]}, "server_auth_tokens must each be at least 16 characters, got 1 shorter"),
    ({"server_request_state_keys": ["too-short-a-key"]}, "server_request_state_keys must each be at least 32 characters, got 1 shorter"),
    ({"server_allowed_source_ranges": ["anywhere"]}, "server_allowed_source_ranges and server_web_search_egress_cidrs must be CIDRs, got ['anywhere']"),
    ({"keycloak_hostname": "http://10.99.0.1:30808/auth"},
     "keycloak_hostname must be an http:// or https:// URL with no path, got 'http://10.99.0.1:30808/auth'"),
    ({"keycloak_node_port": 8080}, "keycloak_node_port must be 0 or a NodePort (30000-32767), got 8080"),
    ({"mcp_keycloak_enabled": True},
     "keycloak_audience must be the MCP server's resource URL (http:// or https://) when mcp_keycloak_enabled, got ''"),
    ({"mcp_keycloak_port": 0}, "mcp_keycloak_port must be a port (1-65535), got 0"),
    ({"mongo_express_allowed_source_ranges": ["everyone"]}, "mongo_express_allowed_source_ranges must be CIDRs, got ['everyone']"),
    ({"server_auth_mode": "oauth"}, "server_oauth_issuer must be the issuer's URL when server_auth_mode is oauth, got ''"),
    ({"server_auth_mode": "both", "server_oauth_issuer": "https://idp.example.com", "server_oauth_resource": "mcp"},
     "server_oauth_resource must be the server's URL (or set server_ingress_host) when server_auth_mode is both, got 'mcp'"),
    ({"server_auth_mode": "oauth", "mcp_cloud": "eks", "server_oauth_issuer": "http://idp.example.com/realms/mcp",
      "server_oauth_resource": "https://mcp.example.com/mcp"},
     "server_oauth_issuer must be an https URL outside the local cluster (mcp_cloud eks), got 'http://idp.example.com/realms/mcp'"),
    ({"server_auth_mode": "sometimes"}, "value of server_auth_mode must be one of: tokens, oauth, both, got: sometimes"),
]
# The rule a message states (the part before the value it names), to tell one case's message from another's.
RULES = {message.split(", got")[0].split(" is of type")[0] for _, message in CASES}


@pytest.mark.parametrize("extra,message", CASES, ids=[",".join(extra) for extra, _ in CASES])
def test_bad_values_fail_before_any_cluster_call(kubeconfig, extra, message):
    result = deploy(kubeconfig, extra)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert message in output, output[-3000:]
    own_rule = message.split(", got")[0].split(" is of type")[0]
    assert [rule for rule in RULES - {own_rule} if rule in output] == [], "another rule's message too"
    assert "Cannot reach the Kubernetes API" not in output
    assert "k8s_cluster_info" not in output and "Ask the Kubernetes API" not in output


def test_unreachable_cluster_is_named(kubeconfig):
    result = deploy(kubeconfig, {})
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert f"Cannot reach the Kubernetes API of local-dev (kubeconfig {kubeconfig}, context nowhere)" in output
    assert "not-a-real-token" not in output
