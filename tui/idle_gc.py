"""Full garbage collections when the user pauses, not in the middle of a key's answer.

CPython runs a full (generation 2) collection whenever enough objects have survived the younger ones; in the
TUI each one walked every widget, cached row and loaded page and paused the app for 40-60 ms (14 of them in
a 230-key bench walk, bench/tui_speed.py), so a key that happened to trigger one missed the 100 ms target.
Here the automatic full collection is switched off while the app runs and done instead once the user has
been idle for a moment. Young collections (a few ms at most) still run as usual, so memory is reclaimed as
before, only later.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from dataclasses import dataclass, field

NEVER = 1_000_000_000  # a generation-2 threshold that is never reached


@dataclass
class IdleCollector:
    quiet: float = 1.0  # seconds without input before a full collection may run
    clock: Callable[[], float] = time.monotonic
    last_input: float = 0.0
    pending: bool = False  # input came since the last full collection
    collections: int = 0
    _saved: tuple[int, int, int] | None = field(default=None, repr=False)

    def start(self) -> None:
        if self._saved is None:
            self._saved = gc.get_threshold()
            young, middle, _ = self._saved
            gc.set_threshold(young, middle, NEVER)

    def stop(self) -> None:
        if self._saved is not None:
            gc.set_threshold(*self._saved)
            self._saved = None

    def touched(self) -> None:
        """The user did something: a collection may be due at the next pause."""
        self.last_input = self.clock()
        self.pending = True

    def idle_for(self, seconds: float) -> bool:
        return self.clock() - self.last_input >= seconds

    def tick(self) -> bool:
        """Collect if input came since the last collection and none for `quiet` seconds; True if it did."""
        if not self.pending or not self.idle_for(self.quiet):
            return False
        self.pending = False
        gc.collect()
        self.collections += 1
        return True
