#!/usr/bin/env python3
"""Writes each role's README.md variable table from its meta/argument_specs.yml.

usage: role_readmes.py [--check]   (--check: exit 1 if a README is out of date)
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
BEGIN, END = "<!-- variables:begin -->", "<!-- variables:end -->"


def plain(text: str) -> str:
    """Ansible doc markup (O(x), V(x), C(x)) to Markdown code."""
    return re.sub(r"\b[OVCI]\(([^)]*)\)", r"`\1`", text).replace("|", "\\|")


def table(options: dict, defaults: dict) -> str:
    rows = ["| Variable | Type | Default | Description |", "| --- | --- | --- | --- |"]
    for name, spec in options.items():
        kind = spec.get("type", "str")
        if spec.get("elements"):
            kind += f" of {spec['elements']}"
        if spec.get("choices"):
            kind += " (" + ", ".join(str(c) for c in spec["choices"]) + ")"
        default = spec.get("default")
        shown = ("see defaults/main.yml" if name in defaults else "unset") if default is None else f"`{yaml.safe_dump(default, default_flow_style=True).strip().removesuffix('...').strip()}`"
        description = spec.get("description", "")
        if isinstance(description, list):
            description = " ".join(description)
        rows.append(f"| `{name}` | {kind} | {shown} | {plain(description)} |")
    return "\n".join(rows)


def render(role: Path) -> str:
    spec = yaml.safe_load((role / "meta" / "argument_specs.yml").read_text())["argument_specs"]["main"]
    description = spec.get("description", [])
    description = description if isinstance(description, list) else [description]
    intro = "\n".join(f"- {plain(line)}" for line in description)
    defaults = yaml.safe_load((role / "defaults" / "main.yml").read_text()) or {}
    return f"{BEGIN}\n{table(spec['options'], defaults)}\n{END}", spec["short_description"], intro


def main() -> int:
    check = "--check" in sys.argv
    stale = []
    for role in sorted((ROOT / "roles").iterdir()):
        readme = role / "README.md"
        block, title, intro = render(role)
        if readme.exists() and BEGIN in readme.read_text():
            text = readme.read_text()
            new = text[: text.index(BEGIN)] + block + text[text.index(END) + len(END):]
        else:
            new = (f"# kringen.mcp_server.{role.name}\n\n{title}.\n\n{intro}\n\n## Variables\n\n{block}\n\n"
                   f"## Example\n\n```yaml\n- name: {title}\n  ansible.builtin.include_role:\n"
                   f"    name: kringen.mcp_server.{role.name}\n```\n")
        if not readme.exists() or readme.read_text() != new:
            stale.append(str(readme.relative_to(ROOT)))
            if not check:
                readme.write_text(new)
    if check and stale:
        print("out of date (run hack/docs/role_readmes.py):", ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
