#!/usr/bin/python
# Copyright: Kringen maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: k8s_apply
author: Kringen maintainers (@kringen)
version_added: "1.1.0"
short_description: Server-side apply (or delete) Kubernetes resources, as kubernetes.core.k8s does, without a module process
description:
  - Runs M(kubernetes.core.k8s) with C(apply=true) and C(server_side_apply) on O(definition), with the same
    results, check mode (a server-side dry run) and C(--diff) output.
  - When the host is the controller (C(ansible_connection=local)) and the Kubernetes Python client is importable
    there, it runs M(kubernetes.core.k8s)'s own code in the task's worker process, which saves the module's
    process start and payload, about 0.4 s of the 0.7 s an apply of a few objects takes on a local cluster.
  - Elsewhere it runs the M(kubernetes.core.k8s) module on the host, as that task would.
  - Implemented as an action plugin; this file documents it.
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
attributes:
  check_mode: {support: full}
  diff_mode: {support: full}
  platform: {platforms: posix}
  action: {support: full}
  async: {support: none}
  bypass_host_loop: {support: none}
options:
  definition:
    description: The resources, each a complete object with C(apiVersion), C(kind) and C(metadata).
    type: list
    elements: dict
    required: true
  state:
    description: Apply (V(present)) or delete (V(absent)).
    type: str
    choices: [present, absent]
    default: present
  field_manager:
    description: Field manager of the server-side apply.
    type: str
    default: kringen.mcp_server
  force_conflicts:
    description: Take over fields another manager owns.
    type: bool
    default: true
  wait:
    description: Wait for the resources to be ready (V(present)) or gone (V(absent)), as M(kubernetes.core.k8s) does.
    type: bool
    default: false
  wait_timeout:
    description: Seconds to wait.
    type: int
    default: 120
  rollouts_fact:
    description:
      - The name of a fact that lists rollouts still pending from earlier applies (see the
        P(kringen.mcp_server.pending_rollouts#filter) filter). The Deployments, StatefulSets and DaemonSets this apply
        leaves not yet rolled out, and its Jobs not yet complete, are added to it, so that one wait at the end covers
        several applies. Not in check mode, nor with O(state=absent).
    type: str
  rollouts_timeout:
    description: Seconds to allow each rollout added to O(rollouts_fact).
    type: int
    default: 300
requirements:
  - kubernetes >= 24.2.0
  - PyYAML >= 3.11
"""

EXAMPLES = r"""
- name: Apply a ConfigMap and a Deployment
  kringen.mcp_server.k8s_apply:
    definition:
      - apiVersion: v1
        kind: ConfigMap
        metadata: {name: settings, namespace: demo}
        data: {LOG_LEVEL: info}
    field_manager: my-team
"""

RETURN = r"""
ansible_facts:
  description: With O(rollouts_fact), that fact, updated.
  returned: when O(rollouts_fact) is given, O(state=present) and not in check mode
  type: dict
result:
  description:
    - As M(kubernetes.core.k8s) returns it - the applied object for one definition, else C(results), one
      result per definition, each with its C(result) (the object) and C(changed).
  returned: success
  type: complex
  contains: {}
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.kringen.mcp_server.plugins.module_utils.k8s_apply import argument_spec


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    module.fail_json(msg="kringen.mcp_server.k8s_apply runs as an action plugin; this module is its documentation")


if __name__ == "__main__":
    main()
