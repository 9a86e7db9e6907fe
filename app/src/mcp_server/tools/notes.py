"""A notes (document) store in MongoDB: tools, `notes://{id}` resources and prompts.

Search does not use a text index (FerretDB v1 has none): each note stores its
lower-cased word list in `terms`, which has an ordinary index; a query matches
notes whose terms start with every query word, and results are ranked here.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from typing import Any

from pymongo import DESCENDING, ReturnDocument
from pymongo.errors import DuplicateKeyError, PyMongoError

from ..catalog import Catalog, Prompt, Tool, ToolError, decode_cursor, encode_cursor
from ..database import Database
from ..jsonrpc import INVALID_PARAMS, JsonRpcError

URI_PREFIX = "notes://"
URI_TEMPLATE = "notes://{id}"
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"
_ID_RE = re.compile(ID_PATTERN)
_WORD_RE = re.compile(r"\w+", re.UNICODE)
MAX_TERMS = 5000
SEARCH_CANDIDATES = 500

_ID = {"type": "string", "pattern": ID_PATTERN, "description": "Note id: letters, digits, '.', '_' or '-'."}
_TAGS = {"type": "array", "items": {"type": "string", "minLength": 1, "maxLength": 64}, "maxItems": 32}
_NOTE_SUMMARY = {
    "type": "object",
    "properties": {"id": {"type": "string"}, "title": {"type": "string"}, "tags": _TAGS,
                   "updated_at": {"type": "string", "format": "date-time"}},
    "required": ["id", "title", "tags", "updated_at"],
}


def terms_of(*texts: str) -> list[str]:
    seen: dict[str, None] = {}
    for value in texts:
        for word in _WORD_RE.findall(value.lower()):
            if len(word) > 1:
                seen[word] = None
                if len(seen) >= MAX_TERMS:
                    return list(seen)
    return list(seen)


def _iso(value: dt.datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z")


def _summary(doc: dict[str, Any]) -> dict[str, Any]:
    return {"id": doc["_id"], "title": doc.get("title", ""), "tags": doc.get("tags", []),
            "updated_at": _iso(doc["updated_at"])}


def _full(doc: dict[str, Any]) -> dict[str, Any]:
    return {**_summary(doc), "content": doc.get("content", ""), "created_at": _iso(doc["created_at"])}


def _markdown(doc: dict[str, Any]) -> str:
    tags = f"\n\nTags: {', '.join(doc.get('tags', []))}" if doc.get("tags") else ""
    return f"# {doc.get('title', '')}\n\n{doc.get('content', '')}{tags}\n"


def _unavailable(exc: PyMongoError) -> ToolError:
    return ToolError(f"The notes database is unavailable right now ({type(exc).__name__}); try again shortly.")


class NotesStore:
    """The notes collection, and everything the server exposes of it."""

    def __init__(self, db: Database, page_size: int = 50):
        self.db = db
        self.page_size = page_size

    # --- tools -----------------------------------------------------------------

    async def save(self, args: dict[str, Any], ctx: Any) -> dict[str, Any]:
        note_id = args.get("id") or secrets.token_hex(8)
        title, content, tags = args["title"], args["content"], list(dict.fromkeys(args.get("tags", [])))
        now = dt.datetime.now(dt.timezone.utc)
        update = {"$set": {"title": title, "content": content, "tags": tags, "updated_at": now,
                           "terms": terms_of(title, content, " ".join(tags))},
                  "$setOnInsert": {"created_at": now}}
        try:
            try:
                doc = await self.db.notes.find_one_and_update(
                    {"_id": note_id}, update, upsert=True, return_document=ReturnDocument.AFTER)
            except DuplicateKeyError:
                # Saves of one new id raced and another inserted it first (MongoDB retries some such
                # upserts itself, FerretDB none): the note exists now, so this one updates it.
                doc = await self.db.notes.find_one_and_update(
                    {"_id": note_id}, update, upsert=True, return_document=ReturnDocument.AFTER)
        except PyMongoError as exc:
            raise _unavailable(exc) from None
        ctx.resource_updated(URI_PREFIX + note_id)
        ctx.log("info", {"event": "note saved", "id": note_id}, "notes")
        return {"id": note_id, "title": title, "created": doc["created_at"] == doc["updated_at"],
                "updated_at": _iso(doc["updated_at"]), "uri": URI_PREFIX + note_id}

    async def get(self, args: dict[str, Any], ctx: Any) -> dict[str, Any]:
        try:
            doc = await self.db.notes.find_one({"_id": args["id"]}, {"terms": 0})
        except PyMongoError as exc:
            raise _unavailable(exc) from None
        if doc is None:
            raise ToolError(f"No note with id {args['id']!r}.")
        return _full(doc)

    async def list(self, args: dict[str, Any], ctx: Any) -> dict[str, Any]:
        limit = args.get("limit", 20)
        query: dict[str, Any] = {}
        if args.get("tag"):
            query["tags"] = args["tag"]
        if args.get("cursor"):
            state = _decode_list_cursor(args["cursor"])
            after = dt.datetime.fromisoformat(state["u"])
            query["$or"] = [{"updated_at": {"$lt": after}}, {"updated_at": after, "_id": {"$lt": state["i"]}}]
        try:
            docs = await self.db.notes.find(query, {"terms": 0, "content": 0}) \
                .sort([("updated_at", DESCENDING), ("_id", DESCENDING)]).limit(limit + 1).to_list()
        except PyMongoError as exc:
            raise _unavailable(exc) from None
        next_cursor = None
        if len(docs) > limit:
            docs = docs[:limit]
            last = docs[-1]
            next_cursor = encode_cursor({"u": last["updated_at"].isoformat(), "i": last["_id"]})
        return {"notes": [_summary(d) for d in docs], "next_cursor": next_cursor}

    async def search(self, args: dict[str, Any], ctx: Any) -> dict[str, Any]:
        words = terms_of(args["query"])
        if not words:
            raise ToolError("The query has no words to search for (use letters or digits).")
        limit = args.get("limit", 10)
        query: dict[str, Any] = {"$and": [{"terms": {"$regex": "^" + re.escape(w)}} for w in words[:16]]}
        if args.get("tags"):
            query["tags"] = {"$all": args["tags"]}
        try:
            docs = await self.db.notes.find(query, {"terms": 0}).limit(SEARCH_CANDIDATES).to_list()
        except PyMongoError as exc:
            raise _unavailable(exc) from None
        ranked = sorted(((_score(d, words), d) for d in docs), key=lambda pair: (-pair[0], pair[1]["_id"]))
        results = [{**_summary(d), "score": score, "snippet": _snippet(d.get("content", ""), words)}
                   for score, d in ranked[:limit]]
        return {"query": args["query"], "results": results}

    async def delete(self, args: dict[str, Any], ctx: Any) -> dict[str, Any]:
        try:
            result = await self.db.notes.delete_one({"_id": args["id"]})
        except PyMongoError as exc:
            raise _unavailable(exc) from None
        if result.deleted_count:
            ctx.resource_updated(URI_PREFIX + args["id"])
        return {"id": args["id"], "deleted": bool(result.deleted_count)}

    # --- resources ---------------------------------------------------------------

    def templates(self) -> list[dict[str, Any]]:
        return [{"uriTemplate": URI_TEMPLATE, "name": "note", "title": "Note",
                 "description": "A note from the notes store, as Markdown.", "mimeType": "text/markdown"}]

    async def list_resources(self, cursor: str | None, limit: int) -> tuple[list[dict[str, Any]], str | None]:
        query: dict[str, Any] = {}
        if cursor is not None:
            if not isinstance(cursor, str):
                raise JsonRpcError(INVALID_PARAMS, "Invalid params: unknown or malformed cursor")
            query["_id"] = {"$gt": cursor}
        try:
            docs = await self.db.notes.find(query, {"title": 1}).sort("_id", 1).limit(limit + 1).to_list()
        except PyMongoError:
            return [], None
        more = len(docs) > limit
        docs = docs[:limit]
        resources = [{"uri": URI_PREFIX + d["_id"], "name": d["_id"], "title": d.get("title", ""),
                      "mimeType": "text/markdown"} for d in docs]
        return resources, (docs[-1]["_id"] if more and docs else None)

    async def read(self, uri: str) -> list[dict[str, Any]] | None:
        if not uri.startswith(URI_PREFIX):
            return None
        note_id = uri[len(URI_PREFIX):]
        if not _ID_RE.match(note_id):
            return None
        try:
            doc = await self.db.notes.find_one({"_id": note_id}, {"terms": 0})
        except PyMongoError as exc:
            raise JsonRpcError(-32603, f"Internal error: notes database unavailable ({type(exc).__name__})") from None
        if doc is None:
            return None
        return [{"uri": uri, "mimeType": "text/markdown", "text": _markdown(doc)}]

    async def complete(self, uri_template: str, argument: str, value: str) -> list[str] | None:
        if uri_template != URI_TEMPLATE:
            return None
        if argument != "id":
            return []
        return await self.complete_ids(value)

    async def complete_ids(self, prefix: str) -> list[str]:
        query = {"_id": {"$regex": "^" + re.escape(prefix)}} if prefix else {}
        try:
            docs = await self.db.notes.find(query, {"_id": 1}).sort("_id", 1).limit(101).to_list()
        except PyMongoError:
            return []
        return [d["_id"] for d in docs]

    # --- prompts -------------------------------------------------------------------

    async def summarize_prompt(self, args: dict[str, str], ctx: Any) -> dict[str, Any]:
        uri = URI_PREFIX + args["id"]
        contents = await self.read(uri)
        if contents is None:
            raise JsonRpcError(INVALID_PARAMS, f"Invalid params: no note with id {args['id']!r}")
        style = args.get("style") or "a short paragraph"
        return {
            "description": f"Summarize note {args['id']}",
            "messages": [
                {"role": "user", "content": {"type": "text", "text": f"Summarize this note as {style}."}},
                {"role": "user", "content": {"type": "resource", "resource": contents[0]}},
            ],
        }

    async def research_prompt(self, args: dict[str, str], ctx: Any) -> dict[str, Any]:
        topic = args["topic"]
        return {
            "description": f"Research {topic}",
            "messages": [{"role": "user", "content": {"type": "text", "text": (
                f"Research the topic: {topic}. First call search_notes to see what is already known; "
                "then call web_search for new sources; finally call save_note with a concise summary, "
                "its sources, and the tag 'research'.")}}],
        }

    async def complete_prompt(self, argument: str, value: str, known: dict[str, str]) -> list[str]:
        if argument == "id":
            return await self.complete_ids(value)
        if argument == "style":
            return [s for s in ("a short paragraph", "bullet points", "one sentence") if s.startswith(value)]
        return []


class _NotesResources:
    """Adapts NotesStore to the catalog's ResourceProvider shape."""

    def __init__(self, store: NotesStore):
        self.store = store

    def templates(self) -> list[dict[str, Any]]:
        return self.store.templates()

    async def list(self, cursor: str | None, limit: int) -> tuple[list[dict[str, Any]], str | None]:
        return await self.store.list_resources(cursor, limit)

    async def read(self, uri: str) -> list[dict[str, Any]] | None:
        return await self.store.read(uri)

    async def complete(self, uri_template: str, argument: str, value: str) -> list[str] | None:
        return await self.store.complete(uri_template, argument, value)


def _decode_list_cursor(cursor: str) -> dict[str, Any]:
    try:
        state = decode_cursor(cursor)
        if isinstance(state, dict) and isinstance(state.get("u"), str) and isinstance(state.get("i"), str):
            dt.datetime.fromisoformat(state["u"])
            return state
    except (JsonRpcError, ValueError):
        pass
    raise ToolError("cursor: not a cursor returned by list_notes")


def _score(doc: dict[str, Any], words: list[str]) -> int:
    title, content = doc.get("title", "").lower(), doc.get("content", "").lower()
    tags = " ".join(doc.get("tags", [])).lower()
    return sum(3 * title.count(w) + 2 * tags.count(w) + content.count(w) for w in words)


def _snippet(content: str, words: list[str], width: int = 160) -> str:
    lower = content.lower()
    positions = [p for p in (lower.find(w) for w in words) if p >= 0]
    start = max(0, min(positions) - width // 4) if positions else 0
    piece = content[start:start + width].replace("\n", " ")
    return ("…" if start else "") + piece + ("…" if start + width < len(content) else "")


def register(catalog: Catalog, store: NotesStore) -> None:
    catalog.add_tool(Tool(
        name="save_note", title="Save note",
        description="Create a note, or replace the note with the given id. Returns its id and URI.",
        input_schema={"type": "object", "properties": {
            "title": {"type": "string", "minLength": 1, "maxLength": 300},
            "content": {"type": "string", "maxLength": 500000},
            "tags": _TAGS, "id": _ID}, "required": ["title", "content"], "additionalProperties": False},
        output_schema={"type": "object", "properties": {
            "id": {"type": "string"}, "title": {"type": "string"}, "created": {"type": "boolean"},
            "updated_at": {"type": "string"}, "uri": {"type": "string"}},
            "required": ["id", "title", "created", "updated_at", "uri"]},
        annotations={"title": "Save note", "readOnlyHint": False, "destructiveHint": True,
                     "idempotentHint": True, "openWorldHint": False},
        handler=store.save))
    catalog.add_tool(Tool(
        name="get_note", title="Get note", description="Read one note by id.",
        input_schema={"type": "object", "properties": {"id": _ID}, "required": ["id"], "additionalProperties": False},
        output_schema={"type": "object", "properties": {
            **_NOTE_SUMMARY["properties"], "content": {"type": "string"}, "created_at": {"type": "string"}},
            "required": ["id", "title", "tags", "content", "created_at", "updated_at"]},
        annotations={"title": "Get note", "readOnlyHint": True, "openWorldHint": False},
        handler=store.get))
    catalog.add_tool(Tool(
        name="list_notes", title="List notes",
        description="List notes, newest first, a page at a time; pass next_cursor back to get the next page.",
        input_schema={"type": "object", "properties": {
            "limit": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20},
            "cursor": {"type": "string"}, "tag": {"type": "string"}}, "additionalProperties": False},
        output_schema={"type": "object", "properties": {
            "notes": {"type": "array", "items": _NOTE_SUMMARY},
            # anyOf, not a list of types: clients that map schemas to a one-type dialect (Gemini) refuse those
            "next_cursor": {"anyOf": [{"type": "string"}, {"type": "null"}]}}, "required": ["notes", "next_cursor"]},
        annotations={"title": "List notes", "readOnlyHint": True, "openWorldHint": False},
        handler=store.list))
    catalog.add_tool(Tool(
        name="search_notes", title="Search notes",
        description="Find notes containing every word of the query (words match by prefix), best matches first.",
        input_schema={"type": "object", "properties": {
            "query": {"type": "string", "minLength": 1, "maxLength": 500},
            "limit": {"type": "integer", "minimum": 1, "maximum": 50, "default": 10},
            "tags": {"type": "array", "items": {"type": "string"}}}, "required": ["query"],
            "additionalProperties": False},
        output_schema={"type": "object", "properties": {
            "query": {"type": "string"},
            "results": {"type": "array", "items": {"type": "object", "properties": {
                **_NOTE_SUMMARY["properties"], "score": {"type": "integer"}, "snippet": {"type": "string"}},
                "required": ["id", "title", "score", "snippet"]}}}, "required": ["query", "results"]},
        annotations={"title": "Search notes", "readOnlyHint": True, "openWorldHint": False},
        handler=store.search))
    catalog.add_tool(Tool(
        name="delete_note", title="Delete note", description="Delete a note by id. Deleting a missing note is not an error.",
        input_schema={"type": "object", "properties": {"id": _ID}, "required": ["id"], "additionalProperties": False},
        output_schema={"type": "object", "properties": {"id": {"type": "string"}, "deleted": {"type": "boolean"}},
                       "required": ["id", "deleted"]},
        annotations={"title": "Delete note", "readOnlyHint": False, "destructiveHint": True,
                     "idempotentHint": True, "openWorldHint": False},
        handler=store.delete))
    catalog.add_resources(_NotesResources(store))
    catalog.add_prompt(Prompt(
        name="summarize_note", title="Summarize a note",
        description="Ask the model to summarize one stored note (embedded as a resource).",
        arguments=[{"name": "id", "description": "Id of the note", "required": True},
                   {"name": "style", "description": "Summary style, e.g. 'bullet points'", "required": False}],
        render=store.summarize_prompt, complete=store.complete_prompt))
    catalog.add_prompt(Prompt(
        name="research_topic", title="Research a topic",
        description="Research a topic with web_search and keep the findings with save_note.",
        arguments=[{"name": "topic", "description": "What to research", "required": True}],
        render=store.research_prompt))
