"""Kringen MCP server: MCP over WebSocket and Streamable HTTP, backed by MongoDB."""
