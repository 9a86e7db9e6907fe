# Copyright: Kringen maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter plugin: the rollouts an apply started and that have not finished yet."""

from __future__ import annotations

DOCUMENTATION = r"""
name: pending_rollouts
author: Kringen maintainers (@kringen)
version_added: "1.1.0"
short_description: The rollouts a kubernetes.core.k8s apply left unfinished
description:
  - Reads the objects a C(kubernetes.core.k8s) apply returned (they carry the status the API server had
    at the apply) and lists the Deployments, StatefulSets and DaemonSets not yet rolled out and the Jobs
    not yet complete, with the readiness rules of C(kubernetes.core)'s own waiter.
  - Adds them to O(_input), an earlier list, replacing any entry for the same object, so that
    one wait at the end covers several applies. Objects that need no wait are dropped.
  - An object that is already rolled out (nothing changed, or the rollout finished earlier) needs no
    wait, so a re-run with nothing to change waits for nothing and calls no API.
options:
  _input:
    description: The rollouts still pending from earlier applies (each a dict with api_version, kind, namespace, name, timeout).
    type: list
    elements: dict
    required: true
  applied:
    description: The registered result of a C(kubernetes.core.k8s) task (one object or several).
    type: dict
    required: true
  timeout:
    description: Seconds to allow each new pending rollout.
    type: int
    default: 300
"""

EXAMPLES = r"""
- name: Remember what the apply started
  ansible.builtin.set_fact:
    rollouts: "{{ rollouts | default([]) | kringen.mcp_server.pending_rollouts(applied_result, 600) }}"
"""

RETURN = r"""
_value:
  description: The pending rollouts, each a dict with C(api_version), C(kind), C(namespace), C(name) and C(timeout).
  type: list
  elements: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.kringen.mcp_server.plugins.module_utils.rollouts import pending_rollouts as _pending_rollouts


def pending_rollouts(pending, applied, timeout=300):
    try:
        return _pending_rollouts(pending, applied, timeout)
    except TypeError as exc:
        raise AnsibleFilterError("pending_rollouts: %s" % exc) from exc


class FilterModule:
    def filters(self):
        return {"pending_rollouts": pending_rollouts}
