"""The MCP conformance suite's fixture tools, resources and prompts.

Served only when MCP_CONFORMANCE_FIXTURES=true (a test setting, never deployed).
Names and shapes follow the suite's server scenarios.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import orjson

from ..catalog import Catalog, Prompt, StaticResource, StaticResources, Tool, ToolResult, text

# A 1x1 PNG and a header-only WAV: the suite checks type, MIME type and valid base64, not pixels.
PNG_BASE64 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
WAV_BASE64 = "UklGRiQAAABXQVZFZm10IBAAAAABAAEAQB8AAEAfAAABAAgAZGF0YQAAAAA="
NO_ARGS = {"type": "object", "properties": {}}
STEP_SECONDS = 0.05


def _image() -> dict[str, Any]:
    return {"type": "image", "data": PNG_BASE64, "mimeType": "image/png"}


def simple_text(args: dict[str, Any], ctx: Any) -> list[dict[str, Any]]:
    return [text("This is a simple text response for testing.")]


def image_content(args: dict[str, Any], ctx: Any) -> list[dict[str, Any]]:
    return [_image()]


def audio_content(args: dict[str, Any], ctx: Any) -> list[dict[str, Any]]:
    return [{"type": "audio", "data": WAV_BASE64, "mimeType": "audio/wav"}]


def embedded_resource(args: dict[str, Any], ctx: Any) -> list[dict[str, Any]]:
    return [{"type": "resource", "resource": {"uri": "test://embedded-resource", "mimeType": "text/plain",
                                              "text": "This is an embedded resource content."}}]


def multiple_content_types(args: dict[str, Any], ctx: Any) -> list[dict[str, Any]]:
    return [
        text("Multiple content types test:"),
        _image(),
        {"type": "resource", "resource": {"uri": "test://mixed-content-resource", "mimeType": "application/json",
                                          "text": '{"test":"data","value":123}'}},
    ]


async def with_logging(args: dict[str, Any], ctx: Any) -> list[dict[str, Any]]:
    ctx.log("info", "Tool execution started")
    await asyncio.sleep(STEP_SECONDS)
    ctx.log("info", "Tool processing data")
    await asyncio.sleep(STEP_SECONDS)
    ctx.log("info", "Tool execution completed")
    return [text("Tool with logging executed successfully")]


def error_handling(args: dict[str, Any], ctx: Any) -> ToolResult:
    return ToolResult([text("This tool intentionally returns an error for testing")], is_error=True)


async def with_progress(args: dict[str, Any], ctx: Any) -> list[dict[str, Any]]:
    for step, value in enumerate((0, 50, 100)):
        if step:
            await asyncio.sleep(STEP_SECONDS)
        ctx.progress(value, 100)
    return [text(f"Progress tool completed (token {ctx.progress_token!r})")]


async def sampling(args: dict[str, Any], ctx: Any) -> list[dict[str, Any]]:
    answer = await ctx.request("sampling/createMessage", {
        "messages": [{"role": "user", "content": {"type": "text", "text": args["prompt"]}}], "maxTokens": 100})
    return [text(f"LLM response: {_sampled_text(answer)}")]


async def elicitation(args: dict[str, Any], ctx: Any) -> list[dict[str, Any]]:
    answer = await ctx.request("elicitation/create", {
        "message": args["message"],
        "requestedSchema": {"type": "object", "properties": {
            "username": {"type": "string", "description": "User's response"},
            "email": {"type": "string", "description": "User's email address"}},
            "required": ["username", "email"]}})
    return [text(f"User response: action={answer.get('action')}, content={orjson.dumps(answer.get('content')).decode()}")]


async def elicitation_defaults(args: dict[str, Any], ctx: Any) -> list[dict[str, Any]]:
    answer = await ctx.request("elicitation/create", {
        "message": "Please review and update the form fields with defaults",
        "requestedSchema": {"type": "object", "properties": {
            "name": {"type": "string", "description": "User name", "default": "John Doe"},
            "age": {"type": "integer", "description": "User age", "default": 30},
            "score": {"type": "number", "description": "User score", "default": 95.5},
            "status": {"type": "string", "description": "User status", "enum": ["active", "inactive", "pending"],
                       "default": "active"},
            "verified": {"type": "boolean", "description": "Verification status", "default": True}}}})
    return [text(_elicitation_summary(answer))]


async def elicitation_enums(args: dict[str, Any], ctx: Any) -> list[dict[str, Any]]:
    answer = await ctx.request("elicitation/create", {
        "message": "Please select options from the enum fields",
        "requestedSchema": {"type": "object", "properties": {
            "untitledSingle": {"type": "string", "description": "Select one option",
                               "enum": ["option1", "option2", "option3"]},
            "titledSingle": {"type": "string", "description": "Select one option with titles", "oneOf": [
                {"const": "value1", "title": "First Option"}, {"const": "value2", "title": "Second Option"},
                {"const": "value3", "title": "Third Option"}]},
            "legacyEnum": {"type": "string", "description": "Select one option (legacy)",
                           "enum": ["opt1", "opt2", "opt3"], "enumNames": ["Option One", "Option Two", "Option Three"]},
            "untitledMulti": {"type": "array", "description": "Select multiple options",
                              "items": {"type": "string", "enum": ["option1", "option2", "option3"]}},
            "titledMulti": {"type": "array", "description": "Select multiple options with titles", "items": {"anyOf": [
                {"const": "value1", "title": "First Choice"}, {"const": "value2", "title": "Second Choice"},
                {"const": "value3", "title": "Third Choice"}]}}}}})
    return [text(_elicitation_summary(answer))]


def _elicitation_summary(answer: dict[str, Any]) -> str:
    return f"Elicitation completed: action={answer.get('action')}, content={orjson.dumps(answer.get('content')).decode()}"


async def reconnection(args: dict[str, Any], ctx: Any) -> list[dict[str, Any]]:
    ctx.log("info", "Reconnection test started: closing the stream; resume it with Last-Event-ID")
    await asyncio.sleep(0.05)
    ctx.end_stream()
    await asyncio.sleep(0.2)
    return [text("Reconnection test completed")]


# --- 2026-07-28: input-required results (MRTR), capabilities, request-scoped logging, listen ---

def _elicit(message: str, properties: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return ("elicitation/create", {"message": message, "requestedSchema": {
        "type": "object", "properties": properties, "required": list(properties)}})


def _sample(text_: str, max_tokens: int) -> tuple[str, dict[str, Any]]:
    return ("sampling/createMessage", {"messages": [{"role": "user", "content": {"type": "text", "text": text_}}],
                                       "maxTokens": max_tokens})


ROOTS = ("roots/list", {})
NAME_QUESTION = _elicit("What is your name?", {"name": {"type": "string"}})


def _sampled_text(answer: dict[str, Any]) -> str:
    """The text of a sampling result, whose content is one block or (2025-11-25) a list of them."""
    content = answer.get("content")
    blocks = content if isinstance(content, list) else [content]
    return "".join(str(b.get("text", "")) for b in blocks if isinstance(b, dict))


def _accepted(answer: dict[str, Any], field: str) -> Any:
    content = answer.get("content") if answer.get("action") == "accept" else None
    return content.get(field) if isinstance(content, dict) else None


async def ir_elicitation(args: dict[str, Any], ctx: Any) -> str:
    answers = await ctx.ask({"user_name": NAME_QUESTION})
    name = _accepted(answers["user_name"], "name")
    return f"Hello, {name}!" if isinstance(name, str) else "No name was given."


async def ir_sampling(args: dict[str, Any], ctx: Any) -> str:
    answers = await ctx.ask({"capital_question": _sample("What is the capital of France?", 100)})
    return f"Sampled answer: {_sampled_text(answers['capital_question'])}"


async def ir_list_roots(args: dict[str, Any], ctx: Any) -> str:
    answers = await ctx.ask({"client_roots": ROOTS})
    return "Client roots: " + ", ".join(r.get("uri", "?") for r in answers["client_roots"]["roots"] if isinstance(r, dict))


async def ir_request_state(args: dict[str, Any], ctx: Any) -> str:
    answers = await ctx.ask({"confirm": _elicit("Please confirm", {"ok": {"type": "boolean"}})})
    return f"state-ok: confirmed={_accepted(answers['confirm'], 'ok')}"


async def ir_multiple_inputs(args: dict[str, Any], ctx: Any) -> str:
    answers = await ctx.ask({"user_name": NAME_QUESTION, "greeting": _sample("Generate a greeting", 50),
                             "client_roots": ROOTS})
    return f"Got {len(answers)} answers: name={_accepted(answers['user_name'], 'name')}"


async def ir_multi_round(args: dict[str, Any], ctx: Any) -> str:
    first = await ctx.ask({"step1": _elicit("Step 1: What is your name?", {"name": {"type": "string"}})})
    second = await ctx.ask({"step2": _elicit("Step 2: What is your favorite color?", {"color": {"type": "string"}})})
    return f"{_accepted(first['step1'], 'name')} likes {_accepted(second['step2'], 'color')}"


async def ir_capabilities(args: dict[str, Any], ctx: Any) -> str:
    wanted = {"user_name": NAME_QUESTION, "capital_question": _sample("What is the capital of France?", 100),
              "client_roots": ROOTS}
    asked = {key: request for key, request in wanted.items() if ctx.client_supports(request[0])}
    if not asked:
        return "The client declared no capability to ask it anything."
    answers = await ctx.ask(asked)
    return f"Asked only what the client supports: {', '.join(sorted(answers))}"


async def missing_capability(args: dict[str, Any], ctx: Any) -> str:
    answer = await ctx.request(*_sample("This tool needs sampling", 10))
    return f"Sampled: {answer.get('content')}"


async def streaming_elicitation(args: dict[str, Any], ctx: Any) -> str:
    answers = await ctx.ask({"confirm": _elicit("Continue?", {"ok": {"type": "boolean"}})})
    return f"confirmed={_accepted(answers['confirm'], 'ok')}"


def logging_tool(args: dict[str, Any], ctx: Any) -> str:
    ctx.log("info", "logging tool ran")
    return "Logged at info (sent only if the request set a log level)"


def trigger_tool_change(args: dict[str, Any], ctx: Any) -> str:
    ctx.list_changed("toolsListChanged")
    return "tools/list_changed sent"


def trigger_prompt_change(args: dict[str, Any], ctx: Any) -> str:
    ctx.list_changed("promptsListChanged")
    return "prompts/list_changed sent"


async def wait(args: dict[str, Any], ctx: Any) -> str:
    ctx.progress(0, 1, "waiting")
    await asyncio.sleep(args["seconds"])
    return f"waited {args['seconds']} s"


def param_header(args: dict[str, Any], ctx: Any) -> str:
    return f"Region: {args.get('region')}"


def schema_2020_12(args: dict[str, Any], ctx: Any) -> list[dict[str, Any]]:
    return [text(f"Received: {orjson.dumps(args).decode()}")]


SCHEMA_2020_12 = {
    "$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
    "$defs": {"address": {"$anchor": "addressDef", "type": "object",
                          "properties": {"street": {"type": "string"}, "city": {"type": "string"}}}},
    "properties": {"name": {"type": "string"}, "address": {"$ref": "#/$defs/address"},
                   "contactMethod": {"type": "string", "enum": ["phone", "email"]},
                   "phone": {"type": "string"}, "email": {"type": "string"}},
    "allOf": [{"anyOf": [{"required": ["phone"]}, {"required": ["email"]}]}],
    "if": {"properties": {"contactMethod": {"const": "phone"}}, "required": ["contactMethod"]},
    "then": {"required": ["phone"]}, "else": {"required": ["email"]},
    "additionalProperties": False,
}

_TOOLS = (
    ("test_simple_text", "Returns a simple text response", NO_ARGS, simple_text),
    ("test_image_content", "Returns an image", NO_ARGS, image_content),
    ("test_audio_content", "Returns audio", NO_ARGS, audio_content),
    ("test_embedded_resource", "Returns an embedded resource", NO_ARGS, embedded_resource),
    ("test_multiple_content_types", "Returns text, image and resource content", NO_ARGS, multiple_content_types),
    ("test_tool_with_logging", "Sends log messages while it runs", NO_ARGS, with_logging),
    ("test_error_handling", "Always returns an error result", NO_ARGS, error_handling),
    ("test_tool_with_progress", "Reports progress while it runs", NO_ARGS, with_progress),
    ("test_sampling", "Asks the client's model through sampling",
     {"type": "object", "properties": {"prompt": {"type": "string"}}, "required": ["prompt"]}, sampling),
    ("test_elicitation", "Asks the user for information through elicitation",
     {"type": "object", "properties": {"message": {"type": "string"}}, "required": ["message"]}, elicitation),
    ("test_elicitation_sep1034_defaults", "Elicitation with default values (SEP-1034)", NO_ARGS, elicitation_defaults),
    ("test_elicitation_sep1330_enums", "Elicitation with enum schemas (SEP-1330)", NO_ARGS, elicitation_enums),
    ("test_reconnection", "Answers after the SSE stream was closed (SEP-1699)", NO_ARGS, reconnection),
    ("json_schema_2020_12_tool", "Tool with JSON Schema 2020-12 features", SCHEMA_2020_12, schema_2020_12),
    ("test_input_required_result_elicitation", "Asks the user's name through an input-required result",
     NO_ARGS, ir_elicitation),
    ("test_input_required_result_sampling", "Asks the client's model through an input-required result",
     NO_ARGS, ir_sampling),
    ("test_input_required_result_list_roots", "Asks the client's roots through an input-required result",
     NO_ARGS, ir_list_roots),
    ("test_input_required_result_request_state", "Input-required result with a request state", NO_ARGS,
     ir_request_state),
    ("test_input_required_result_multiple_inputs", "Asks for three inputs at once", NO_ARGS, ir_multiple_inputs),
    ("test_input_required_result_multi_round", "Asks for input over two rounds", NO_ARGS, ir_multi_round),
    ("test_input_required_result_tampered_state", "Refuses a tampered request state", NO_ARGS, ir_request_state),
    ("test_input_required_result_capabilities", "Asks only what the client declared it supports", NO_ARGS,
     ir_capabilities),
    ("test_missing_capability", "Needs the client's sampling capability", NO_ARGS, missing_capability),
    ("test_streaming_elicitation", "Asks for input without a request on the response stream", NO_ARGS,
     streaming_elicitation),
    ("test_logging_tool", "Logs a message when the request sets a log level", NO_ARGS, logging_tool),
    ("test_trigger_tool_change", "Sends tools/list_changed to listeners", NO_ARGS, trigger_tool_change),
    ("test_trigger_prompt_change", "Sends prompts/list_changed to listeners", NO_ARGS, trigger_prompt_change),
    ("test_wait", "Reports progress, then waits (our own tests: cancellation, drain)",
     {"type": "object", "properties": {"seconds": {"type": "number", "minimum": 0, "maximum": 30}},
      "required": ["seconds"]}, wait),
    ("test_mcp_param_header", "Takes an argument that travels as the Mcp-Param-Region header too",
     {"type": "object", "properties": {"region": {"type": "string", "x-mcp-header": "Region"}}}, param_header),
)

_TEMPLATE_RE = re.compile(r"^test://template/([^/]+)/data$")


def _template_read(uri: str) -> list[dict[str, Any]] | None:
    match = _TEMPLATE_RE.match(uri)
    if match is None:
        return None
    item = match.group(1)
    body = {"id": item, "templateTest": True, "data": f"Data for ID: {item}"}
    return [{"uri": uri, "mimeType": "application/json", "text": orjson.dumps(body).decode()}]


def _resources() -> StaticResources:
    return StaticResources(
        resources=[
            StaticResource("test://static-text", "static-text", "text/plain",
                           lambda: [{"uri": "test://static-text", "mimeType": "text/plain",
                                     "text": "This is the content of the static text resource."}],
                           description="A static text resource for testing"),
            StaticResource("test://static-binary", "static-binary", "image/png",
                           lambda: [{"uri": "test://static-binary", "mimeType": "image/png", "blob": PNG_BASE64}],
                           description="A static binary resource (image) for testing"),
            StaticResource("test://watched-resource", "watched-resource", "text/plain",
                           lambda: [{"uri": "test://watched-resource", "mimeType": "text/plain",
                                     "text": "Watched resource content"}],
                           description="A resource for subscription tests"),
        ],
        templates=[({"uriTemplate": "test://template/{id}/data", "name": "template-data",
                     "description": "A resource template with parameter substitution",
                     "mimeType": "application/json"}, _template_read)],
    )


async def _simple_prompt(args: dict[str, str], ctx: Any) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": text("This is a simple prompt for testing.")}]}


async def _args_prompt(args: dict[str, str], ctx: Any) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": text(
        f"Prompt with arguments: arg1='{args['arg1']}', arg2='{args['arg2']}'")}]}


async def _embedded_prompt(args: dict[str, str], ctx: Any) -> dict[str, Any]:
    return {"messages": [
        {"role": "user", "content": {"type": "resource", "resource": {
            "uri": args["resourceUri"], "mimeType": "text/plain", "text": "Embedded resource content for testing."}}},
        {"role": "user", "content": text("Please process the embedded resource above.")}]}


async def _image_prompt(args: dict[str, str], ctx: Any) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": _image()},
                         {"role": "user", "content": text("Please analyze the image above.")}]}


async def _input_required_prompt(args: dict[str, str], ctx: Any) -> dict[str, Any]:
    answers = await ctx.ask({"user_context": _elicit("What context should the prompt use?",
                                                      {"context": {"type": "string"}})})
    return {"messages": [{"role": "user", "content": text(
        f"Use this context: {_accepted(answers['user_context'], 'context')}")}]}


async def _complete_args(argument: str, value: str, known: dict[str, str]) -> list[str]:
    choices = {"arg1": ["paris", "park", "party", "test", "testValue1"], "arg2": ["testValue2", "tokyo"]}
    return [c for c in choices.get(argument, []) if c.startswith(value)]


def register(catalog: Catalog) -> None:
    catalog.changing_lists = frozenset({"toolsListChanged", "promptsListChanged"})  # the trigger tools
    for name, description, schema, handler in _TOOLS:
        catalog.add_tool(Tool(name=name, description=description, input_schema=schema, handler=handler))
    catalog.add_resources(_resources())
    catalog.add_prompt(Prompt(name="test_simple_prompt", description="A simple prompt without arguments",
                              render=_simple_prompt))
    catalog.add_prompt(Prompt(name="test_prompt_with_arguments", description="A prompt with required arguments",
                              arguments=[{"name": "arg1", "description": "First test argument", "required": True},
                                         {"name": "arg2", "description": "Second test argument", "required": True}],
                              render=_args_prompt, complete=_complete_args))
    catalog.add_prompt(Prompt(name="test_prompt_with_embedded_resource", description="A prompt with an embedded resource",
                              arguments=[{"name": "resourceUri", "description": "URI of the resource to embed",
                                          "required": True}], render=_embedded_prompt))
    catalog.add_prompt(Prompt(name="test_prompt_with_image", description="A prompt with image content",
                              render=_image_prompt))
    catalog.add_prompt(Prompt(name="test_input_required_result_prompt",
                              description="A prompt that asks for context through an input-required result",
                              render=_input_required_prompt))
