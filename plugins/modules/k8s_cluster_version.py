#!/usr/bin/python
# Copyright: Kringen maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: k8s_cluster_version
author: Kringen maintainers (@kringen)
version_added: "1.1.0"
short_description: Ask the Kubernetes API server for its version, which also shows that it answers
description:
  - Returns the API server's version (its C(/version)), as the P(kubernetes.core.k8s#lookup) lookup's
    C(cluster_info=version) does, and fails with the client's error when the API cannot be reached or refuses
    the credentials.
  - When the host is the controller (C(ansible_connection=local)) and the Kubernetes Python client is importable
    there, it asks from the task's worker process; Ansible imports the client in its main process with this
    plugin, once, for every later task of the play. Elsewhere it runs M(kubernetes.core.k8s_cluster_info) on the host.
  - Implemented as an action plugin; this file documents it.
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
attributes:
  check_mode: {support: full}
  diff_mode: {support: none}
  platform: {platforms: posix}
  action: {support: full}
  async: {support: none}
  bypass_host_loop: {support: none}
requirements:
  - kubernetes >= 24.2.0
"""

EXAMPLES = r"""
- name: Check the cluster answers
  kringen.mcp_server.k8s_cluster_version:
    kubeconfig: ~/.kube/config
  register: cluster

- name: Show its version
  ansible.builtin.debug:
    msg: "{{ cluster.version.kubernetes.gitVersion }}"
"""

RETURN = r"""
version:
  description: The API server's C(/version) under C(kubernetes).
  returned: success
  type: dict
  sample: {kubernetes: {gitVersion: "v1.34.1", major: "1", minor: "34", platform: linux/amd64}}
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC


def main():
    module = AnsibleModule(argument_spec=AUTH_ARG_SPEC, supports_check_mode=True)
    module.fail_json(msg="kringen.mcp_server.k8s_cluster_version runs as an action plugin; this module is its documentation")


if __name__ == "__main__":
    main()
