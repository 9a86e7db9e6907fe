"""render.yml for every cloud group: valid against the Kubernetes 1.33 schemas, with the seed's
names and numbers, and no secret in any rendered file."""

from __future__ import annotations

from pathlib import Path

import subprocess

import jsonschema
import kubernetes_validate
import pytest
import yaml

from conftest import run_playbook

KUBERNETES_VERSION = "1.33.0"
CLUSTERS = ["local-dev", "eks-prod", "gke-prod", "aks-prod"]
REPO = Path(__file__).resolve().parents[2]
# Custom resources have no schema in the bundled set: Gateway API kinds are checked against the CRDs
# of the gateway-api module, the clouds' own policies field by field below.
GATEWAY_KINDS = {"HTTPRoute"}
CUSTOM_KINDS = {"BackendConfig", "GCPBackendPolicy", "HealthCheckPolicy", "RoutePolicy", "TargetGroupConfiguration"}


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("rendered")
    result = run_playbook("playbooks/render.yml", "-e", f"mcp_render_root={out}")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    return out


@pytest.fixture(scope="module")
def rendered_full(tmp_path_factory) -> Path:
    """Every optional part on: mongo-express with an ingress, a replica set, TLS, web search."""
    out = tmp_path_factory.mktemp("rendered-full")
    result = run_playbook(
        "playbooks/render.yml", "-l", "local-dev", "-e", f"mcp_render_root={out}",
        "-e", '{"mongo_express_enabled": true, "mongo_express_ingress_enabled": true,'
              ' "mongo_express_allowed_source_ranges": ["10.0.0.0/8"], "mongodb_replica_set_enabled": true,'
              ' "server_ingress_tls_secret_name": "mcp-tls", "server_web_search_url": "http://searxng:8080/search",'
              ' "server_session_affinity": "client"}')
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    return out / "local-dev"


def documents(folder: Path) -> list[dict]:
    docs = []
    for path in sorted(folder.glob("*.yaml")):
        docs += [d for d in yaml.safe_load_all(path.read_text()) if d]
    return docs


def find(docs: list[dict], kind: str, name: str) -> dict:
    matches = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(matches) == 1, f"{kind}/{name}: {len(matches)} found"
    return matches[0]


@pytest.mark.parametrize("cluster", CLUSTERS)
def test_every_resource_is_valid_for_kubernetes_1_33(rendered, cluster):
    docs = documents(rendered / cluster)
    assert len(docs) >= 15
    for doc in docs:
        if doc["kind"] in CUSTOM_KINDS:
            continue
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


@pytest.fixture(scope="module")
def rendered_routes(tmp_path_factory) -> Path:
    """Every cloud with an HTTPRoute on a Gateway that the platform owns in another namespace."""
    out = tmp_path_factory.mktemp("rendered-routes")
    result = run_playbook("playbooks/render.yml", "-e", f"mcp_render_root={out}", "-e",
                          '{"server_httproute_enabled": true, "server_gateway_name": "shared",'
                          ' "server_gateway_namespace": "gateways", "server_ingress_host": "mcp.example.com"}')
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    return out


@pytest.fixture(scope="module")
def gateway_schemas() -> dict[str, dict]:
    """Kind -> the openAPIV3Schema of its served v1 version, from the standard-channel CRDs."""
    crds = subprocess.run(["bash", str(REPO / "hack/build/gateway-api.sh")], capture_output=True, text=True,
                          check=True).stdout.strip().splitlines()[-1]
    schemas = {}
    for path in Path(crds).glob("*.yaml"):
        for crd in yaml.safe_load_all(path.read_text()):
            if crd and crd.get("kind") == "CustomResourceDefinition":
                for version in crd["spec"]["versions"]:
                    if version["name"] == "v1" and version.get("served"):
                        schemas[crd["spec"]["names"]["kind"]] = version["schema"]["openAPIV3Schema"]
    assert {"HTTPRoute", "Gateway", "GatewayClass"} <= schemas.keys()
    return schemas


@pytest.mark.parametrize("cluster", CLUSTERS)
def test_httproute_is_valid_and_asks_for_no_affinity(rendered_routes, gateway_schemas, cluster):
    docs = documents(rendered_routes / cluster)
    route = find(docs, "HTTPRoute", "mcp-server-route")
    jsonschema.validate(route, gateway_schemas["HTTPRoute"])
    assert route["spec"]["parentRefs"] == [{"group": "gateway.networking.k8s.io", "kind": "Gateway",
                                            "name": "shared", "namespace": "gateways"}]
    assert route["spec"]["hostnames"] == ["mcp.example.com"]
    [rule] = route["spec"]["rules"]
    assert rule["backendRefs"] == [{"name": "mcp-server-service", "port": 8080}]
    assert rule["timeouts"] == {"request": "3600s", "backendRequest": "3600s"}
    assert "sessionPersistence" not in rule
    service = find(docs, "Service", "mcp-server-service")
    assert service["spec"]["ports"][0]["appProtocol"] == "kubernetes.io/ws"
    assert service["spec"]["sessionAffinity"] == "None"
    assert "mcp.example.com" in find(docs, "ConfigMap", "mcp-server-config")["data"]["MCP_ALLOWED_HOSTS"].split(",")
    for doc in docs:
        if doc["kind"] not in CUSTOM_KINDS | GATEWAY_KINDS:
            kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_cloud_gateway_policies(rendered, rendered_routes):
    gke = documents(rendered_routes / "gke-prod")
    backend = find(gke, "GCPBackendPolicy", "mcp-server-backend-policy")["spec"]
    assert backend["targetRef"] == {"group": "", "kind": "Service", "name": "mcp-server-service"}
    assert backend["default"]["timeoutSec"] == 3600
    assert backend["default"]["connectionDraining"] == {"drainingTimeoutSec": 30}
    assert "sessionAffinity" not in backend["default"]
    health = find(gke, "HealthCheckPolicy", "mcp-server-health-check")["spec"]["default"]["config"]
    assert health == {"type": "HTTP", "httpHealthCheck": {"port": 8080, "requestPath": "/ready"}}
    aks = documents(rendered_routes / "aks-prod")
    route_policy = find(aks, "RoutePolicy", "mcp-server-route-policy")["spec"]
    assert route_policy["targetRef"] == {"group": "gateway.networking.k8s.io", "kind": "HTTPRoute",
                                         "name": "mcp-server-route"}
    assert route_policy["default"] == {"timeouts": {"routeTimeout": "3600s"}}
    assert find(aks, "HealthCheckPolicy", "mcp-server-health-check")["spec"]["default"]["http"]["path"] == "/ready"
    eks = find(documents(rendered_routes / "eks-prod"), "TargetGroupConfiguration", "mcp-server-target-group")["spec"]
    assert eks["targetReference"] == {"name": "mcp-server-service"}
    assert eks["defaultConfiguration"]["healthCheckConfig"] == {"healthCheckPath": "/ready"}
    assert {"key": "deregistration_delay.timeout_seconds", "value": "30"} \
        in eks["defaultConfiguration"]["targetGroupAttributes"]
    assert not [d for d in documents(rendered_routes / "local-dev") if d["kind"] in CUSTOM_KINDS]
    # Without server_httproute_enabled: no route and no gateway policy on any cloud.
    for cluster in CLUSTERS:
        kinds = {d["kind"] for d in documents(rendered / cluster)}
        assert not kinds & (GATEWAY_KINDS | CUSTOM_KINDS - {"BackendConfig"}), cluster


def test_full_feature_render_is_valid(rendered_full):
    docs = documents(rendered_full)
    for doc in docs:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
    statefulset = find(docs, "StatefulSet", "mongodb")
    assert statefulset["spec"]["replicas"] == 3
    assert "--replSet" in statefulset["spec"]["template"]["spec"]["containers"][0]["args"]
    find(docs, "Deployment", "mongo-express")
    me_ingress = find(docs, "Ingress", "mongo-express")
    assert me_ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/whitelist-source-range"] == "10.0.0.0/8"
    ingress = find(docs, "Ingress", "mcp-server-ingress")
    assert ingress["spec"]["tls"][0]["secretName"] == "mcp-tls"
    # server_session_affinity: client puts affinity back everywhere HTTP goes.
    assert ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/affinity"] == "cookie"
    assert ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/session-cookie-expires"] == "86400"
    assert find(docs, "Service", "mcp-server-service")["spec"]["sessionAffinity"] == "ClientIP"
    me_policy = find(docs, "NetworkPolicy", "mongo-express")
    assert {"ipBlock": {"cidr": "10.0.0.0/8"}} in me_policy["spec"]["ingress"][0]["from"]


def test_seed_names_and_numbers(rendered):
    docs = documents(rendered / "local-dev")
    deployment = find(docs, "Deployment", "mcp-server")
    spec = deployment["spec"]
    pod = spec["template"]["spec"]
    container = pod["containers"][0]
    assert spec["replicas"] == 2
    assert spec["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    assert pod["terminationGracePeriodSeconds"] == 30
    assert container["lifecycle"]["preStop"]["exec"]["command"][-1] == "sleep 15"
    assert container["resources"] == {"requests": {"memory": "256Mi", "cpu": "100m"},
                                      "limits": {"memory": "512Mi", "cpu": "500m"}}
    assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert container["livenessProbe"]["httpGet"]["path"] == "/health"
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["topologySpreadConstraints"][0]["topologyKey"] == "kubernetes.io/hostname"
    annotations = spec["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true" and annotations["prometheus.io/port"] == "9090"
    service = find(docs, "Service", "mcp-server-service")
    assert service["spec"]["ports"][0]["port"] == 8080
    # HTTP needs no affinity (2026-07-28 is stateless, 2025 sessions are shared records) ...
    assert service["spec"]["sessionAffinity"] == "None" and "sessionAffinityConfig" not in service["spec"]
    # ... the NodePort keeps the seed's ClientIP, which brings a reconnecting WebSocket back to its pod.
    nodeport = find(docs, "Service", "mcp-server-nodeport")
    assert nodeport["spec"]["type"] == "NodePort" and nodeport["spec"]["ports"][0]["nodePort"] == 30800
    assert nodeport["spec"]["sessionAffinity"] == "ClientIP"
    assert nodeport["spec"]["sessionAffinityConfig"]["clientIP"]["timeoutSeconds"] == 86400
    ingress = find(docs, "Ingress", "mcp-server-ingress")
    ann = ingress["metadata"]["annotations"]
    assert ann["nginx.ingress.kubernetes.io/proxy-read-timeout"] == "3600"
    assert ann["nginx.ingress.kubernetes.io/proxy-send-timeout"] == "3600"
    assert not [k for k in ann if "affinity" in k or "session-cookie" in k]
    hpa = find(docs, "HorizontalPodAutoscaler", "mcp-server-hpa")
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (2, 10)
    targets = {m["resource"]["name"]: m["resource"]["target"]["averageUtilization"] for m in hpa["spec"]["metrics"]}
    assert targets == {"cpu": 70, "memory": 80}
    assert hpa["spec"]["behavior"]["scaleDown"]["stabilizationWindowSeconds"] >= 300
    assert find(docs, "PodDisruptionBudget", "mcp-server-pdb")["spec"]["minAvailable"] == 1
    assert find(docs, "PodDisruptionBudget", "mongodb-pdb")["spec"]["minAvailable"] == 1
    statefulset = find(docs, "StatefulSet", "mongodb")
    claim = statefulset["spec"]["volumeClaimTemplates"][0]
    assert claim["spec"]["resources"]["requests"]["storage"] == "10Gi"
    assert claim["spec"]["storageClassName"] == "standard"
    assert find(docs, "Namespace", "mcp-server")
    policies = {d["metadata"]["name"] for d in docs if d["kind"] == "NetworkPolicy"}
    assert {"default-deny", "mcp-server", "mongodb", "mongodb-init"} <= policies
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == "docker.io/kringen/mcp-server:latest"


def test_cloud_specific_ingress(rendered):
    eks = find(documents(rendered / "eks-prod"), "Ingress", "mcp-server-ingress")
    assert eks["spec"]["ingressClassName"] == "alb"
    assert eks["metadata"]["annotations"]["alb.ingress.kubernetes.io/load-balancer-attributes"] \
        == "idle_timeout.timeout_seconds=4000"
    gke_docs = documents(rendered / "gke-prod")
    gke = find(gke_docs, "Ingress", "mcp-server-ingress")
    assert gke["metadata"]["annotations"]["kubernetes.io/ingress.class"] == "gce"
    backend = find(gke_docs, "BackendConfig", "mcp-backendconfig")
    assert backend["apiVersion"] == "cloud.google.com/v1"
    assert backend["spec"]["timeoutSec"] == 3600
    assert "sessionAffinity" not in backend["spec"]
    service = find(gke_docs, "Service", "mcp-server-service")
    assert service["metadata"]["annotations"]["cloud.google.com/backend-config"] == '{"default": "mcp-backendconfig"}'
    aks = find(documents(rendered / "aks-prod"), "Ingress", "mcp-server-ingress")
    assert aks["spec"]["ingressClassName"] == "azure-application-gateway"
    assert aks["metadata"]["annotations"]["appgw.ingress.kubernetes.io/connection-draining-timeout"] == "30"
    assert "appgw.ingress.kubernetes.io/cookie-based-affinity" not in aks["metadata"]["annotations"]
    assert "stickiness" not in eks["metadata"]["annotations"]["alb.ingress.kubernetes.io/target-group-attributes"]
    for cluster, storage in [("eks-prod", "gp3"), ("gke-prod", "standard-rwo"), ("aks-prod", "managed-csi")]:
        statefulset = find(documents(rendered / cluster), "StatefulSet", "mongodb")
        assert statefulset["spec"]["volumeClaimTemplates"][0]["spec"]["storageClassName"] == storage


@pytest.mark.parametrize("cluster", CLUSTERS)
def test_no_secret_is_rendered(rendered, cluster):
    docs = documents(rendered / cluster)
    assert not [d for d in docs if d["kind"] == "Secret"]
    config = find(docs, "ConfigMap", "mcp-server-config")["data"]
    assert "MONGODB_URI" not in config and "MCP_AUTH_TOKENS" not in config
    assert config["MCP_AUTH_TOKENS_FILE"] == "/var/run/secrets/mcp/tokens"
    assert config["MCP_STATE_KEYS_FILE"] == "/var/run/secrets/mcp-state/keys"
    volumes = find(docs, "Deployment", "mcp-server")["spec"]["template"]["spec"]["volumes"]
    assert {"name": "state-keys", "secret": {"secretName": "mcp-server-request-state", "defaultMode": 0o440}} in volumes
    text = "".join(p.read_text() for p in (rendered / cluster).glob("*.yaml")).lower()
    assert "password:" not in text and "stringdata" not in text


def render_local(tmp_path_factory, name: str, extra: str) -> list[dict]:
    """local-dev's manifests with the extra settings, each valid for Kubernetes 1.33."""
    out = tmp_path_factory.mktemp(name)
    result = run_playbook("playbooks/render.yml", "-l", "local-dev", "-e", f"mcp_render_root={out}", "-e", extra)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    docs = documents(out / "local-dev")
    for doc in docs:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
    return docs


def render_policies(tmp_path_factory, name: str, extra: str) -> dict:
    return {d["metadata"]["name"]: d["spec"] for d in render_local(tmp_path_factory, name, extra)
            if d["kind"] == "NetworkPolicy"}


def test_server_policy_excepts_the_cluster_from_wide_ranges(tmp_path_factory):
    policies = render_policies(tmp_path_factory, "policies-wide", (
        '{"mcp_cluster_cidrs": ["10.88.0.0/16", "10.0.0.0/24", "fd00::/48"],'
        ' "server_allowed_source_ranges": ["0.0.0.0/0", "10.0.0.0/8", "192.168.0.0/16", "10.88.0.0/16"],'
        ' "server_ingress_namespaces": ["gateway"],'
        ' "server_web_search_egress_cidrs": ["0.0.0.0/0", "10.99.0.1/32"], "server_web_search_egress_ports": [8888]}'))
    server = policies["mcp-server"]
    assert server["ingress"][0]["from"] == [
        {"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.88.0.0/16", "10.0.0.0/24"]}},
        {"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.88.0.0/16", "10.0.0.0/24"]}},
        {"ipBlock": {"cidr": "192.168.0.0/16"}},
        {"ipBlock": {"cidr": "10.88.0.0/16"}},  # asked for in so many words
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "gateway"}}},
    ]
    assert server["ingress"][0]["ports"] == [{"protocol": "TCP", "port": 8080}]
    assert server["egress"][2] == {
        "to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.88.0.0/16", "10.0.0.0/24"]}},
               {"ipBlock": {"cidr": "10.99.0.1/32"}}],
        "ports": [{"protocol": "TCP", "port": 8888}]}


def test_empty_ranges_admit_nobody_and_open_nothing(tmp_path_factory):
    policies = render_policies(tmp_path_factory, "policies-empty", (
        '{"server_allowed_source_ranges": [], "server_web_search_egress_cidrs": [],'
        ' "mongo_express_enabled": true, "mongo_express_allowed_source_ranges": []}'))
    # An empty `from` or `to` would mean "from/to anywhere": the rules are left out instead.
    assert policies["mcp-server"]["ingress"] == [] and len(policies["mcp-server"]["egress"]) == 2
    assert policies["mongo-express"]["ingress"] == []


def test_oauth_mode_configures_the_resource_server_and_its_egress(tmp_path_factory):
    """server_auth_mode oauth: the issuer, resource and scopes reach the server's settings, no static-token
    Secret is mounted (none is made), and the server may reach the issuer on its port only."""
    docs = render_local(tmp_path_factory, "oauth", (
        '{"server_auth_mode": "oauth", "server_oauth_issuer": "https://idp.example.com/realms/mcp",'
        ' "server_oauth_resource": "https://mcp.example.com/mcp", "server_oauth_write_scope": "notes:write",'
        ' "mcp_cluster_cidrs": ["10.88.0.0/16"], "server_oauth_egress_cidrs": ["0.0.0.0/0"],'
        ' "server_oauth_egress_ports": [8443]}'))
    settings = find(docs, "ConfigMap", "mcp-server-config")["data"]
    assert {k: v for k, v in settings.items() if k.startswith(("MCP_AUTH", "MCP_OAUTH"))} == {
        "MCP_AUTH_DISABLED": "false", "MCP_AUTH_TOKENS_FILE": "", "MCP_AUTH_MODE": "oauth",
        "MCP_OAUTH_ISSUER": "https://idp.example.com/realms/mcp", "MCP_OAUTH_RESOURCE": "https://mcp.example.com/mcp",
        "MCP_OAUTH_JWKS_URL": "", "MCP_OAUTH_READ_SCOPE": "mcp:read", "MCP_OAUTH_WRITE_SCOPE": "notes:write"}
    pod = find(docs, "Deployment", "mcp-server")["spec"]["template"]["spec"]
    assert "auth" not in {v["name"] for v in pod["volumes"]}
    egress = find(docs, "NetworkPolicy", "mcp-server")["spec"]["egress"]
    assert egress[-1] == {"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.88.0.0/16"]}}],
                          "ports": [{"protocol": "TCP", "port": 8443}]}


def test_token_mode_has_no_oauth_settings_or_issuer_egress(rendered):
    docs = documents(rendered / "local-dev")
    settings = find(docs, "ConfigMap", "mcp-server-config")["data"]
    assert settings["MCP_AUTH_MODE"] == "tokens" and not any(k.startswith("MCP_OAUTH") for k in settings)
    assert settings["MCP_AUTH_TOKENS_FILE"] == "/var/run/secrets/mcp/tokens"
    assert len(find(docs, "NetworkPolicy", "mcp-server")["spec"]["egress"]) == 3  # MongoDB, DNS, web search
    assert settings["MCP_PROCESSES"] == "0"  # one per CPU of the container's limit


def test_keycloak_in_the_stack_is_rendered_with_its_policy_and_the_servers_way_to_it(tmp_path_factory):
    """mcp_keycloak_enabled: Keycloak's Deployment (its realm from a Secret that is not rendered), its
    Service on the node port, a policy that opens its HTTP port alone, and one more egress rule of the
    server: to Keycloak's pods, on its port."""
    docs = render_local(tmp_path_factory, "keycloak", (
        '{"mcp_keycloak_enabled": true, "keycloak_hostname": "http://10.99.0.1:30808", "keycloak_node_port": 30808,'
        ' "keycloak_audience": "http://127.0.0.1:30800/mcp", "server_auth_mode": "both",'
        ' "server_oauth_issuer": "http://10.99.0.1:30808/realms/mcp", "server_oauth_resource": "http://127.0.0.1:30800/mcp",'
        ' "server_oauth_egress_cidrs": []}'))
    pod = find(docs, "Deployment", "keycloak")["spec"]["template"]["spec"]
    assert pod["containers"][0]["args"] == [
        "start-dev", "--import-realm", "--db=dev-mem", "--cache=local", "--health-enabled=true", "--http-port=8080",
        "--hostname=http://10.99.0.1:30808"]
    assert pod["volumes"] == [{"name": "realm", "secret": {"secretName": "keycloak-realm"}}]
    assert not [d for d in docs if d["kind"] == "Secret"]
    assert find(docs, "Service", "keycloak")["spec"]["ports"][0]["nodePort"] == 30808
    keycloak = find(docs, "NetworkPolicy", "keycloak")["spec"]
    assert keycloak["ingress"] == [{"ports": [{"protocol": "TCP", "port": 8080}]}] and len(keycloak["egress"]) == 1
    egress = find(docs, "NetworkPolicy", "mcp-server")["spec"]["egress"]
    assert egress[2] == {"to": [{"podSelector": {"matchLabels": {
        "app.kubernetes.io/name": "keycloak", "app.kubernetes.io/component": "authorization-server"}}}],
        "ports": [{"protocol": "TCP", "port": 8080}]}
    assert len(egress) == 4  # MongoDB, DNS, Keycloak, web search: no issuer egress beyond the cluster


def test_keycloak_off_renders_nothing_of_it(rendered):
    docs = documents(rendered / "local-dev")
    assert not [d for d in docs if d["metadata"]["name"] == "keycloak"]
