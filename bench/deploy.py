"""`make bench-deploy`: the collection's deploy.yml against `kubectl apply --server-side` of the very
manifests render.yml writes, on the local cluster, in rounds that alternate the two.

Each round, for each way (A: Ansible, B: kubectl), from a namespace that does not exist:
  first   create the whole stack, until every pod is Ready and MongoDB's init Job is complete
          (A: deploy.yml, which waits for its rollouts; B: apply, then `kubectl rollout status` and
          `kubectl wait` for the Job);
  again   the same with nothing to change, on the settled stack (BENCH_DEPLOY_SETTLE seconds after first).
And C: deploy.yml on an inventory of CLUSTERS (3) hosts that all point at the local cluster, each with
its own namespace, node port and host name, converging in parallel (Ansible's forks), first and
again, against A's one.
Printed: medians over the rounds, the ratio A/B, the tasks Ansible ran, and the API requests each
run made (the API server's apiserver_request_total, summed, before and after: it also counts what
the cluster's own controllers sent meanwhile, about 2 per second here).

B gets what A's render cannot write: the Secrets (copied from A's stack of the same round, through
kubectl's stdin, never to disk) and the image A deployed. The stack goes to its own namespace and
node port (BENCH_DEPLOY_NAMESPACE, BENCH_DEPLOY_NODEPORT), so a running `make up` is left alone.
"""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
NAMESPACE = os.environ.get("BENCH_DEPLOY_NAMESPACE", "kringen-bench")
NODEPORT = os.environ.get("BENCH_DEPLOY_NODEPORT", "30810")
ROUNDS = int(os.environ.get("BENCH_DEPLOY_ROUNDS", "3"))
# A re-run is measured on a settled stack: the fresh pods' own start-up work (MongoDB's init, the
# servers' first connections) shares the two CPUs with whatever runs right after "first".
SETTLE = float(os.environ.get("BENCH_DEPLOY_SETTLE", "10"))
INVENTORY = REPO / "inventories/local/hosts.yml"
PLAYBOOK = REPO / ".venv-ansible/bin/ansible-playbook"
SECRETS = ("mongodb-credentials", "mcp-server-auth", "mcp-server-request-state", "mongo-express-auth")
WORKLOADS = ("statefulset/mongodb", "deployment/mcp-server", "deployment/mongo-express")
# Without Keycloak (inventories/local runs it on a node port the main stack holds): the figures compare
# with those measured before the stack had it.
EXTRA = {"mcp_namespace": NAMESPACE, "server_nodeport": int(NODEPORT), "server_ingress_host": "bench.localtest.me",
         "mcp_keycloak_enabled": False, "server_auth_mode": "tokens"}
CLUSTERS = 3
MANY = {f"bench-cluster-{i}": {"mcp_namespace": f"{NAMESPACE}-{i}", "server_nodeport": int(NODEPORT) + i,
                               "server_ingress_host": f"bench{i}.localtest.me", "mcp_keycloak_enabled": False,
                               "server_auth_mode": "tokens"} for i in range(1, CLUSTERS + 1)}


def kubectl_binary() -> str:
    out = subprocess.run(["bash", str(REPO / "hack/build/kubernetes.sh")], capture_output=True, text=True, check=True)
    return str(Path(out.stdout.strip().splitlines()[-1]) / "kubectl")


KUBECTL = kubectl_binary()


def kubectl(*args: str, stdin: str | None = None, namespace: str | None = NAMESPACE) -> str:
    scope = ["-n", namespace] if namespace else []
    done = subprocess.run([KUBECTL, *scope, *args], input=stdin, capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        raise SystemExit(f"kubectl {' '.join(args[:3])}...: {done.stderr.strip()[-1500:]}")
    return done.stdout


def api_requests() -> int:
    text = kubectl("get", "--raw", "/metrics", namespace=None)
    return round(sum(float(v) for v in re.findall(r"^apiserver_request_total\{[^}]*\} (\S+)$", text, re.M)))


def playbook(name: str, *extra: str, inventory: Path = INVENTORY, settings: dict | None = EXTRA) -> str:
    scope = ["-e", json.dumps(settings)] if settings else []
    done = subprocess.run([str(PLAYBOOK), "-i", str(inventory), str(REPO / "playbooks" / name),
                           *scope, *extra], cwd=REPO, capture_output=True, text=True, timeout=1800,
                          env={**os.environ, "ANSIBLE_CONFIG": str(REPO / "ansible.cfg")})
    if done.returncode != 0:
        raise SystemExit(f"{name} failed:\n{done.stdout[-3000:]}\n{done.stderr[-1500:]}")
    return done.stdout


def tasks_run(output: str) -> int:
    recap = output[output.rindex("PLAY RECAP"):]
    counts = {k: int(v) for k, v in re.findall(r"\b(ok|skipped|failed)=(\d+)", recap)}
    return counts["ok"] + counts["skipped"] + counts["failed"]


def namespace_gone(*namespaces: str) -> None:
    kubectl("delete", "namespace", *(namespaces or [NAMESPACE]), "--ignore-not-found", "--wait=true", "--timeout=300s",
            namespace=None)


def measured(action) -> dict:
    before, start = api_requests(), time.monotonic()
    extra = action() or {}
    seconds = time.monotonic() - start
    return {"seconds": seconds, "requests": api_requests() - before, **extra}


# --- A: the collection ---------------------------------------------------------------------------

def ansible_deploy() -> dict:
    return {"tasks": tasks_run(playbook("deploy.yml"))}


# --- C: the collection, to several clusters at once -------------------------------------------------

class ManyClusters:
    """An inventory of CLUSTERS hosts on the local cluster (the local inventory's group_vars, the
    per-host settings of MANY), in a temporary folder."""

    def __init__(self, folder: str) -> None:
        self.inventory = Path(folder)
        kubeconfig = "{{ lookup('ansible.builtin.env', 'KUBECONFIG', default='~/.cache/kringen-mcp/cluster/kubeconfig') }}"
        hosts = {name: {"mcp_kubeconfig": kubeconfig, **settings} for name, settings in MANY.items()}
        (self.inventory / "hosts.yml").write_text(json.dumps({"mcp_clusters": {"children": {"local": {"hosts": hosts}}}}))
        (self.inventory / "group_vars").symlink_to(INVENTORY.parent / "group_vars")

    def deploy(self) -> dict:
        return {"tasks": tasks_run(playbook("deploy.yml", inventory=self.inventory / "hosts.yml", settings=None))}

    @staticmethod
    def gone() -> None:
        namespace_gone(*(settings["mcp_namespace"] for settings in MANY.values()))


# --- B: kubectl apply of render.yml's manifests ---------------------------------------------------

class Manifests:
    """render.yml's output for the bench's stack (with the image A deployed), and the Secrets of A's
    stack, as one stream for `kubectl apply -f -`: the Namespace first, then the Secrets, then the rest."""

    def __init__(self) -> None:
        image = json.loads(kubectl("get", "deployment", "mcp-server", "-o", "json"))[
            "spec"]["template"]["spec"]["containers"][0]["image"]
        with tempfile.TemporaryDirectory(prefix="bench-deploy-") as folder:
            playbook("render.yml", "-e", json.dumps({"mcp_render_root": folder, "mcp_server_image": image}))
            files = sorted(Path(folder).rglob("*.yaml"), key=lambda f: (f.name != "namespace.yaml", f.name))
            assert files and files[0].name == "namespace.yaml", f"render.yml wrote {files}"
            self.namespace, self.rest = files[0].read_text(), "\n".join(f.read_text() for f in files[1:])
        self.secrets = ""

    def take_secrets(self) -> None:
        """The Secrets of the stack A made (generated anew with each namespace)."""
        self.secrets = "".join("---\n" + json.dumps(self._secret(name)) + "\n" for name in SECRETS)

    @staticmethod
    def _secret(name: str) -> dict:
        found = json.loads(kubectl("get", "secret", name, "-o", "json"))
        return {"apiVersion": "v1", "kind": "Secret", "type": found["type"], "data": found["data"],
                "metadata": {"name": name, "namespace": NAMESPACE, "labels": found["metadata"].get("labels", {})}}

    def apply(self) -> None:
        kubectl("apply", "--server-side", "--force-conflicts", "--field-manager=bench-kubectl", "-f", "-",
                stdin=f"{self.namespace}\n{self.secrets}{self.rest}", namespace=None)

    def first(self) -> None:
        self.apply()
        for workload in WORKLOADS:
            kubectl("rollout", "status", workload, "--timeout=600s")
        kubectl("wait", "job", "-l", "app.kubernetes.io/name=mongodb-init", "--for=condition=Complete", "--timeout=600s")


# --- the rounds -------------------------------------------------------------------------------------

def median(runs: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def main() -> int:
    results: dict[str, list[dict]] = {k: [] for k in ("A first", "A again", "B first", "B again", "C first", "C again")}
    namespace_gone()
    ManyClusters.gone()
    manifests = None
    folder = tempfile.TemporaryDirectory(prefix="bench-deploy-many-")
    many = ManyClusters(folder.name)
    try:
        for round_ in range(1, ROUNDS + 1):
            results["A first"].append(measured(ansible_deploy))
            time.sleep(SETTLE)
            results["A again"].append(measured(ansible_deploy))
            manifests = manifests or Manifests()
            manifests.take_secrets()
            namespace_gone()
            results["B first"].append(measured(manifests.first))
            time.sleep(SETTLE)
            results["B again"].append(measured(manifests.apply))
            namespace_gone()
            results["C first"].append(measured(many.deploy))
            time.sleep(SETTLE)
            results["C again"].append(measured(many.deploy))
            many.gone()
            print(f"round {round_}/{ROUNDS}: " + ", ".join(f"{k} {v[-1]['seconds']:.1f}s" for k, v in results.items()),
                  flush=True)
    finally:
        namespace_gone()
        many.gone()
        folder.cleanup()
    report(results)
    return 0


def report(results: dict[str, list[dict]]) -> None:
    print(f"\nbench/deploy: {ROUNDS} rounds on the local cluster, {os.cpu_count()} CPUs; medians")
    print("| run | A: deploy.yml | B: kubectl apply --server-side | A / B | A tasks | A API requests | B API requests |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for run in ("first", "again"):
        a, b = results[f"A {run}"], results[f"B {run}"]
        label = "first (to every pod Ready)" if run == "first" else "again (no change)"
        print(f"| {label} | {median(a, 'seconds'):.1f} s | {median(b, 'seconds'):.1f} s | "
              f"{median(a, 'seconds') / median(b, 'seconds'):.1f}x | {median(a, 'tasks'):.0f} | "
              f"{median(a, 'requests'):.0f} | {median(b, 'requests'):.0f} |")
    print(f"\n| run | A: deploy.yml, 1 cluster | C: deploy.yml, {CLUSTERS} clusters in parallel | C / A | C tasks |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for run in ("first", "again"):
        a, c = results[f"A {run}"], results[f"C {run}"]
        print(f"| {run} | {median(a, 'seconds'):.1f} s | {median(c, 'seconds'):.1f} s | "
              f"{median(c, 'seconds') / median(a, 'seconds'):.2f}x | {median(c, 'tasks'):.0f} |")
    print("every run: " + json.dumps({k: [round(r["seconds"], 1) for r in v] for k, v in results.items()}))


if __name__ == "__main__":
    sys.exit(main())
