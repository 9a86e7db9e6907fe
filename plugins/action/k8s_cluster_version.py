# Copyright: Kringen maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin kringen.mcp_server.k8s_cluster_version: the API server's version, in the worker process.

Ansible's main process imports an action plugin before it forks the task's worker, so importing the
Kubernetes client here, at the play's first cluster call, pays its import (about 0.4 s) once for every
later task; kubernetes.core's lookup, used before, imported it in a worker that then exited.
"""

from __future__ import annotations

from ansible.plugins.action import ActionBase

from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC

try:
    from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import get_api_client
except ImportError:  # no Kubernetes client on the controller: the module runs on the host
    get_api_client = None


class ActionModule(ActionBase):
    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        _validated, params = self.validate_argument_spec(argument_spec=AUTH_ARG_SPEC)
        auth = {key: value for key, value in params.items() if value is not None}
        if get_api_client is None or self._connection.transport != "local":
            info = self._execute_module("kubernetes.core.k8s_cluster_info", module_args=auth, task_vars=task_vars)
            result.update({key: info[key] for key in ("failed", "msg") if key in info})
            if not info.get("failed"):
                result.update(changed=False, version=info["version"]["server"])
            return result
        try:
            result.update(changed=False, version=get_api_client(**auth).client.version)
        except Exception as exc:  # noqa: BLE001 - any failure to reach the API is the answer
            result.update(failed=True, msg=str(exc) or type(exc).__name__)
        return result
