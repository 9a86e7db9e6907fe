"""ansible-galaxy builds the collection without the app, tests or tooling; the tarball installs
offline into a fresh path and its render playbook works from the installed copy alone."""

from __future__ import annotations

import subprocess
import tarfile

from conftest import BIN, REPO, ansible_env


def test_build_install_offline_and_render(tmp_path):
    build = subprocess.run([str(BIN / "ansible-galaxy"), "collection", "build", str(REPO), "--output-path",
                            str(tmp_path)], capture_output=True, text=True, env=ansible_env(), timeout=300)
    assert build.returncode == 0, build.stdout + build.stderr
    tarball = next(tmp_path.glob("kringen-mcp_server-*.tar.gz"))
    with tarfile.open(tarball) as archive:
        names = archive.getnames()
    for shipped in ("MANIFEST.json", "roles/server/tasks/main.yml",
                    "plugins/modules/mcp_probe.py", "plugins/lookup/build_id.py", "playbooks/deploy.yml",
                    "meta/runtime.yml", "inventories/example/hosts.yml"):
        assert shipped in names, shipped
    for kept_out in ("app/", "tests/", "bench/", "molecule/", "hack/", ".ci/", ".cache/", "rendered/", "ansible.cfg"):
        assert not [n for n in names if n.startswith(kept_out)], kept_out

    plain_cfg = tmp_path / "ansible.cfg"  # not the checkout's, which puts the checkout on the path
    plain_cfg.write_text("[defaults]\n")
    collections = tmp_path / "collections"
    install = subprocess.run([str(BIN / "ansible-galaxy"), "collection", "install", "--offline", "--no-deps",
                              "-p", str(collections), str(tarball)], capture_output=True, text=True, timeout=300,
                             env=ansible_env(ANSIBLE_CONFIG=str(plain_cfg), ANSIBLE_COLLECTIONS_PATH=str(collections)))
    assert install.returncode == 0, install.stdout + install.stderr
    installed = collections / "ansible_collections" / "kringen" / "mcp_server"
    assert (installed / "MANIFEST.json").exists()

    # Run from an empty directory, with only the installed copy on the collections path.
    work = tmp_path / "work"
    work.mkdir()
    env = ansible_env(ANSIBLE_COLLECTIONS_PATH=str(collections), ANSIBLE_CONFIG=str(plain_cfg))
    out = tmp_path / "out"
    render = subprocess.run([str(BIN / "ansible-playbook"), "-i", str(installed / "inventories/example/hosts.yml"),
                             "kringen.mcp_server.render", "-l", "gke-prod", "-e", f"mcp_render_root={out}"],
                            cwd=work, capture_output=True, text=True, env=env, timeout=600)
    assert render.returncode == 0, render.stdout[-3000:] + render.stderr[-2000:]
    assert (out / "gke-prod" / "server.yaml").read_text().count("kind: Deployment") == 1
    assert "/.cache/collections" not in render.stdout
