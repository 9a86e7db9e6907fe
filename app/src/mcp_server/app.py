"""Wires settings, database, catalog and transports into one Tornado application."""

from __future__ import annotations

import dataclasses
import logging
from importlib import metadata
from typing import Any

from tornado.httputil import HTTPServerRequest
from tornado.routing import Matcher, PathMatches, Rule
from tornado.web import Application

from . import health, logs
from .answer_relay import AnswerRelay
from .catalog import Catalog
from .change_feed import ChangeFeed
from .config import Settings
from .database import Database
from .fast_http import FastHttp
from .guards import RequestGuards
from .metrics import Metrics
from . import auth as authentication
from .tickets import MemoryTickets, MongoTickets
from .core import Core, ServerInfo
from .sealing import Sealer
from .session_records import MemorySessionRecords, MongoSessionRecords
from .tools import fixtures, notes, websearch
from .http_sessions import HttpSessions
from .transport_http import TRANSPORT as HTTP_TRANSPORT
from .transport_http import StreamableHttp
from .transport_ws import McpWebSocket, WebSocketTicket

MCP_PATH = "/mcp"
log = logging.getLogger("mcp_server")


class WebSocketUpgrade(Matcher):
    """Matches a path only for requests asking to upgrade to WebSocket, so both
    transports share /mcp."""

    def __init__(self, path: str):
        self._path = PathMatches(path)

    def match(self, request: HTTPServerRequest) -> dict[str, Any] | None:
        if request.headers.get("Upgrade", "").lower() != "websocket":
            return None
        return self._path.match(request)


def version() -> str:
    try:
        return metadata.version("kringen-mcp-server")
    except metadata.PackageNotFoundError:
        return "0+unknown"


INSTRUCTIONS = ("Notes server: save_note, get_note, list_notes, search_notes and delete_note keep documents; "
                "web_search looks things up on the web when configured. Notes are also resources at notes://{id}.")


def sealer(settings: Settings) -> Sealer:
    keys = settings.load_state_keys()
    if keys:
        return Sealer(keys, settings.state_ttl_seconds)
    log.warning("MCP_STATE_KEYS is not set: input-required requestState is sealed with a key of this process "
                "alone, so a retry that reaches another replica is refused; give every replica the same key")
    return Sealer.ephemeral(settings.state_ttl_seconds)


@dataclasses.dataclass
class Server:
    settings: Settings
    core: Core
    db: Database
    guards: RequestGuards
    sessions: HttpSessions
    app: Application
    http: FastHttp  # what the HTTPServer serves: POST /mcp on the fast path, the rest by `app`
    metrics_http: FastHttp  # what MCP_METRICS_PORT serves: /metrics, /health, /ready (no fast path)
    feed: ChangeFeed | None  # changes shared with the other replicas


def build(settings: Settings) -> Server:
    metrics = Metrics()
    db = Database(settings.mongodb_uri, settings.mongodb_database, settings.mongodb_timeout_ms)
    catalog = Catalog(settings.page_size)
    if settings.conformance_fixtures:
        fixtures.register(catalog)  # first: the suite calls the first tool listed with no arguments
    store = notes.NotesStore(db, settings.page_size)
    notes.register(catalog, store)
    websearch.register(catalog, websearch.WebSearch(
        db, settings.web_search_url, settings.web_search_timeout_seconds, settings.web_search_cache_seconds))
    core = Core(catalog, ServerInfo("kringen-mcp-server", version(), "Kringen MCP server", INSTRUCTIONS), metrics,
                sealer(settings))
    shared = settings.session_store == "mongodb"  # replicas share sessions, changes and answers
    feed = ChangeFeed(core.subscriptions, db.changes, settings.change_poll_seconds) if shared else None
    if feed is not None:
        core.changes = feed
    auth = authentication.build(settings, settings.load_tokens(), MongoTickets(db.tickets) if shared else MemoryTickets(),
                                catalog.tool_read_only)
    guards = RequestGuards(settings, auth, metrics)
    records = MongoSessionRecords(db.sessions) if shared else MemorySessionRecords()
    sessions = HttpSessions(core, HTTP_TRANSPORT, records, settings.rate_limit, settings.rate_burst,
                            settings.session_idle_seconds, settings.session_cache_seconds,
                            AnswerRelay(db.answers) if shared else None)
    mcp = {"core": core, "guards": guards}
    probes = [Rule(PathMatches("/health"), health.Health),
              Rule(PathMatches("/ready"), health.Ready, {"core": core, "db": db, "auth": auth})]
    metrics_app = Application([*probes, Rule(PathMatches("/metrics"), health.Metrics, {"core": core})],
                              log_function=logs.log_request, compress_response=False, xheaders=False)
    app = Application(
        [
            Rule(WebSocketUpgrade(MCP_PATH), McpWebSocket, mcp),
            Rule(PathMatches(MCP_PATH), StreamableHttp, {**mcp, "sessions": sessions}),
            Rule(PathMatches(MCP_PATH + "/ticket"), WebSocketTicket, {"guards": guards}),
            Rule(PathMatches(authentication.METADATA_PATH + f"({MCP_PATH})?"), health.ProtectedResourceMetadata,
                 {"auth": auth}),
            *probes,
        ],
        log_function=logs.log_request,
        compress_response=False,
        xheaders=False,
    )
    return Server(settings, core, db, guards, sessions, app, FastHttp(app, MCP_PATH, core, guards, sessions),
                  FastHttp(metrics_app, None, core, guards, sessions), feed)
