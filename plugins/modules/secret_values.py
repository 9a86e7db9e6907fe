#!/usr/bin/python
# Copyright: Kringen maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: secret_values
author: Kringen maintainers (@kringen)
version_added: "1.1.0"
short_description: A Secret's values, kept when the cluster has them and generated when it does not
description:
  - Returns, in the fact C(k8s_resources_secret_values), a value for each key of O(keys) - the one the Secret
    O(name) in O(namespace) holds, or a new random one (letters and digits) of the given length when the Secret or
    the key is missing - so that generated passwords stay the same on every later run.
  - The namespace's Secrets are listed once per play (this needs C(list) on Secrets in it) and kept, in the fact
    C(__k8s_resources_secrets), for the play's later calls, which then make no request.
  - Used by the role C(kringen.mcp_server.k8s_resources) (its C(secret_values) entry point); one task instead of
    a read, a cache and a loop. Runs in the task's worker process on the controller.
  - Implemented as an action plugin; this file documents it.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
attributes:
  check_mode: {support: full, details: it reads in check mode as in a normal run and changes nothing}
  diff_mode: {support: none}
  platform: {platforms: posix}
  action: {support: full}
  async: {support: none}
  bypass_host_loop: {support: none}
options:
  name:
    description: The Secret.
    type: str
    required: true
  namespace:
    description: Its namespace.
    type: str
    required: true
  keys:
    description: The keys to provide, each with the length of the value generated when it is missing.
    type: dict
    required: true
  read:
    description: Read the cluster. V(false) (rendering manifests without a cluster) generates every value.
    type: bool
    default: true
  kubeconfig:
    description: Kubeconfig file (or dict) for the read; the client's default when omitted.
    type: raw
  context:
    description: Kubeconfig context for the read; the current one when omitted.
    type: str
requirements:
  - kubernetes >= 24.2.0
notes:
  - Run it with C(no_log) - its facts hold the values.
"""

EXAMPLES = r"""
- name: Keep the database password, or generate one
  kringen.mcp_server.secret_values:
    name: db-credentials
    namespace: demo
    keys: {password: 32}
  no_log: true
"""

RETURN = r"""
ansible_facts:
  description: C(k8s_resources_secret_values) (key -> value) and the play's cache of the namespace's Secrets.
  returned: success
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.kringen.mcp_server.plugins.module_utils.secret_values import argument_spec


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    module.fail_json(msg="kringen.mcp_server.secret_values runs as an action plugin; this module is its documentation")


if __name__ == "__main__":
    main()
