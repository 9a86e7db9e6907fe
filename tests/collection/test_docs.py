"""Every role variable is in its argument spec, and every role README lists them all."""

from __future__ import annotations

import subprocess
import sys

import pytest
import yaml

from conftest import REPO

ROLES = sorted(p.name for p in (REPO / "roles").iterdir() if p.is_dir())


@pytest.mark.parametrize("role", ROLES)
def test_defaults_and_spec_agree(role):
    defaults = yaml.safe_load((REPO / "roles" / role / "defaults" / "main.yml").read_text()) or {}
    spec = yaml.safe_load((REPO / "roles" / role / "meta" / "argument_specs.yml").read_text())["argument_specs"]
    options = spec["main"]["options"]
    # Every default is a documented option; an option with no default is one that is unset unless given.
    assert set(defaults) <= set(options), set(defaults) - set(options)
    assert all("default" not in options[name] for name in set(options) - set(defaults)), set(options) - set(defaults)
    assert all(name.startswith(role + "_") for name in options), [n for n in options if not n.startswith(role)]
    assert all(o.get("description") for o in options.values())


def test_role_readmes_are_current():
    result = subprocess.run([sys.executable, str(REPO / "hack/docs/role_readmes.py"), "--check"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout
