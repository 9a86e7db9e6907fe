"""ansible-lint (production profile) and ansible-test sanity pass on the collection."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from conftest import BIN, REPO, ansible_env

SHIPPED_EXCLUDE = ("app/", "tests/", "bench/", "molecule/", "hack/", ".ci/")


def test_ansible_lint_production_profile():
    result = subprocess.run([str(BIN / "ansible-lint"), "--profile", "production", "--nocolor"], cwd=REPO,
                            capture_output=True, text=True, env=ansible_env(), timeout=900)
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-3000:]
    assert "Profile 'production' was required, and it passed" in result.stderr + result.stdout
    config = (REPO / ".ansible-lint").read_text()
    assert "skip_list" not in config and "warn_list" not in config


def test_ansible_test_sanity(tmp_path):
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=REPO, capture_output=True,
                           text=True, check=True).stdout.split()
    target = tmp_path / "ansible_collections" / "kringen" / "mcp_server"
    for name in files:
        if name.startswith(SHIPPED_EXCLUDE) or not (REPO / name).is_file():
            continue
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, target / name)
    # The collections ours imports from (galaxy.yml's dependencies), beside it as ansible-galaxy installs them.
    for dependency in ("kubernetes.core", "community.docker"):
        found = subprocess.run([str(BIN / "python"), "-c", f"import ansible_collections.{dependency} as c; print(c.__path__[0])"],
                               capture_output=True, text=True, check=True).stdout.strip()
        namespace, name = dependency.split(".")
        (tmp_path / "ansible_collections" / namespace).mkdir(exist_ok=True)
        (tmp_path / "ansible_collections" / namespace / name).symlink_to(found)
    # ansible-test downloads a pip bootstrap script from a host this machine cannot reach; ours
    # bootstraps pip with ensurepip instead (see support/get_pip_offline.py).
    cache = Path.home() / ".ansible" / "test" / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    for version in ("24_2",):
        shutil.copy2(Path(__file__).parent / "support" / "get_pip_offline.py", cache / f"get_pip_{version}.py")
    result = subprocess.run([str(BIN / "ansible-test"), "sanity", "--python", "3.11", "--local", "--requirements",
                             "--color", "no"], cwd=target, capture_output=True, text=True, env=ansible_env(),
                            timeout=1800)
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
    assert "Running sanity test \"validate-modules\"" in result.stdout + result.stderr
