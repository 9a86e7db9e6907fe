"""Web search through a SearxNG-style JSON API, with results cached in MongoDB.

The cache entry carries its own `expires_at`, and the app checks it on every read
(FerretDB v1 has no TTL indexes, and MongoDB's TTL monitor runs only once a minute).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import urllib.parse
from typing import Any

import orjson
from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest

from ..catalog import Catalog, Tool, ToolError
from ..database import STORE_ERRORS, Database, as_text, from_text

NOT_CONFIGURED = ("Web search is not configured on this server: set MCP_WEB_SEARCH_URL to a "
                  "SearxNG-compatible JSON search endpoint (for example http://searxng:8080/search).")


class WebSearch:
    def __init__(self, db: Database, url: str, timeout: float, cache_seconds: int):
        self.db = db
        self.url = url
        self.timeout = timeout
        self.cache_seconds = cache_seconds

    async def __call__(self, args: dict[str, Any], ctx: Any) -> dict[str, Any]:
        if not self.url:
            raise ToolError(NOT_CONFIGURED)
        query, limit = args["query"].strip(), args.get("max_results", 5)
        if not query:
            raise ToolError("query: must contain something other than spaces")
        key = hashlib.sha256(f"{self.url}\n{limit}\n{query}".encode()).hexdigest()
        now = dt.datetime.now(dt.timezone.utc)
        if self.cache_seconds and not args.get("fresh"):
            cached = await self._cached(key, now)
            if cached is not None:
                return {"query": query, "results": cached, "cached": True}
        ctx.progress(0, 1, "searching")
        results = await self._fetch(query, limit)
        ctx.progress(1, 1, "done")
        if self.cache_seconds:
            await self._store(key, query, results, now)
        return {"query": query, "results": results, "cached": False}

    async def _cached(self, key: str, now: dt.datetime) -> list[dict[str, Any]] | None:
        try:
            doc = await self.db.search_cache.find_one({"_id": key})
            if doc is None:
                return None
            if doc["expires_at"] <= now:
                await self.db.search_cache.delete_one({"_id": key, "expires_at": doc["expires_at"]})
                return None
            return from_text(doc["results"])  # type: ignore[no-any-return]
        except STORE_ERRORS:
            return None  # a cache miss; the search itself still works

    async def _store(self, key: str, query: str, results: list[dict[str, Any]], now: dt.datetime) -> None:
        expires = now + dt.timedelta(seconds=self.cache_seconds)
        try:
            await self.db.search_cache.replace_one(
                {"_id": key}, {"query": query, "results": as_text(results), "fetched_at": now, "expires_at": expires},
                upsert=True)  # the provider's results as JSON text: their keys are the provider's
            await self.db.search_cache.delete_many({"expires_at": {"$lte": now}})
        except STORE_ERRORS:
            pass

    async def _fetch(self, query: str, limit: int) -> list[dict[str, Any]]:
        separator = "&" if urllib.parse.urlsplit(self.url).query else "?"
        url = self.url + separator + urllib.parse.urlencode({"q": query, "format": "json"})
        request = HTTPRequest(url, method="GET", headers={"Accept": "application/json"},
                              connect_timeout=self.timeout, request_timeout=self.timeout, follow_redirects=False)
        try:
            response = await AsyncHTTPClient().fetch(request)
        except HTTPClientError as exc:
            raise ToolError(f"The search provider answered HTTP {exc.code}.") from None
        except (OSError, TimeoutError) as exc:
            raise ToolError(f"The search provider could not be reached ({type(exc).__name__}).") from None
        try:
            body = orjson.loads(response.body)
            items = body["results"]
            if not isinstance(items, list):
                raise TypeError
        except (orjson.JSONDecodeError, KeyError, TypeError):
            raise ToolError("The search provider's answer is not SearxNG-style JSON with a 'results' list.") from None
        results = []
        for item in items:
            if not isinstance(item, dict) or not isinstance(item.get("url"), str):
                continue
            results.append({"title": str(item.get("title") or item["url"]), "url": item["url"],
                            "snippet": str(item.get("content") or "")[:500]})
            if len(results) >= limit:
                break
        return results


def register(catalog: Catalog, search: WebSearch) -> None:
    catalog.add_tool(Tool(
        name="web_search", title="Web search",
        description="Search the web through the configured provider. Results are cached for a while; "
                    "set fresh to true to bypass the cache.",
        input_schema={"type": "object", "properties": {
            "query": {"type": "string", "minLength": 1, "maxLength": 500},
            "max_results": {"type": "integer", "minimum": 1, "maximum": 20, "default": 5},
            "fresh": {"type": "boolean", "default": False}}, "required": ["query"], "additionalProperties": False},
        output_schema={"type": "object", "properties": {
            "query": {"type": "string"},
            "results": {"type": "array", "items": {"type": "object", "properties": {
                "title": {"type": "string"}, "url": {"type": "string"}, "snippet": {"type": "string"}},
                "required": ["title", "url", "snippet"]}},
            "cached": {"type": "boolean"}}, "required": ["query", "results", "cached"]},
        annotations={"title": "Web search", "readOnlyHint": True, "openWorldHint": True},
        handler=search))
