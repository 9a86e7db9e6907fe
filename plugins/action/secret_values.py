# Copyright: Kringen maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin kringen.mcp_server.secret_values: a Secret's values, kept when the cluster has them,
generated when it does not, in one task (k8s_resources' secret_values entry point)."""

from __future__ import annotations

import base64
import secrets
import string

from ansible.errors import AnsibleError
from ansible.plugins.action import ActionBase
from ansible.plugins.loader import lookup_loader

from ansible_collections.kringen.mcp_server.plugins.module_utils.secret_values import argument_spec

# The namespace's Secrets, read once per play: namespace -> Secret name -> data (base64)
CACHE_FACT = "__k8s_resources_secrets"
VALUES_FACT = "k8s_resources_secret_values"
ALPHABET = string.ascii_letters + string.digits


def generated(length: int) -> str:
    return "".join(secrets.choice(ALPHABET) for _position in range(length))


class ActionModule(ActionBase):
    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        _validated, params = self.validate_argument_spec(argument_spec=argument_spec())
        namespace, lengths = params["namespace"], params["keys"]
        for key, length in lengths.items():
            if not isinstance(length, int) or isinstance(length, bool) or length < 1:
                raise AnsibleError(f"secret_values: the length of key {key!r} must be a positive integer, got {length!r}")
        facts = {}
        existing = {}
        if params["read"]:
            cache = dict(self._templar.template(task_vars.get(CACHE_FACT) or {}))
            if namespace not in cache:
                cache[namespace] = self._read_secrets(namespace, params, task_vars)
                facts[CACHE_FACT] = cache
            existing = cache[namespace].get(params["name"], {})
        facts[VALUES_FACT] = {
            key: base64.b64decode(existing[key]).decode() if key in existing else generated(length)
            for key, length in lengths.items()
        }
        result.update(changed=False, ansible_facts=facts)
        return result

    def _read_secrets(self, namespace, params, task_vars):
        """Every Secret of the namespace (one list request), as name -> data."""
        auth = {key: params[key] for key in ("kubeconfig", "context") if params[key] is not None}
        lookup = lookup_loader.get("kubernetes.core.k8s", loader=self._loader, templar=self._templar)
        found = lookup.run([], variables=task_vars, kind="Secret", namespace=namespace, **auth)
        return {obj["metadata"]["name"]: obj.get("data") or {} for obj in found or []}
