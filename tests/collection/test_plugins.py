"""The collection's plugins against real things: mcp_probe against a running MCP server (with a
real FerretDB), build_id against a real git work tree and a plain directory."""

from __future__ import annotations

import json
import os
import re
import subprocess
import uuid

import pytest

from conftest import BIN, REPO, ansible_env
from support.processes import TEST_TOKEN, FerretDB, McpServerProcess  # app/tests/support

APP_PYTHON = os.environ.get("MCP_APP_PYTHON", str(REPO / ".venv" / "bin" / "python"))


@pytest.fixture(scope="module")
def server():
    if not os.path.exists(APP_PYTHON):
        pytest.fail(f"the app's virtualenv is missing ({APP_PYTHON}); `make venv` creates it")
    ferret = FerretDB().start()
    proc = McpServerProcess(ferret.uri, f"probe_{uuid.uuid4().hex[:8]}", python=APP_PYTHON).start()
    proc.wait_ready()
    yield proc
    proc.stop()
    ferret.stop()


def probe(**args) -> dict:
    result = subprocess.run([str(BIN / "ansible"), "localhost", "-c", "local", "-m", "kringen.mcp_server.mcp_probe",
                             "-a", json.dumps(args), "-o"], capture_output=True, text=True, env=ansible_env(),
                            cwd=REPO, timeout=120)
    out = result.stdout.strip()
    payload = json.loads(out[out.index("{"):])
    payload["_rc"] = result.returncode
    payload["_raw"] = out
    return payload


@pytest.mark.parametrize("version", ["2026-07-28", "2025-11-25"])
@pytest.mark.parametrize("scheme", ["ws", "http"])
def test_probe_round_trip(server, scheme, version):
    url = f"{scheme}://127.0.0.1:{server.port}/mcp"
    seen = probe(url=url, token=TEST_TOKEN, health_url=f"{server.base}/health", protocol_version=version,
                 expect_tools=["save_note", "get_note"],
                 call={"name": "save_note", "arguments": {"id": f"probe-{scheme}", "title": "p", "content": "c"}})
    assert seen["_rc"] == 0, seen["_raw"]
    assert seen["health_status"] == 200
    assert seen["protocol_version"] == version
    assert seen["server_info"]["name"] == "kringen-mcp-server"
    assert seen["transport"] == ("websocket" if scheme == "ws" else "streamable_http")
    assert seen["call_result"]["structuredContent"]["id"] == f"probe-{scheme}"
    assert seen["changed"] is False
    assert TEST_TOKEN not in seen["_raw"]
    if scheme == "ws":
        assert seen["subprotocol"] == "mcp"
    else:
        assert seen["session_id_issued"] is (version == "2025-11-25")  # 2026-07-28 has no sessions


def test_probe_reports_a_refused_token(server):
    for url in (server.ws_url, server.http_url):
        seen = probe(url=url, token="wrong-token-wrong-token")
        assert seen["_rc"] != 0
        assert "401" in seen["msg"]


def test_probe_reports_missing_tools_and_tool_errors(server):
    missing = probe(url=server.http_url, token=TEST_TOKEN, expect_tools=["no_such_tool"])
    assert missing["_rc"] != 0 and "no_such_tool" in missing["msg"]
    failing = probe(url=server.ws_url, token=TEST_TOKEN, call={"name": "get_note", "arguments": {"id": "nope"}})
    assert failing["_rc"] != 0 and "No note with id 'nope'" in failing["msg"]


def test_probe_unreachable():
    from support.processes import free_port
    seen = probe(url=f"ws://127.0.0.1:{free_port()}/mcp", retries=1, delay=0.1, timeout=2)
    assert seen["_rc"] != 0 and "cannot connect" in seen["msg"] and seen["attempts"] == 2


def lookup_build_id(source: str) -> str:
    result = subprocess.run([str(BIN / "ansible"), "localhost", "-c", "local", "-m", "ansible.builtin.debug", "-a",
                             f"msg={{{{ lookup('kringen.mcp_server.build_id', source='{source}') }}}}"],
                            capture_output=True, text=True, env=ansible_env(), cwd=REPO, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    return re.search(r'"msg": "([^"]+)"', result.stdout).group(1)


def test_build_id_is_the_short_git_hash(tmp_path):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "f").write_text("x")
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t"}
    subprocess.run(["git", "-C", str(tmp_path), "add", "f"], check=True)
    subprocess.run(["git", "-C", str(tmp_path), "commit", "-qm", "x"], check=True, env=env)
    short = subprocess.run(["git", "-C", str(tmp_path), "rev-parse", "--short", "HEAD"], capture_output=True,
                           text=True, check=True).stdout.strip()
    assert lookup_build_id(str(tmp_path)) == short


def test_build_id_outside_git_is_a_utc_timestamp(tmp_path):
    import datetime
    value = lookup_build_id(str(tmp_path))
    assert re.fullmatch(r"\d{14}", value)
    stamp = datetime.datetime.strptime(value, "%Y%m%d%H%M%S").replace(tzinfo=datetime.timezone.utc)
    assert abs((datetime.datetime.now(datetime.timezone.utc) - stamp).total_seconds()) < 120


def load_pending_rollouts():
    import importlib.util
    # the rule the pending_rollouts filter and k8s_apply's rollouts_fact share
    spec = importlib.util.spec_from_file_location("rollouts", REPO / "plugins" / "module_utils" / "rollouts.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.pending_rollouts


def deployment(generation, observed, replicas=2, available=2, updated=2):
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "mcp-server", "namespace": "mcp", "generation": generation},
            "spec": {"replicas": replicas},
            "status": {"observedGeneration": observed, "replicas": updated, "updatedReplicas": updated,
                       "availableReplicas": available}}


def test_pending_rollouts_keeps_what_has_not_rolled_out():
    pending_rollouts = load_pending_rollouts()
    job_running = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "init", "namespace": "mcp"},
                   "status": {"active": 1}}
    job_done = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "old", "namespace": "mcp"},
                "status": {"conditions": [{"type": "Complete", "status": "True"}]}}
    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "svc", "namespace": "mcp"}}
    applied = {"result": {"results": [{"result": obj} for obj in
                                      (deployment(3, 2), job_running, job_done, service)]}}
    pending = pending_rollouts([], applied, 600)
    assert [(p["kind"], p["name"], p["timeout"]) for p in pending] == [("Deployment", "mcp-server", 600),
                                                                      ("Job", "init", 600)]
    # The same Deployment applied again, now rolled out: its entry goes, the Job's stays.
    assert [p["kind"] for p in pending_rollouts(pending, {"result": deployment(3, 3)})] == ["Job"]
    # Rolled out at the new generation but one pod not yet available.
    assert len(pending_rollouts([], {"result": deployment(3, 3, available=1)})) == 1
    # A skipped or empty apply adds nothing.
    assert pending_rollouts(pending, {"result": {}}) == pending


def secret_values(**args) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "ansible"), "localhost", "-c", "local", "-m", "kringen.mcp_server.secret_values",
                           "-a", json.dumps(args), "-o"], capture_output=True, text=True, env=ansible_env(),
                          cwd=REPO, timeout=120)


def test_secret_values_generates_what_it_cannot_read():
    """Without reading (rendering), every key gets a new value of its length, of letters and digits."""
    result = secret_values(name="demo", namespace="demo", keys={"password": 32, "key": 256}, read=False)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout.strip()
    values = json.loads(out[out.index("{"):])["ansible_facts"]["k8s_resources_secret_values"]
    assert {key: len(value) for key, value in values.items()} == {"password": 32, "key": 256}
    assert all(re.fullmatch(r"[A-Za-z0-9]+", value) for value in values.values())
    again = secret_values(name="demo", namespace="demo", keys={"password": 32}, read=False)
    assert again.returncode == 0 and values["password"] not in again.stdout  # a new one each time


def test_secret_values_refuses_a_length_that_is_not_one():
    result = secret_values(name="demo", namespace="demo", keys={"password": 0}, read=False)
    assert result.returncode != 0
    assert "the length of key 'password' must be a positive integer, got 0" in result.stdout + result.stderr


def run_module(module: str, **args) -> tuple[int, dict]:
    result = subprocess.run([str(BIN / "ansible"), "localhost", "-c", "local", "-m", module, "-a", json.dumps(args),
                             "-o"], capture_output=True, text=True, env=ansible_env(), cwd=REPO, timeout=120)
    out = result.stdout.strip()
    return result.returncode, json.loads(out[out.index("{"):])


MANIFESTS_PLAY = """
- hosts: localhost
  connection: local
  gather_facts: false
  vars:
    app: demo
    replicas: 2
  tasks:
    - name: Both lookups, for the same templates
      vars:
        port: 8080
      ansible.builtin.set_fact:
        ours: "{{ query('kringen.mcp_server.manifests', 'two.yaml.j2', '', 'one.yaml.j2') }}"
        builtin: >-
          {{ (lookup('ansible.builtin.template', 'two.yaml.j2') | from_yaml_all | select | list)
             + (lookup('ansible.builtin.template', 'one.yaml.j2') | from_yaml_all | select | list) }}
    - name: Show them
      ansible.builtin.debug:
        msg: {ours: "{{ ours }}", builtin: "{{ builtin }}"}
"""


def test_manifests_renders_as_the_template_lookup(tmp_path):
    """The same objects as ansible.builtin.template | from_yaml_all, empty documents and names left out,
    with the play's and the task's variables and the template's own (template_path) seen."""
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "two.yaml.j2").write_text(
        "---\n# only a comment: an empty document\n---\n"
        "apiVersion: v1\nkind: Service\nmetadata: {name: '{{ app }}'}\nspec: {ports: [{port: {{ port }}}]}\n"
        "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: '{{ app }}'\n"
        "  annotations: {source: '{{ template_path | basename }}'}\nspec: {replicas: {{ replicas }}}\n")
    (tmp_path / "templates" / "one.yaml.j2").write_text("kind: ConfigMap\ndata: {app: '{{ app }}'}\n")
    (tmp_path / "play.yml").write_text(MANIFESTS_PLAY)
    result = subprocess.run([str(BIN / "ansible-playbook"), "-i", "localhost,", str(tmp_path / "play.yml")],
                            capture_output=True, text=True, env=ansible_env(ANSIBLE_STDOUT_CALLBACK="json"),
                            cwd=REPO, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    shown = json.loads(result.stdout)["plays"][0]["tasks"][1]["hosts"]["localhost"]["msg"]
    assert shown["ours"] == shown["builtin"]
    assert shown["ours"] == [
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "demo"}, "spec": {"ports": [{"port": 8080}]}},
        {"apiVersion": "apps/v1", "kind": "Deployment",
         "metadata": {"name": "demo", "annotations": {"source": "two.yaml.j2"}}, "spec": {"replicas": 2}},
        {"kind": "ConfigMap", "data": {"app": "demo"}},
    ]


def test_k8s_cluster_version_reports_an_api_that_does_not_answer(tmp_path):
    from support.processes import free_port
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "c",
        "clusters": [{"name": "c", "cluster": {"server": f"https://127.0.0.1:{free_port()}"}}],
        "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
        "users": [{"name": "u", "user": {"token": "not-a-real-token"}}]}))
    rc, result = run_module("kringen.mcp_server.k8s_cluster_version", kubeconfig=str(kubeconfig))
    assert rc != 0
    assert "Connection refused" in result["msg"]
    assert "not-a-real-token" not in json.dumps(result)


def test_registry_image_info_reports_a_docker_daemon_it_cannot_reach(tmp_path):
    rc, result = run_module("kringen.mcp_server.registry_image_info", name="127.0.0.1:5000/kringen/mcp-server",
                            tag="x", docker_host=f"unix://{tmp_path}/no-docker.sock")
    assert rc != 0
    assert result["msg"].startswith("Error connecting:") and "No such file or directory" in result["msg"]


def test_registry_image_info_refuses_missing_options():
    rc, result = run_module("kringen.mcp_server.registry_image_info", name="127.0.0.1:5000/kringen/mcp-server")
    assert rc != 0 and "missing required arguments: tag" in result["msg"]


SECRET_VALUES_ENTRY_PLAY = """
- hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: The k8s_resources role's secret_values entry point, rendering (nothing read)
      ansible.builtin.include_role:
        name: kringen.mcp_server.k8s_resources
        tasks_from: secret_values
      vars:
        k8s_resources_secret_name: demo
        k8s_resources_secret_namespace: demo
        k8s_resources_secret_keys: {password: 24, key: 64}
        k8s_resources_render_dir: /nonexistent
    - name: Show the lengths
      ansible.builtin.debug:
        msg: "{{ k8s_resources_secret_values | dict2items | map(attribute='value') | map('length') | list }}"
"""


def test_k8s_resources_secret_values_entry_point(tmp_path):
    """The role's entry point (the stack's roles call the action directly) still gives the fact."""
    (tmp_path / "play.yml").write_text(SECRET_VALUES_ENTRY_PLAY)
    result = subprocess.run([str(BIN / "ansible-playbook"), "-i", "localhost,", str(tmp_path / "play.yml")],
                            capture_output=True, text=True, env=ansible_env(ANSIBLE_STDOUT_CALLBACK="json"),
                            cwd=REPO, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout)["plays"][0]["tasks"][-1]["hosts"]["localhost"]["msg"] == [24, 64]
