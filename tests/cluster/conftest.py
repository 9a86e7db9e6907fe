"""What the cluster tests share: kubectl on the cluster under test, and the collection's playbooks."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
NAMESPACE = os.environ.get("MCP_NAMESPACE", "mcp-server")
NODE = os.environ.get("MCP_NODE_ADDRESS", "127.0.0.1:30800")


def kubectl_path() -> str:
    out = subprocess.run(["bash", str(REPO / "hack/build/kubernetes.sh")], capture_output=True, text=True, check=True)
    return str(Path(out.stdout.strip().splitlines()[-1]) / "kubectl")


KUBECTL = kubectl_path()
KUBECONFIG = os.environ.get("KUBECONFIG") or os.path.expanduser(
    os.path.join(os.environ.get("KRINGEN_CACHE", "~/.cache/kringen-mcp"), "cluster", "kubeconfig"))


def kubectl(*args: str, check: bool = True, timeout: int = 300) -> str:
    result = subprocess.run([KUBECTL, "--kubeconfig", KUBECONFIG, "-n", NAMESPACE, *args], capture_output=True,
                            text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"kubectl {' '.join(args)}: {result.stderr}")
    return result.stdout


def kget(*args: str) -> dict:
    return json.loads(kubectl("get", *args, "-o", "json"))


def wait_ready(kind: str, name: str, timeout: int = 300) -> None:
    kubectl("rollout", "status", f"{kind}/{name}", f"--timeout={timeout}s", timeout=timeout + 30)


def run_playbook(name: str, *extra: str) -> subprocess.CompletedProcess:
    playbook = os.environ.get("ANSIBLE_PLAYBOOK", str(REPO / ".venv-ansible/bin/ansible-playbook"))
    result = subprocess.run([playbook, "-i", str(REPO / "inventories/local/hosts.yml"), str(REPO / "playbooks" / name),
                             *extra], cwd=REPO, capture_output=True, text=True, timeout=1800,
                            env={**os.environ, "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"), "KUBECONFIG": KUBECONFIG})
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    return result
