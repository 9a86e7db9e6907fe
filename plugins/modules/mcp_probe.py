#!/usr/bin/python
# Copyright: Kringen maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: mcp_probe
author: Kringen maintainers (@kringen)
version_added: "1.0.0"
short_description: Probe an MCP endpoint end to end
description:
  - Checks an MCP server the way a client meets it, and returns what it saw.
  - First an HTTP C(GET) of O(health_url) (when given), which must answer 200.
  - Then, in MCP 2026-07-28 (the default), C(server/discover) and stateless requests; in 2025-11-25,
    C(initialize) and C(notifications/initialized). Then C(tools/list), and optionally one C(tools/call),
    over WebSocket (O(url) C(ws://) or C(wss://)) or Streamable HTTP (O(url) C(http://) or C(https://)).
  - Uses only the Python standard library, so it runs wherever Ansible can run a module.
  - Never changes anything on the server by itself; a O(call) of a tool that writes is the caller's choice.
options:
  url:
    description: The MCP endpoint, for example C(ws://127.0.0.1:30800/mcp) or C(http://127.0.0.1:30800/mcp).
    type: str
    required: true
  token:
    description: Bearer token sent as C(Authorization) header.
    type: str
  protocol_version:
    description:
      - The MCP revision to speak. C(2026-07-28) is stateless (no session, the C(_meta) envelope and, over HTTP,
        the C(Mcp-Method)/C(Mcp-Name) headers on every request); C(2025-11-25) opens a session with C(initialize).
    type: str
    choices: ["2026-07-28", "2025-11-25"]
    default: "2026-07-28"
  health_url:
    description: URL checked with C(GET) before the MCP session; must answer 200.
    type: str
  call:
    description: A tool to call after listing tools.
    type: dict
    suboptions:
      name:
        description: Tool name.
        type: str
        required: true
      arguments:
        description: Tool arguments.
        type: dict
        default: {}
  expect_tools:
    description: Tool names that must be in the C(tools/list) answer.
    type: list
    elements: str
    default: []
  timeout:
    description: Seconds allowed for each network step.
    type: float
    default: 10
  retries:
    description: How many more times to try the whole probe after a failure.
    type: int
    default: 0
  delay:
    description: Seconds between tries.
    type: float
    default: 3
  validate_certs:
    description: Verify TLS certificates for C(https) and C(wss).
    type: bool
    default: true
attributes:
  check_mode:
    support: full
    description: The probe only reads, so it runs in check mode too.
  diff_mode:
    support: none
    description: The probe changes nothing, so there is no diff.
notes:
  - The probe sends traffic only to O(url) and O(health_url).
"""

EXAMPLES = r"""
- name: Probe the NodePort over WebSocket and save a note
  kringen.mcp_server.mcp_probe:
    url: ws://127.0.0.1:30800/mcp
    health_url: http://127.0.0.1:30800/health
    token: "{{ mcp_token }}"
    expect_tools: [save_note, get_note]
    call:
      name: save_note
      arguments: {id: probe, title: Probe, content: written by verify.yml}
  register: probe

- name: Same over Streamable HTTP, retrying while pods start
  kringen.mcp_server.mcp_probe:
    url: http://127.0.0.1:30800/mcp
    token: "{{ mcp_token }}"
    retries: 10
    delay: 3
"""

RETURN = r"""
health_status:
  description: HTTP status of O(health_url).
  returned: when O(health_url) is given
  type: int
  sample: 200
transport:
  description: C(websocket) or C(streamable_http).
  returned: success
  type: str
protocol_version:
  description: The protocol version in use (the one the server chose, in 2025-11-25).
  returned: success
  type: str
  sample: "2026-07-28"
server_info:
  description: The server's C(serverInfo).
  returned: success
  type: dict
  sample: {"name": "kringen-mcp-server", "version": "1.0.0"}
subprotocol:
  description: The WebSocket subprotocol the server selected.
  returned: when the transport is websocket
  type: str
  sample: mcp
session_id_issued:
  description: Whether the server issued an C(Mcp-Session-Id) (never in 2026-07-28).
  returned: when the transport is streamable_http
  type: bool
tools:
  description: Names of the tools the server lists (first page).
  returned: success
  type: list
  elements: str
call_result:
  description: The C(tools/call) result.
  returned: when O(call) is given
  type: dict
attempts:
  description: How many tries the probe took.
  returned: always
  type: int
"""

import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.kringen.mcp_server.plugins.module_utils.mcp_client import (
    McpProbeError,
    StreamableHttpClient,
    connect,
    http_get,
    open_conversation,
)


def probe(params):
    seen = {}
    if params["health_url"]:
        status, _body = http_get(params["health_url"], params["timeout"], params["validate_certs"])
        seen["health_status"] = status
        if status != 200:
            raise McpProbeError("health check %s answered HTTP %s" % (params["health_url"], status))
    client = connect(params["url"], params["token"], params["timeout"], params["validate_certs"],
                     params["protocol_version"])
    try:
        seen["protocol_version"], seen["server_info"] = open_conversation(client)
        if isinstance(client, StreamableHttpClient):
            seen["transport"] = "streamable_http"
            seen["session_id_issued"] = bool(client.session_id)
        else:
            seen["transport"] = "websocket"
            seen["subprotocol"] = client.subprotocol
        tools = [tool.get("name") for tool in client.request("tools/list").get("tools", [])]
        seen["tools"] = tools
        missing = [name for name in params["expect_tools"] if name not in tools]
        if missing:
            raise McpProbeError("tools/list lacks %s" % ", ".join(missing))
        if params["call"]:
            call = params["call"]
            answer = client.request("tools/call", {"name": call["name"], "arguments": call["arguments"] or {}})
            seen["call_result"] = answer
            if answer.get("isError"):
                texts = [c.get("text", "") for c in answer.get("content", []) if c.get("type") == "text"]
                raise McpProbeError("tool %s returned an error: %s" % (call["name"], " ".join(texts)))
    finally:
        client.close()
    return seen


def main():
    module = AnsibleModule(
        argument_spec=dict(
            url=dict(type="str", required=True),
            token=dict(type="str", no_log=True),
            protocol_version=dict(type="str", choices=["2026-07-28", "2025-11-25"], default="2026-07-28"),
            health_url=dict(type="str"),
            call=dict(type="dict", options=dict(name=dict(type="str", required=True),
                                                arguments=dict(type="dict", default={}))),
            expect_tools=dict(type="list", elements="str", default=[]),
            timeout=dict(type="float", default=10),
            retries=dict(type="int", default=0),
            delay=dict(type="float", default=3),
            validate_certs=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )
    attempts = 0
    while True:
        attempts += 1
        try:
            seen = probe(module.params)
            break
        except McpProbeError as exc:
            if attempts > module.params["retries"]:
                module.fail_json(msg=str(exc), attempts=attempts)
            time.sleep(module.params["delay"])
    module.exit_json(changed=False, attempts=attempts, **seen)


if __name__ == "__main__":
    main()
