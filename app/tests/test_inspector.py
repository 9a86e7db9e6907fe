"""The official MCP Inspector's CLI (npm @modelcontextprotocol/inspector 2.12.0, under Node 22), the
client a new user reaches for first, in both protocol eras: list the tools with its `--strict`
portability check, call a write tool, read the note back with a read tool and as a resource, get a
prompt. Its legacy era declares the tasks and skills extensions at initialize (`--advertise-apps`
adds the MCP Apps one); issue 22: that initialize was answered 503."""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from pathlib import Path

import pytest

from support.processes import REPO, TEST_TOKEN

ERAS = ("legacy", "modern")


def _bin() -> Path:
    out = subprocess.run(["bash", str(REPO / "hack/build/inspector.sh")], check=True, capture_output=True, text=True)
    return Path(out.stdout.strip().splitlines()[-1]) / ".bin"


@pytest.fixture(scope="module")
def inspector(server, tmp_path_factory):
    bin_dir = _bin()
    catalog = tmp_path_factory.mktemp("inspector") / "mcp.json"  # the CLI's own record of servers, not ~
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "MCP_CATALOG_PATH": str(catalog)}

    def run(era: str, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(bin_dir / "node"), str(bin_dir / "mcp-inspector"), "--cli", server.http_url,
                               "--header", f"Authorization: Bearer {TEST_TOKEN}", "--protocol-era", era, *args],
                              capture_output=True, text=True, timeout=120, env=env)

    return run


def answer(done: subprocess.CompletedProcess) -> dict:
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return json.loads(done.stdout)


@pytest.mark.parametrize("era", ERAS)
def test_the_inspector_lists_tools_with_no_portability_warning(inspector, era):
    done = inspector(era, "--method", "tools/list", "--strict", "--advertise-apps")
    names = {tool["name"] for tool in answer(done)["tools"]}
    assert {"save_note", "get_note", "list_notes", "search_notes", "delete_note", "web_search"} <= names
    assert "Warning" not in done.stderr and "Error" not in done.stderr, done.stderr


@pytest.mark.parametrize("era", ERAS)
def test_the_inspector_writes_a_note_and_reads_it_back_as_a_tool_a_resource_and_a_prompt(inspector, era):
    content = f"inspector {era} {uuid.uuid4().hex}"
    saved = answer(inspector(era, "--method", "tools/call", "--tool-name", "save_note",
                             "--tool-arg", f"title=from the {era} inspector", f"content={content}"))
    note = saved["structuredContent"]
    got = answer(inspector(era, "--method", "tools/call", "--tool-name", "get_note", "--tool-arg", f"id={note['id']}"))
    assert got["structuredContent"]["content"] == content and not got.get("isError")
    read = answer(inspector(era, "--method", "resources/read", "--uri", note["uri"]))
    assert content in json.dumps(read["contents"])
    prompt = answer(inspector(era, "--method", "prompts/get", "--prompt-name", "summarize_note",
                              "--prompt-args", f"id={note['id']}"))
    assert content in json.dumps(prompt["messages"])
