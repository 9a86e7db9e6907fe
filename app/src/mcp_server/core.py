"""What every conversation of this server shares: the catalog, the server's identity, metrics,
the lifecycle, the subscription hub and the request-state sealer; and the rule that picks a
conversation's MCP era."""

from __future__ import annotations

from typing import Any

from .catalog import Catalog
from .context import Changes
from .engine import Channel, Engine
from .lifecycle import Lifecycle
from .mcp2025 import Session
from .mcp2026 import Stateless, names_modern_version
from .methods import SharedMethods
from .metrics import Metrics
from .sealing import Sealer
from .subscriptions import Subscriptions


class ServerInfo:
    def __init__(self, name: str, version: str, title: str | None = None, instructions: str | None = None):
        self.name, self.version, self.title, self.instructions = name, version, title, instructions
        described: dict[str, Any] = {"name": name, "version": version}
        if title:
            described["title"] = title
        self._described = described

    def describe(self) -> dict[str, Any]:
        return self._described


class Core:
    def __init__(self, catalog: Catalog, info: ServerInfo, metrics: Metrics, sealer: Sealer | None = None):
        self.catalog = catalog
        self.info = info
        self.metrics = metrics
        self.sealer = sealer or Sealer.ephemeral()
        self.lifecycle = Lifecycle()
        self.subscriptions = Subscriptions()
        # Where handlers report changes: the hub, or a ChangeFeed that also tells the other replicas.
        self.changes: Changes = self.subscriptions
        self.shared_methods = SharedMethods(catalog, metrics).table()

    def capabilities(self, list_changes: bool = True) -> dict[str, Any]:
        """What this server offers; `list_changes`: whether list-changed notifications reach the
        client (2026-07-28 listen streams carry them; 2025 sessions get none)."""
        changes = self.catalog.changing_lists if list_changes else frozenset()
        return {
            "tools": {"listChanged": "toolsListChanged" in changes},
            "resources": {"subscribe": True, "listChanged": "resourcesListChanged" in changes},
            "prompts": {"listChanged": "promptsListChanged" in changes},
            "logging": {},
            "completions": {},
        }

    def listen_filter(self, wanted: dict[str, Any]) -> dict[str, Any]:
        """The part of a subscriptions/listen filter this server honours (what it can send)."""
        agreed: dict[str, Any] = {kind: True for kind in self.catalog.changing_lists if wanted.get(kind) is True}
        uris = wanted.get("resourceSubscriptions")
        if isinstance(uris, list):
            agreed["resourceSubscriptions"] = [uri for uri in uris if isinstance(uri, str)]
        return agreed

    @property
    def draining(self) -> bool:
        return self.lifecycle.draining

    def open_session(self, outbox: Channel | None = None) -> Session:
        """A 2025-era session (it begins with initialize)."""
        session = Session(self, outbox)
        self.lifecycle.opened(session)
        return session

    def open_stateless(self) -> Stateless:
        """A 2026-07-28 conversation: every request stands alone."""
        conversation = Stateless(self)
        self.lifecycle.opened(conversation)
        return conversation

    def open_for(self, first: Any, outbox: Channel | None = None) -> Engine:
        """The conversation a connection's first message asks for: 2026-07-28 when it names that
        era in `_meta` (and is not initialize), else a 2025 session."""
        if names_modern_version(first):
            return self.open_stateless()
        return self.open_session(outbox)
