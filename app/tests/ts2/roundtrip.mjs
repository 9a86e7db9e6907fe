// Runs under Node 22 with the official TypeScript MCP client 2.x (hack/build/ts-client.sh): a
// Streamable HTTP round trip against our server in the client's auto mode (2026-07-28 first).
// Prints one JSON object of what it saw; test_sdk_clients.py asserts on it.
//
// usage: node roundtrip.mjs NODE_MODULES URL TOKEN
import { createRequire } from "node:module";

const [nodeModules, url, token] = process.argv.slice(2);
const require = createRequire(`${nodeModules}/`);
const { Client, StreamableHTTPClientTransport } = require("@modelcontextprotocol/client");

const client = new Client(
  { name: "kringen-ts-test", version: "1.0.0" },
  { capabilities: { elicitation: { form: {} } }, versionNegotiation: { mode: "auto" } },
);
client.setRequestHandler("elicitation/create", async () => ({ action: "accept", content: { name: "TS Two" } }));
await client.connect(new StreamableHTTPClientTransport(new URL(url), {
  requestInit: { headers: { Authorization: `Bearer ${token}` } },
}));
const seen = {
  era: client.getProtocolEra(),
  protocol_version: client.getNegotiatedProtocolVersion(),
  server: client.getServerVersion()?.name ?? null,
};
const { tools } = await client.listTools();
seen.tools = tools.map((t) => t.name);
const saved = await client.callTool({ name: "save_note", arguments: { id: "ts2-note", title: "From TS 2", content: "typescript" } });
seen.saved = saved.structuredContent;
const read = await client.readResource({ uri: "notes://ts2-note" });
seen.resource_text = read.contents[0].text;
if (seen.tools.includes("test_input_required_result_elicitation")) {
  const asked = await client.callTool({ name: "test_input_required_result_elicitation", arguments: {} });
  seen.elicited = asked.content[0].text;
}
await client.close();
console.log(JSON.stringify(seen));
