#!/usr/bin/python
# Copyright: Kringen maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: registry_image_info
author: Kringen maintainers (@kringen)
version_added: "1.1.0"
short_description: Ask a registry, through the Docker daemon, whether it has an image tag
description:
  - Asks the Docker daemon to resolve O(name):O(tag) in its registry (the daemon's C(GET /distribution) call),
    with the credentials C(docker login) stored for that registry, and returns whether the registry has it.
  - Pulls, pushes and builds nothing; the image role uses it to skip the build and the push of a build id
    that the registry already holds.
  - When the host is the controller (C(ansible_connection=local)) it asks the daemon from the task's worker
    process, with this module's own code, which saves the module's process start and payload (about 0.5 s of
    the 0.6 s the task took on a local registry); elsewhere the module runs on the host.
  - A tag the registry does not know, a registry that refuses the credentials or cannot be reached all
    answer RV(found=false), with the reason in RV(reason); a push that follows then fails with the real error.
extends_documentation_fragment:
  - community.docker.docker.api_documentation
  - community.docker.attributes
  - community.docker.attributes.info_module
  - community.docker.attributes.idempotent_not_modify_state
options:
  name:
    description: The image repository, with its registry, for example C(registry.example.com/team/mcp-server).
    type: str
    required: true
  tag:
    description: The tag.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Is this build already published
  kringen.mcp_server.registry_image_info:
    name: registry.example.com/team/mcp-server
    tag: 3f2a9c1
  register: published

- name: Push it only when it is not
  when: not published.found
  community.docker.docker_image_push:
    name: registry.example.com/team/mcp-server
    tag: 3f2a9c1
"""

RETURN = r"""
found:
  description: Whether the registry has the tag.
  returned: always
  type: bool
digest:
  description: The manifest digest the registry gave for the tag.
  returned: when RV(found) is true
  type: str
  sample: sha256:5ed66171ede40bb00d7110e0168abfe6e5a84730919a3f3fb1d42efafc02beeb
reason:
  description: Why the tag was not found, as the daemon put it.
  returned: when RV(found) is false
  type: str
  sample: "manifest unknown: manifest unknown"
"""

import base64

from ansible_collections.community.docker.plugins.module_utils._api.auth import (
    get_config_header,
    resolve_repository_name,
)
from ansible_collections.community.docker.plugins.module_utils._api.errors import DockerException
from ansible_collections.community.docker.plugins.module_utils.common_api import (
    AnsibleDockerClient,
    RequestException,
)


def registry_digest(client, name, tag):
    """(digest, None) when the registry has name:tag, else (None, the daemon's reason)."""
    registry, _repository = resolve_repository_name(name)
    # Docker 28.3.3 and later refuse the call without the header, even for an anonymous registry.
    auth_header = get_config_header(client, registry) or base64.urlsafe_b64encode(b"{}")
    try:
        response = client._get(client._url("/distribution/{0}/json", "%s:%s" % (name, tag)),
                               headers={"X-Registry-Auth": auth_header})
        if response.status_code != 200:
            try:
                return None, response.json().get("message", response.reason)
            except ValueError:
                return None, "HTTP %s %s" % (response.status_code, response.reason)
        return response.json()["Descriptor"]["digest"], None
    except (DockerException, RequestException, KeyError, ValueError) as exc:
        return None, str(exc)


ARGUMENT_SPEC = dict(name=dict(type="str", required=True), tag=dict(type="str", required=True))


def result_of(digest, reason):
    if digest:
        return dict(changed=False, found=True, digest=digest)
    return dict(changed=False, found=False, reason=reason)


def main():
    client = AnsibleDockerClient(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    params = client.module.params
    client.module.exit_json(**result_of(*registry_digest(client, params["name"], params["tag"])))


if __name__ == "__main__":
    main()
