"""The deployed stack on a real cluster (run by molecule's verify, after deploy.yml).

In order: rollout and objects; the official MCP clients through the NodePort and a probe through
mcp-server-service inside the cluster; session affinity; mongo-express auth; a document surviving
the MongoDB pod's deletion (on a volume of local-path-provisioner) and a rolling restart, during which a WebSocket client sees 1001 and no
acknowledged call is lost; undeploy keeping the volume and a redeploy finding the document.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest
import websockets
from mcp import ClientSession
from mcp.client.websocket import websocket_client
from websockets.exceptions import ConnectionClosed

from conftest import (KUBECONFIG, NAMESPACE, NODE, REPO, SDK2_PYTHON, SERVER_SELECTOR, kget, kubectl, ready_pods,
                      run_playbook, run_pod, scratch_namespace, secret, wait_ready, wait_stack_ready)

WS_URL, HTTP_URL, HEALTH_URL = f"ws://{NODE}/mcp", f"http://{NODE}/mcp", f"http://{NODE}/health"
DOC_ID = f"cluster-{uuid.uuid4().hex[:8]}"
CLIENTS_NAMESPACE = "mcp-clients"  # inventories/local: server_ingress_namespaces


def ws_url_with(token: str) -> str:
    return WS_URL.replace("ws://", f"ws://mcp:{token}@")


async def call_tool(token: str, name: str, arguments: dict) -> dict:
    async with websocket_client(ws_url_with(token)) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            result = await session.call_tool(name, arguments)
            return result.model_dump(by_alias=True, exclude_none=True)


def wait_old_pods_gone(timeout: int) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pods = kget("pods", "-l", SERVER_SELECTOR)["items"]
        if len(pods) == 2 and not any(p["metadata"].get("deletionTimestamp") for p in pods):
            return
        time.sleep(1)
    raise AssertionError("old server pods did not terminate")


# --- rollout and objects -------------------------------------------------------------------

def test_everything_rolled_out(token):
    wait_stack_ready()
    wait_old_pods_gone(120)  # a rollout just before (deploy.yml) leaves draining pods for a while
    deployment = kget("deployment", "mcp-server")
    assert deployment["status"]["readyReplicas"] == 2
    pods = kget("pods", "-l", SERVER_SELECTOR)["items"]
    ready = [p for p in pods if any(c["type"] == "Ready" and c["status"] == "True" for c in p["status"]["conditions"])]
    assert len(ready) == 2
    assert kget("hpa", "mcp-server-hpa")["spec"]["maxReplicas"] == 10
    assert kget("pdb", "mcp-server-pdb")["spec"]["minAvailable"] == 1
    assert kget("pdb", "mongodb-pdb")["spec"]["minAvailable"] == 1
    policies = {p["metadata"]["name"] for p in kget("networkpolicy")["items"]}
    assert {"default-deny", "mcp-server", "mongodb", "mongodb-init", "mongo-express"} <= policies
    jobs = kget("jobs", "-l", "app.kubernetes.io/name=mongodb-init")["items"]
    assert len(jobs) == 1 and jobs[0]["status"].get("succeeded") == 1
    claims = kget("pvc")["items"]
    assert [c["status"]["phase"] for c in claims] == ["Bound"]
    config = json.dumps(kget("configmap", "mcp-server-config")["data"])
    assert token not in config and "MONGODB_URI" not in config


def test_every_replica_seals_request_state_with_the_kept_shared_key():
    key = secret("mcp-server-request-state", "keys").split()[0]
    assert len(key) >= 32
    spec = kget("deployment", "mcp-server")["spec"]["template"]["spec"]
    volumes = {v["name"]: v for v in spec["volumes"]}
    assert volumes["state-keys"]["secret"]["secretName"] == "mcp-server-request-state"
    config = kget("configmap", "mcp-server-config")["data"]
    assert config["MCP_STATE_KEYS_FILE"] == "/var/run/secrets/mcp-state/keys" and key not in json.dumps(config)
    pods = kget("pods", "-l", SERVER_SELECTOR)["items"]
    for pod in pods:
        logs = kubectl("logs", pod["metadata"]["name"])
        assert "MCP_STATE_KEYS is not set" not in logs and key not in logs
    # That the key is generated once and then kept: test_undeploy_keeps_the_volume_and_...


# --- MCP through the NodePort and through the Service ------------------------------------------

def test_sdk1_websocket_client_through_the_nodeport(token):
    async def scenario() -> None:
        async with websocket_client(ws_url_with(token)) as (read, write):
            async with ClientSession(read, write) as session:
                init = await session.initialize()
                assert init.serverInfo.name == "kringen-mcp-server"
                tools = {t.name for t in (await session.list_tools()).tools}
                assert {"save_note", "get_note", "search_notes"} <= tools
                saved = await session.call_tool("save_note", {"id": DOC_ID, "title": "Survivor",
                                                              "content": "kept across pods and restarts"})
                assert not saved.isError, saved
                got = await session.call_tool("get_note", {"id": DOC_ID})
                assert got.structuredContent["content"] == "kept across pods and restarts"
    asyncio.run(scenario())


def test_sdk2_streamable_http_client_through_the_nodeport(token):
    out = subprocess.run([SDK2_PYTHON, str(REPO / "app/tests/sdk2/roundtrip.py"), HTTP_URL, token, "legacy"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen["got"]["content"] == "streamable http" and seen["protocol_version"] == "2025-11-25"


def test_probe_through_the_service_inside_the_cluster(token):
    # From a pod of the namespace inventories/local lets in (server_ingress_namespaces): the
    # NetworkPolicies keep every other pod, the servers themselves included, away from the server.
    image = kget("deployment", "mcp-server")["spec"]["template"]["spec"]["containers"][0]["image"]
    with scratch_namespace(CLIENTS_NAMESPACE) as namespace:
        pod = run_pod(namespace, image, "sleep", "600")
        kubectl("wait", f"pod/{pod}", "--for=condition=Ready", "--timeout=120s", namespace=namespace, timeout=150)
        for url in (f"ws://mcp-server-service.{NAMESPACE}:8080/mcp",
                    f"http://mcp-server-service.{NAMESPACE}.svc.cluster.local:8080/mcp"):
            out = kubectl("exec", "-i", pod, "--", "sh", "-c",
                          'MCP_PROBE_TOKEN="$(cat)" exec python3 -m mcp_server.probe "$@"', "probe", url,
                          "get_note", json.dumps({"id": DOC_ID}), namespace=namespace, stdin=token, timeout=120)
            seen = json.loads(out.strip().splitlines()[-1])
            assert seen["result"]["structuredContent"]["title"] == "Survivor", seen


def test_unauthenticated_clients_are_refused():
    request = urllib.request.Request(HTTP_URL, method="POST", data=b"{}", headers={
        "Content-Type": "application/json", "Accept": "application/json, text/event-stream"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 401


def test_client_ip_affinity_keeps_one_pod():
    instances = set()
    for _ in range(12):
        with urllib.request.urlopen(HEALTH_URL, timeout=10) as response:
            instances.add(json.loads(response.read())["instance"])
    assert len(instances) == 1, instances


def test_mongo_express_needs_its_credentials():
    # From the node: its NetworkPolicy admits no pod (not even the server), only the allowed ranges and the node.
    user, password = secret("mongo-express-auth", "username"), secret("mongo-express-auth", "password")
    url = f"http://{kget('service', 'mongo-express')['spec']['clusterIP']}:8081/"

    def status(credentials: str | None) -> int:
        headers = {"Authorization": "Basic " + base64.b64encode(credentials.encode()).decode()} if credentials else {}
        try:
            return urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=20).status
        except urllib.error.HTTPError as error:
            return error.code

    assert [status(None), status("admin:wrong"), status(f"{user}:{password}")] == [401, 401, 200]


# --- durability -------------------------------------------------------------------------------

def test_document_survives_deleting_the_mongodb_pod(token):
    kubectl("delete", "pod", "mongodb-0", "--wait=true", timeout=180)
    wait_ready("statefulset", "mongodb")
    deadline = time.monotonic() + 180
    while True:
        try:
            got = asyncio.run(call_tool(token, "get_note", {"id": DOC_ID}))
        except Exception as exc:  # the servers are not ready while MongoDB is away, so the NodePort refuses
            got = {"isError": True, "error": repr(exc)}
        if not got.get("isError"):
            break
        assert time.monotonic() < deadline, got
        time.sleep(2)
    assert got["structuredContent"]["content"] == "kept across pods and restarts"
    # One server answering is not the stack whole again: wait for both, so the next test starts from it.
    while len(ready_pods()) < 2:
        assert time.monotonic() < deadline, f"server pods Ready after MongoDB came back: {ready_pods()}"
        time.sleep(2)


@pytest.mark.skipif(bool(os.environ.get("KRINGEN_USE_KUBECONFIG")), reason="the local cluster's provisioner")
def test_the_mongodb_volume_is_a_local_path_provisioner_directory():
    claim = kget("pvc")["items"][0]
    assert claim["metadata"]["annotations"]["volume.kubernetes.io/storage-provisioner"] == "rancher.io/local-path"
    volume = json.loads(kubectl("get", "pv", claim["spec"]["volumeName"], "-o", "json"))
    assert volume["metadata"]["annotations"]["pv.kubernetes.io/provisioned-by"] == "rancher.io/local-path"
    assert volume["spec"]["storageClassName"] == "standard"
    assert volume["spec"]["persistentVolumeReclaimPolicy"] == "Delete"
    node_terms = volume["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"]
    assert node_terms[0]["matchExpressions"][0]["values"] == ["kringen-node"]
    # The directory is on this host, under the cluster's volumes/, and holds FerretDB's SQLite files.
    path = Path(volume["spec"]["hostPath"]["path"])
    assert path.parent == Path(KUBECONFIG).parent / "volumes", path
    assert any(path.iterdir()), f"{path} is empty"


async def reply_to(ws, request_id: int) -> dict:
    """The response to request_id; notifications in between are read and dropped (a client that
    leaves frames unread stalls its connection once its receive queue is full)."""
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), 30))
        if message.get("id") == request_id:
            return message


def test_rolling_restart_closes_with_1001_and_loses_no_acknowledged_call(token):
    acknowledged: list[str] = []
    close_codes: list[int] = []

    async def writer(stop: asyncio.Event) -> None:
        counter = 0
        while not stop.is_set():
            try:
                async with websockets.connect(WS_URL, subprotocols=["mcp"], open_timeout=10,
                                              additional_headers={"Authorization": f"Bearer {token}"}) as ws:
                    await ws.send(json.dumps({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
                        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}))
                    await reply_to(ws, 0)
                    await ws.send(json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}))
                    while not stop.is_set():
                        counter += 1
                        note_id = f"roll-{DOC_ID}-{counter}"
                        await ws.send(json.dumps({"jsonrpc": "2.0", "id": counter, "method": "tools/call", "params": {
                            "name": "save_note", "arguments": {"id": note_id, "title": "r", "content": "r"}}}))
                        reply = await reply_to(ws, counter)
                        if "result" in reply and not reply["result"].get("isError"):
                            acknowledged.append(note_id)
                        await asyncio.sleep(0.05)
            except ConnectionClosed as closed:
                if closed.rcvd is not None:
                    close_codes.append(closed.rcvd.code)
                await asyncio.sleep(0.2)
            except (OSError, asyncio.TimeoutError, websockets.InvalidStatus):
                await asyncio.sleep(0.5)

    async def scenario() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(writer(stop))
        await asyncio.sleep(2)
        await asyncio.to_thread(kubectl, "rollout", "restart", "deployment/mcp-server")
        await asyncio.to_thread(wait_ready, "deployment", "mcp-server", 600)
        # The rollout counts as done while old pods still drain (preStop sleep, then the drain window);
        # wait until they are gone, so the client has seen their close and moved on.
        await asyncio.to_thread(wait_old_pods_gone, 120)
        await asyncio.sleep(3)
        stop.set()
        await asyncio.wait_for(task, 60)

    asyncio.run(scenario())
    assert close_codes and set(close_codes) == {1001}, close_codes
    assert len(acknowledged) > 20
    missing = [n for n in acknowledged if read_back(token, n).get("isError")]
    assert not missing, f"{len(missing)} acknowledged saves lost: {missing[:5]}"
    assert read_back(token, DOC_ID)["structuredContent"]["title"] == "Survivor"


def read_back(token: str, note: str, seconds: float = 60) -> dict:
    """get_note, retried while the NodePort refuses (a moment with no Ready server pod), not when it answers."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return asyncio.run(call_tool(token, "get_note", {"id": note}))
        except OSError:
            assert time.monotonic() < deadline, f"no server answered for {seconds:.0f}s"
            time.sleep(1)


# --- undeploy and redeploy ---------------------------------------------------------------------

def test_check_mode_with_diff_runs_clean_and_changes_nothing():
    result = run_playbook("deploy.yml", "--check", "--diff")
    recap = result.stdout[result.stdout.rindex("PLAY RECAP"):]
    assert " changed=0 " in recap and " failed=0 " in recap, recap


def test_undeploy_keeps_the_volume_and_a_redeploy_finds_the_document(token):
    state_key = secret("mcp-server-request-state", "keys")
    run_playbook("undeploy.yml")
    left = kubectl("get", "deployment,statefulset,service,hpa,pdb,networkpolicy,configmap,job,ingress,httproute",
                   "-l", "app.kubernetes.io/part-of=kringen-mcp-server", "-o", "name").strip()
    assert left == "", left
    claims = kget("pvc")["items"]
    assert len(claims) == 1 and claims[0]["status"]["phase"] == "Bound"
    assert kget("secret", "mongodb-credentials") and kget("secret", "mcp-server-auth")
    assert kget("secret", "mcp-server-request-state")
    run_playbook("deploy.yml")
    wait_ready("deployment", "mcp-server")
    got = asyncio.run(call_tool(token, "get_note", {"id": DOC_ID}))
    assert got["structuredContent"]["content"] == "kept across pods and restarts"
    # The request-state key was generated once and then kept: states sealed before still open.
    assert secret("mcp-server-request-state", "keys") == state_key


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-v"]))
