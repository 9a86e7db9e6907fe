"""Who hears that something changed: 2025 sessions that sent resources/subscribe, and
2026-07-28 `subscriptions/listen` streams. A tool says a resource (or a list) changed once; this
hub tells every subscriber on this replica, whatever its era or transport."""

from __future__ import annotations

from typing import Any, Protocol

# The notification each list-changed filter key of subscriptions/listen opts in to.
LIST_CHANGED = {
    "toolsListChanged": "notifications/tools/list_changed",
    "promptsListChanged": "notifications/prompts/list_changed",
    "resourcesListChanged": "notifications/resources/list_changed",
}


class Subscriber(Protocol):
    def resource_updated(self, uri: str) -> None: ...


class Listener(Subscriber, Protocol):
    uris: frozenset[str]

    def list_changed(self, kind: str, method: str) -> None: ...


class Subscriptions:
    def __init__(self) -> None:
        self._by_uri: dict[str, set[Any]] = {}
        self._listeners: set[Any] = set()

    def subscribe(self, uri: str, subscriber: Subscriber) -> None:
        self._by_uri.setdefault(uri, set()).add(subscriber)

    def unsubscribe(self, uri: str, subscriber: Subscriber) -> None:
        subscribers = self._by_uri.get(uri)
        if subscribers is not None:
            subscribers.discard(subscriber)
            if not subscribers:
                del self._by_uri[uri]

    def drop(self, subscriber: Subscriber, uris: Any) -> None:
        for uri in list(uris):
            self.unsubscribe(uri, subscriber)

    def listen(self, listener: Listener) -> None:
        self._listeners.add(listener)
        for uri in listener.uris:
            self.subscribe(uri, listener)

    def unlisten(self, listener: Listener) -> None:
        self._listeners.discard(listener)
        self.drop(listener, listener.uris)

    def resource_updated(self, uri: str) -> None:
        for subscriber in list(self._by_uri.get(uri, ())):
            subscriber.resource_updated(uri)

    def list_changed(self, kind: str) -> None:
        """kind: a key of LIST_CHANGED (toolsListChanged, promptsListChanged, resourcesListChanged)."""
        method = LIST_CHANGED[kind]
        for listener in list(self._listeners):
            listener.list_changed(kind, method)

    def count(self) -> int:
        return sum(len(s) for s in self._by_uri.values()) + len(self._listeners)
