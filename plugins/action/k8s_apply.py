# Copyright: Kringen maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin kringen.mcp_server.k8s_apply: kubernetes.core.k8s's apply, in the worker process.

Every kubernetes.core.k8s task starts a module process, ships it the module and its module_utils and
imports the Kubernetes client there: more than half of a small apply's time. On the controller the
worker process can run the very same code (kubernetes.core's run_module) through a stand-in for
AnsibleModule, so results, check mode and diffs stay kubernetes.core's own.
"""

from __future__ import annotations

import importlib.util

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.plugins.action import ActionBase

from ansible_collections.kringen.mcp_server.plugins.module_utils.k8s_apply import argument_spec, k8s_module_args
from ansible_collections.kringen.mcp_server.plugins.module_utils.rollouts import pending_rollouts

try:
    from ansible_collections.kubernetes.core.plugins.module_utils.k8s.core import AnsibleK8SModule
    from ansible_collections.kubernetes.core.plugins.module_utils.k8s.exceptions import CoreException
    from ansible_collections.kubernetes.core.plugins.modules import k8s as k8s_module
except ImportError:
    k8s_module = None

# The in-process run needs the Kubernetes client in the controller's Python, not only on a host.
IN_PROCESS = k8s_module is not None and importlib.util.find_spec("kubernetes") is not None


class _Exit(Exception):
    def __init__(self, result):
        super().__init__(result.get("msg", ""))
        self.result = result


class _InProcessModule:
    """The part of AnsibleModule that kubernetes.core's k8s code uses."""

    def __init__(self, params, check_mode, diff, argument_spec, mutually_exclusive=None, **_settings):
        validated = ArgumentSpecValidator(argument_spec, mutually_exclusive=mutually_exclusive).validate(params)
        if validated.error_messages:
            raise _Exit({"failed": True, "msg": "; ".join(validated.error_messages)})
        self.params = validated.validated_parameters
        self.check_mode = check_mode
        self._diff = diff
        self._name = "kubernetes.core.k8s"
        self.warnings = []

    def warn(self, warning):
        self.warnings.append(warning)

    def deprecate(self, msg, **_kwargs):
        self.warnings.append(msg)

    def debug(self, _msg):
        pass

    def exit_json(self, **result):
        if self.warnings:
            result.setdefault("warnings", []).extend(self.warnings)
        raise _Exit(result)

    def fail_json(self, msg, **result):
        self.exit_json(failed=True, msg=msg, **result)


def run_in_process(module_args, check_mode, diff):
    def module_class(**spec):
        return _InProcessModule(module_args, check_mode, diff, **spec)

    try:
        module = AnsibleK8SModule(module_class=module_class, argument_spec=k8s_module.argspec(),
                                  supports_check_mode=True)
        try:
            k8s_module.run_module(module)
        except CoreException as exc:
            module.fail_json(msg=str(exc))
    except _Exit as exit_:
        return exit_.result
    return {"failed": True, "msg": "kubernetes.core.k8s returned no result"}


class ActionModule(ActionBase):
    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        _validated, params = self.validate_argument_spec(argument_spec=argument_spec())
        module_args = k8s_module_args(params)
        if IN_PROCESS and self._connection.transport == "local":
            result.update(run_in_process(module_args, self._task.check_mode, self._task.diff))
        else:
            result.update(self._execute_module("kubernetes.core.k8s", module_args=module_args, task_vars=task_vars))
        fact = params["rollouts_fact"]
        if fact and not result.get("failed") and not self._task.check_mode and params["state"] == "present":
            # the objects come back with the status they had: a finished rollout needs no wait
            pending = self._templar.template(task_vars.get(fact) or [])
            result["ansible_facts"] = {fact: pending_rollouts(pending, result, params["rollouts_timeout"])}
        return result
