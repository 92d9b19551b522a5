"""Queries in worker threads whose answers say which request they answer, so a late one is dropped.

Every screen, widget and the app itself asks through `Asking.ask(topic, key, fetch, then)`: `fetch` runs in
a thread worker, exclusive in its topic (a newer request cancels the older worker), and the result comes back
as an `Answered` message carrying the request's key. It is applied (`then(result)`) only while that key is
still the latest asked for the topic: a user who moved the cursor, opened another theme or typed more words
meanwhile made it stale, and it is dropped. One rule instead of a counter per screen.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, Protocol

from textual.message import Message
from textual.notifications import SeverityLevel
from textual.worker import get_current_worker


class Answered(Message):
    """A worker's result (or its error) for the request `key` of `topic`."""

    def __init__(self, topic: str, key: Hashable, result: Any, error: Exception | None,
                 then: Callable[[Any], None], failed: Callable[[Exception], None] | None) -> None:
        super().__init__()
        self.topic, self.key, self.result, self.error = topic, key, result, error
        self.then, self.failed = then, failed


class Node(Protocol):
    """What Asking needs of the Widget, Screen or App it is mixed into (mypy checks each such class has it)."""

    def post_message(self, message: Message) -> bool: ...

    def run_worker(self, work: Callable[[], None], *, group: str, exit_on_error: bool, exclusive: bool,
                   thread: bool) -> object: ...

    def notify(self, message: str, *, severity: SeverityLevel, timeout: float | None) -> None: ...


class Asking:
    """Mixin for a Widget, Screen or App (anything with `run_worker` and `post_message`). Textual calls the
    `on_answered` of every class in the MRO, so subclasses never define their own: they pass `failed`."""

    def wanted(self, topic: str) -> Hashable | None:
        """The key of the latest request of `topic` not answered yet (None: nothing is awaited)."""
        return self.__dict__.setdefault("asked", {}).get(topic)

    def forget(self, topic: str) -> None:
        """Drop whatever answer of `topic` is still coming (the user went elsewhere)."""
        self.__dict__.setdefault("asked", {}).pop(topic, None)

    def ask(self: Node, topic: str, key: Hashable, fetch: Callable[[], Any], then: Callable[[Any], None],
            failed: Callable[[Exception], None] | None = None) -> None:
        """Run `fetch()` in a worker thread; `then(result)` on the UI thread if `key` is still wanted then
        (`failed(error)` if it raised; by default the error is shown as a notification)."""
        self.__dict__.setdefault("asked", {})[topic] = key

        def work() -> None:
            try:
                result, error = fetch(), None
            except Exception as exc:  # noqa: BLE001 - shown, never crashes the UI
                result, error = None, exc
            if not get_current_worker().is_cancelled:
                self.post_message(Answered(topic, key, result, error, then, failed))

        self.run_worker(work, thread=True, group=topic, exclusive=True, exit_on_error=False)

    def on_answered(self: Node, message: Answered) -> None:
        message.stop()  # answers go to the node that asked, never to its parents
        asked = self.__dict__.setdefault("asked", {})
        if message.topic not in asked or asked[message.topic] != message.key:
            return  # a newer request of this topic was made, or it was forgotten: stale
        del asked[message.topic]
        if message.error is not None and message.failed is not None:
            message.failed(message.error)
        elif message.error is not None:
            self.notify(f"{message.error}", severity="error", timeout=8)
        else:
            message.then(message.result)
