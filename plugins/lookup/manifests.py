# Copyright: Kringen maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Lookup plugin: Kubernetes objects rendered from a role's YAML templates."""

from __future__ import annotations

DOCUMENTATION = r"""
name: manifests
author: Kringen maintainers (@kringen)
version_added: "1.1.0"
short_description: Render YAML templates, as ansible.builtin.template does, into the objects they hold
description:
  - Renders each template named in the terms with the P(ansible.builtin.template#lookup) lookup's
    own code (found the same way, in the role's C(templates) directory first) and returns every object of
    every YAML document, in order, as C(from_yaml_all) reads them; empty documents are left out.
  - Unlike that lookup, it does not copy all of the play's variables for each template (it layers the
    template's own variables over them), which took about 35 ms a template on a stack's host.
options:
  _terms:
    description: Template file names; an empty name is skipped, so a condition can leave one out.
    required: true
    type: list
    elements: str
notes:
  - Use it with C(query) (or C(wantlist=true)), since it returns a list of objects.
"""

EXAMPLES = r"""
- name: Apply a role's objects
  kringen.mcp_server.k8s_apply:
    definition: "{{ query('kringen.mcp_server.manifests', 'server.yaml.j2', 'policy.yaml.j2' if policies else '') }}"
"""

RETURN = r"""
_raw:
  description: The objects, one per non-empty YAML document.
  type: list
  elements: dict
"""

from collections import ChainMap
from collections.abc import Mapping

from ansible.plugins.filter.core import from_yaml_all
from ansible.plugins.loader import lookup_loader
from ansible.plugins.lookup import LookupBase


class _LayeredVariables(Mapping):
    """The play's variables; a deep copy of them is a new layer over them, not a copy."""

    def __init__(self, variables):
        self._variables = variables

    def __getitem__(self, key):
        return self._variables[key]

    def __iter__(self):
        return iter(self._variables)

    def __len__(self):
        return len(self._variables)

    def __deepcopy__(self, _memo):
        return ChainMap({}, self._variables)


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        names = [name for name in terms if name]
        template = lookup_loader.get("ansible.builtin.template", loader=self._loader, templar=self._templar)
        rendered = template.run(names, variables=_LayeredVariables(variables or {}))
        return [obj for text in rendered for obj in from_yaml_all(text) if obj is not None]
