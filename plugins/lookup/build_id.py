# Copyright: Kringen maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Lookup plugin: the image build id."""

from __future__ import annotations

DOCUMENTATION = r"""
name: build_id
author: Kringen maintainers (@kringen)
version_added: "1.0.0"
short_description: Build id for the MCP server image
description:
  - Returns the short git commit hash of O(source) (C(git rev-parse --short HEAD)).
  - When O(source) is not in a git work tree, or git is missing, returns the current UTC time
    as C(YYYYMMDDHHMMSS), as the seed's build scripts did.
options:
  source:
    description: Directory whose git commit names the build.
    type: path
    default: .
  dirty_suffix:
    description: Appended to the hash when the work tree has uncommitted changes; empty to disable.
    type: str
    default: ""
notes:
  - Runs on the controller.
"""

EXAMPLES = r"""
- name: Tag the image with the build id
  ansible.builtin.debug:
    msg: "kringen/mcp-server:{{ lookup('kringen.mcp_server.build_id', source=playbook_dir ~ '/..') }}"
"""

RETURN = r"""
_raw:
  description: One build id, a short git hash or a UTC timestamp.
  type: list
  elements: str
"""

import datetime
import os
import shutil
import subprocess

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase


def build_id(source, dirty_suffix=""):
    """Short git hash of source, else a UTC timestamp YYYYMMDDHHMMSS."""
    git = shutil.which("git")
    if git and os.path.isdir(source):
        try:
            head = subprocess.run([git, "-C", source, "rev-parse", "--short", "HEAD"],
                                  capture_output=True, text=True, timeout=30, check=True).stdout.strip()
        except (subprocess.SubprocessError, OSError):
            head = ""
        if head:
            if dirty_suffix:
                status = subprocess.run([git, "-C", source, "status", "--porcelain", "--untracked-files=no"],
                                        capture_output=True, text=True, timeout=30, check=False).stdout
                if status.strip():
                    head += dirty_suffix
            return head
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%d%H%M%S")


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        source = self.get_option("source")
        if terms:
            raise AnsibleLookupError("build_id takes no terms; pass source=DIR")
        return [build_id(os.path.expanduser(source), self.get_option("dirty_suffix"))]
