from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
sys.path.insert(0, str(REPO / "app" / "tests"))


def ansible_env(**extra: str) -> dict[str, str]:
    env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}", "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
           "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0", "ANSIBLE_LOCAL_TEMP": "/tmp/.ansible-local",
           "ANSIBLE_REMOTE_TEMP": "/tmp/.ansible-remote"}
    env.update(extra)
    return env


def run_playbook(playbook: str, *args: str, inventory: str = "inventories/example/hosts.yml", env=None,
                 timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "ansible-playbook"), "-i", inventory, playbook, *args],
                          cwd=REPO, env=env or ansible_env(), capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO
