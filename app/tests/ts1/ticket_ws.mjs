// Runs under Node 22 with the official TypeScript MCP SDK 1.32 (hack/build/ts1-client.sh): its
// WebSocketClientTransport takes only a URL and opens `new WebSocket(url, "mcp")`, so it can send no
// Authorization header. A ticket bought with the access token (POST /mcp/ticket) rides along as a
// second subprotocol, `mcp-ticket.<ticket>`, added by wrapping the WebSocket constructor the
// transport uses; the token itself never travels on the upgrade, nor in any URL.
// Prints one JSON object of what it saw; test_oauth.py asserts on it.
//
// usage: MCP_ACCESS_TOKEN=... node ticket_ws.mjs NODE_MODULES WS_URL TICKET_URL
import { createRequire } from "node:module";

const [nodeModules, wsUrl, ticketUrl] = process.argv.slice(2);
const require = createRequire(`${nodeModules}/`);
const { Client } = require("@modelcontextprotocol/sdk/client/index.js");
const { WebSocketClientTransport } = require("@modelcontextprotocol/sdk/client/websocket.js");

const bought = await fetch(ticketUrl, {
  method: "POST", headers: { Authorization: `Bearer ${process.env.MCP_ACCESS_TOKEN}` },
});
if (bought.status !== 200) throw new Error(`ticket: HTTP ${bought.status}`);
const { subprotocol } = await bought.json();

const Native = globalThis.WebSocket;
let offered = null;
globalThis.WebSocket = class extends Native {
  constructor(url, protocols) {
    offered = [...[].concat(protocols ?? []), subprotocol];
    super(url, offered);
  }
};

const client = new Client({ name: "kringen-ts1-ticket", version: "1.0.0" });
const transport = new WebSocketClientTransport(new URL(wsUrl));
await client.connect(transport);
const seen = {
  server: client.getServerVersion()?.name ?? null,
  offered_mcp: offered?.[0] === "mcp",
  selected: transport._socket?.protocol ?? null,
};
const saved = await client.callTool({ name: "save_note", arguments: { id: "ts1-note", title: "From TS 1", content: "over a ticket" } });
seen.saved = saved.structuredContent;
const got = await client.callTool({ name: "get_note", arguments: { id: "ts1-note" } });
seen.got = got.structuredContent;
await client.close();
console.log(JSON.stringify(seen));
