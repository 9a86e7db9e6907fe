# Copyright: Kringen maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The k8s_apply interface and its translation into kubernetes.core.k8s parameters."""

from __future__ import annotations

import copy

from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC


def argument_spec():
    spec = copy.deepcopy(AUTH_ARG_SPEC)
    spec.update(
        definition=dict(type="list", elements="dict", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        field_manager=dict(type="str", default="kringen.mcp_server"),
        force_conflicts=dict(type="bool", default=True),
        wait=dict(type="bool", default=False),
        wait_timeout=dict(type="int", default=120),
        rollouts_fact=dict(type="str"),
        rollouts_timeout=dict(type="int", default=300),
    )
    return spec


def k8s_module_args(params):
    """kubernetes.core.k8s arguments for validated k8s_apply parameters."""
    args = {key: params[key] for key in AUTH_ARG_SPEC if params.get(key) is not None}
    args.update(state=params["state"], definition=params["definition"], wait=params["wait"],
                wait_timeout=params["wait_timeout"])
    if params["state"] == "present":
        args.update(apply=True, server_side_apply=dict(field_manager=params["field_manager"],
                                                       force_conflicts=params["force_conflicts"]))
    return args
