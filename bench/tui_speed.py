# ruff: noqa: E402 - imports follow the sys.path line that lets the script run from a checkout
"""TUI speed on a large database: time to the first drawn screen, and how fast each navigation key answers.

Drives the real app headless (Textual's test harness) on a 100,000-unit / 200-theme database made by
bench/make_big_db.py (built first if missing). Each key is timed from the key event to the last frame its
handling drew: the event handled, the workers it started (page loads, detail queries) finished and their
results rendered by the compositor, then 100 ms without a frame. The link statistics (compute_links) and the embedding index for
"similar" load in background workers and are timed separately.

Why not `pilot.press()` round trips: Pilot waits for "CPU idle" with fixed 20 ms sleeps (at least four per
press), so its round trip has a floor near 100 ms even on a bare DataTable; the same floor is printed at
the end with `--pilot-floor`, next to this harness's figure for the bare app.

    .venv/bin/python bench/tui_speed.py [/tmp/big.db] [--rounds 11]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import resource
import statistics
import sys
import tempfile
import time
import unicodedata
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
_import_started = time.perf_counter()
import tui  # noqa: F401 - first: it sets the frame rate the app runs at (TEXTUAL_FPS) before Textual loads

# isort: split
from textual import events
from textual.app import App, ComposeResult
from textual.keys import REPLACED_KEYS, _character_to_key, _get_unicode_name_from_key
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Input
from textual.worker import WorkerState

from bench.make_big_db import build
from insight.analysis import queries
from tui.app import InsightApp

IMPORT_SECONDS = time.perf_counter() - _import_started  # insight's and the TUI's imports (numpy, Textual, ...)

BACKGROUND = {"links", "vectors", "prefetch", "quotes-ahead", "backtest"}  # worker groups a key does not wait for:
# they fetch ahead for a key not pressed yet and draw nothing, or (the backtest) fill in bars on a screen already
# drawn (a frame they caused would still be caught by settle)
QUIET = 0.1  # a key has answered when no frame came for this long (a new screen can compose unseen for 50 ms)
SIZE = (160, 48)
READING = 1.2  # seconds the user looks at the first screen before the first key


def _steady_cursor(input_on_mount):  # noqa: ANN001, ANN202
    """A blinking cursor draws a frame every 0.5 s; timings would catch it, so the bench holds it still."""

    def on_mount(self: Input, event: events.Mount) -> None:
        input_on_mount(self, event)
        self.cursor_blink = False

    return on_mount


Input._on_mount = _steady_cursor(Input._on_mount)  # type: ignore[method-assign]


class FrameClock:
    """Notes when the app hands a finished frame to its driver (the compositor has rendered it by then).
    A frame rendered during a batch update is dropped by Textual, not shown, and not counted."""

    def __init__(self, app: App) -> None:
        self.last = 0.0
        self.count = 0
        display = app._display

        def timed(screen, renderable):  # noqa: ANN001, ANN202 - same signature as App._display
            if renderable is not None and not app._batch_count:
                self.last = time.perf_counter()
                self.count += 1
            return display(screen, renderable)

        app._display = timed  # type: ignore[method-assign]


def send_key(app: App, key: str) -> float:
    """Post one key event as a terminal would deliver it; returns when it was sent."""
    name = _character_to_key(key) if len(key) == 1 and not key.isalnum() else key
    try:
        char: str | None = unicodedata.lookup(_get_unicode_name_from_key(REPLACED_KEYS.get(name, name)))
    except KeyError:
        char = name if len(name) == 1 else None
    event = events.Key(name, char)
    event.set_sender(app)
    sent = time.perf_counter()
    app._driver.send_message(event)
    return sent


def _dirty(screen: Screen) -> bool:
    return bool(screen._layout_required or screen._scroll_required or screen._repaint_required
                or screen._recompose_required or screen._dirty_widgets)


async def settle(pilot, clock: FrameClock) -> float:
    """Wait until the key's messages, its own workers (background groups excepted) and the repaint are all
    done, then return the time of the last frame drawn. Settling polls every millisecond and, once nothing is
    left, watches for QUIET seconds so a late frame is still caught."""
    app = pilot.app
    while True:
        if app._exception is not None:
            raise app._exception
        await pilot._wait_for_screen()
        pending = [w for w in app.workers
                   if w.group not in BACKGROUND and w.state in (WorkerState.PENDING, WorkerState.RUNNING)]
        if pending:
            await asyncio.gather(*(w.wait() for w in pending), return_exceptions=True)
            continue
        if _dirty(app.screen):
            await asyncio.sleep(0.001)
            continue
        frames = clock.count
        await asyncio.sleep(QUIET)
        if clock.count == frames and not _dirty(app.screen):
            return clock.last


async def press(pilot, clock: FrameClock, key: str) -> float:
    """Key-to-frame latency of one key: from the key event to the last frame its handling produced."""
    sent = send_key(pilot.app, key)
    last = await settle(pilot, clock)
    return max(last - sent, 0.0) if last > sent else 0.0


async def wait_background(pilot) -> float:
    started = time.perf_counter()
    await pilot.app.workers.wait_for_complete()
    return time.perf_counter() - started


class GcClock:
    """Records how long each garbage collection paused the app, by generation."""

    def __init__(self) -> None:
        self.pauses: dict[int, list[float]] = defaultdict(list)
        self._started = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.pauses[info["generation"]].append(time.perf_counter() - self._started)

    def report(self) -> None:
        gc.callbacks.remove(self._callback)
        for generation, pauses in sorted(self.pauses.items()):
            print(f"garbage collections of generation {generation}: {len(pauses)}, "
                  f"max {max(pauses) * 1000:.1f} ms, total {sum(pauses) * 1000:.0f} ms")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


class _Baseline(App):
    """The floor of the harness on this machine: a bare Header/DataTable/Footer app with two screens."""

    BINDINGS = [("1", "switch_mode('a')", "A"), ("2", "switch_mode('b')", "B")]

    class Place(Screen):
        def compose(self) -> ComposeResult:
            yield Header()
            yield DataTable(cursor_type="row")
            yield Footer()

        def on_mount(self) -> None:
            table = self.query_one(DataTable)
            table.add_columns("id", "text", "more")
            for i in range(100):
                table.add_row(str(i), "x" * 60, "y" * 40)

    MODES = {"a": Place, "b": Place}
    DEFAULT_MODE = "a"


async def baseline(rounds: int) -> dict[str, list[float]]:
    timings: dict[str, list[float]] = defaultdict(list)
    app = _Baseline()
    async with app.run_test(size=SIZE) as pilot:
        clock = FrameClock(app)
        await settle(pilot, clock)
        for _ in range(rounds):
            await press(pilot, clock, "ctrl+home")  # untimed: every round moves through the same rows
            for _ in range(10):
                timings["bare app: down in a DataTable"].append(await press(pilot, clock, "down"))
            for key in ("2", "1"):
                timings["bare app: switch between two screens"].append(await press(pilot, clock, key))
            await press(pilot, clock, "ctrl+home")
            for _ in range(10):
                t0 = time.perf_counter()
                await pilot.press("down")
                await pilot.pause()
                timings["bare app: down, Pilot press + pause"].append(time.perf_counter() - t0)
    return timings


def report(timings: dict[str, list[float]], title: str) -> None:
    everything = [v for label, values in timings.items() if not label.startswith("bare app") for v in values]
    print(f"\n{title}\n{'key':38} {'n':>4} {'median ms':>10} {'p95 ms':>8} {'max ms':>8}")
    for label, values in timings.items():
        print(f"{label:38} {len(values):>4} {statistics.median(values) * 1000:>10.1f} "
              f"{percentile(values, 0.95) * 1000:>8.1f} {max(values) * 1000:>8.1f}")
    repeated = [v for label, values in timings.items()
                if not label.startswith("bare app") and not label.endswith("first time") for v in values]
    for name, values in (("ALL navigation keys", everything), ("ALL but first-time screens", repeated)):
        if values:
            print(f"{name:38} {len(values):>4} {statistics.median(values) * 1000:>10.1f} "
                  f"{percentile(values, 0.95) * 1000:>8.1f} {max(values) * 1000:>8.1f}")
        over = sum(v > 0.1 for v in values)
        if values:
            print(f"{'':38} {over} of {len(values)} over 100 ms")


async def run(path: Path, rounds: int, args_no_pause: bool = False) -> None:
    timings: dict[str, list[float]] = defaultdict(list)
    started = time.perf_counter()
    app = InsightApp(path, briefs_dir=Path(tempfile.mkdtemp()))
    async with app.run_test(size=SIZE) as pilot:
        clock = FrameClock(app)
        await pilot.pause()
        shell = time.perf_counter() - started
        while not app.screen.query_one("#overview-grid").display:
            await pilot.pause(0.005)
        first = time.perf_counter() - started
        print(f"first screen: importing insight and the TUI {IMPORT_SECONDS * 1000:.0f} ms, then app shell drawn in "
              f"{shell * 1000:.0f} ms, overview with data in {first * 1000:.0f} ms")
        if not args_no_pause:
            # A user reads the first screen before pressing a key: start-up's workers finish meanwhile.
            await asyncio.sleep(READING)
            print(f"the walk starts {READING:.1f} s after the first screen appeared (--no-pause: at once)")

        round_no = 0
        gc_clock = GcClock()

        async def key(label: str, name: str) -> None:
            # The first time a kind of screen opens, Textual composes and styles it: reported apart.
            if round_no == 0 and label.split(" (")[0] in ("2", "3", "4") or round_no == 0 and "open" in label:
                label = f"{label}, first time"
            timings[label].append(await press(pilot, clock, name))

        links_wait = None
        for round_no in range(rounds):  # noqa: B007 - read by key()
            await key("2 (to Themes)", "2")
            await press(pilot, clock, "ctrl+home")  # untimed: every round walks the same rows, not off the end
            for _ in range(10):
                await key("down (theme list)", "down")
            await key("right (a parent's sub-themes)", "right")
            for _ in range(3):
                await key("down (theme list)", "down")
            await key("left (up to the parent)", "left")
            await key("left (close its sub-themes)", "left")
            await key("pagedown (theme list)", "pagedown")
            await key("enter (open theme)", "enter")
            for _ in range(10):
                await key("down (quotes)", "down")
            for _ in range(3):
                await key("pagedown (quotes, lazy pages)", "pagedown")
            await key("enter (open document)", "enter")
            await key("escape (back)", "escape")
            await key("escape (back)", "escape")
            await key("3 (to Segments)", "3")
            if links_wait is None:
                links_wait = await wait_background(pilot)
                print(f"segment x theme links (background worker, compute_links): ready {links_wait:.2f} s later")
            await press(pilot, clock, "ctrl+home")  # untimed: start at the top, then a different segment each round
            for _ in range(round_no % 8):
                await press(pilot, clock, "down")
            for _ in range(3):
                await key("down (RFM table)", "down")
            await key("enter (open segment)", "enter")
            for _ in range(5):
                await key("down (segment themes -> quotes)", "down")
            await key("escape (back)", "escape")
            await key("4 (to Search)", "4")
            if round_no == 0:
                t0 = time.perf_counter()
                await pilot.app.workers.wait_for_complete()
                print(f"embedding index for 'similar' (background worker): ready {time.perf_counter() - t0:.2f} s later")
            await key("/ (focus search)", "slash")
            for name in ("ctrl+u", *"shipping"):  # typing, not navigation: untimed
                await press(pilot, clock, name)
            await key("enter (full-text search)", "enter")
            await key("down (results)", "down")
            await key("f (similar quotes)", "f")
            await key("1 (to Overview)", "1")
    report(timings, "insight TUI on the big database: key-to-frame latency")
    gc_clock.report()
    print(f"peak memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    report(await baseline(rounds), "the same harness on a bare Textual app (Header, DataTable, Footer)")
    load = os.getloadavg()
    print(f"\nload average during the run: {load[0]:.1f} (machine has {os.cpu_count()} cores)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path, nargs="?", default=Path(tempfile.gettempdir()) / "insight_big.db")
    parser.add_argument("--rounds", type=int, default=11)
    parser.add_argument("--no-pause", action="store_true", help="press the first key as soon as the first screen is drawn")
    args = parser.parse_args()
    if not args.path.exists():
        print(f"building {args.path} (100,000 units, 200 themes)…")
        build(args.path)
    db = queries.connect_read(args.path)
    state = queries.db_state(db)
    print(f"{args.path}: {state.units:,} units ({state.documents:,} documents), {state.themes} themes")
    db.conn.close()
    asyncio.run(run(args.path, args.rounds, args.no_pause))


if __name__ == "__main__":
    main()
