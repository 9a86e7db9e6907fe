# Copyright: Kringen maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin kringen.mcp_server.registry_image_info: the module's question, in the worker process.

On the controller (ansible_connection=local) the worker asks the Docker daemon itself, with the module's
own code: the module process, its payload and its imports took about 0.5 s of the 0.6 s the task took,
against about 15 ms for the daemon's answer. Elsewhere the module runs on the host.
"""

from __future__ import annotations

from ansible.plugins.action import ActionBase

from ansible_collections.community.docker.plugins.module_utils.common_api import AnsibleDockerClientBase
from ansible_collections.community.docker.plugins.module_utils.util import (
    DOCKER_COMMON_ARGS,
    DOCKER_REQUIRED_TOGETHER,
)
from ansible_collections.kringen.mcp_server.plugins.modules.registry_image_info import (
    ARGUMENT_SPEC,
    registry_digest,
    result_of,
)


class _Failed(Exception):
    pass


class _DaemonClient(AnsibleDockerClientBase):
    """community.docker's API client configured from validated parameters instead of a module."""

    def __init__(self, params):
        self._params = params
        super().__init__()

    def fail(self, msg, **kwargs):
        raise _Failed(msg)

    def _get_params(self):
        return self._params


class ActionModule(ActionBase):
    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        if self._connection.transport != "local":
            result.update(self._execute_module(module_args=self._task.args, task_vars=task_vars))
            return result
        _validated, params = self.validate_argument_spec(argument_spec=dict(DOCKER_COMMON_ARGS, **ARGUMENT_SPEC),
                                                         required_together=DOCKER_REQUIRED_TOGETHER)
        try:
            client = _DaemonClient(params)
            result.update(result_of(*registry_digest(client, params["name"], params["tag"])))
        except _Failed as exc:
            result.update(failed=True, msg=str(exc))
        return result
