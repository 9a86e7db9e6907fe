# Copyright: Kringen maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The secret_values interface, for its action plugin and its documentation module."""

from __future__ import annotations


def argument_spec():
    return dict(
        name=dict(type="str", required=True),
        namespace=dict(type="str", required=True),
        keys=dict(type="dict", required=True, no_log=False),
        read=dict(type="bool", default=True),
        kubeconfig=dict(type="raw"),
        context=dict(type="str"),
    )
