"""TUI speed on a large database: time to the first drawn screen, and how fast each navigation key answers.

Drives the real app headless with Textual's Pilot on a 100,000-unit / 200-theme database made by
bench/make_big_db.py (built first if missing). A key "answers" when it has been handled, the screen has
refreshed and the workers it started (page loads) have finished; the link statistics (compute_links) and
the embedding index for "similar" load in background workers and are timed separately.

    .venv/bin/python bench/tui_speed.py [/tmp/big.db] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from textual.app import App, ComposeResult
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header
from textual.worker import WorkerState

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.make_big_db import build  # noqa: E402
from insight import queries  # noqa: E402
from tui.app import InsightApp  # noqa: E402

BACKGROUND = {"links", "vectors"}
SIZE = (160, 48)


async def answered(pilot) -> None:
    """Wait until the key's own work is done (background groups excepted) and the screen is redrawn."""
    await pilot.pause()
    while True:
        pending = [w for w in pilot.app.workers
                   if w.group not in BACKGROUND and w.state in (WorkerState.PENDING, WorkerState.RUNNING)]
        if not pending:
            break
        await asyncio.gather(*(w.wait() for w in pending), return_exceptions=True)
    await pilot.pause()


async def wait_background(pilot) -> float:
    started = time.perf_counter()
    await pilot.app.workers.wait_for_complete()
    return time.perf_counter() - started


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
    async with _Baseline().run_test(size=SIZE) as pilot:
        await answered(pilot)
        for _ in range(rounds):
            for _ in range(10):
                t0 = time.perf_counter()
                await pilot.press("down")
                await answered(pilot)
                timings["baseline: down in a bare DataTable"].append(time.perf_counter() - t0)
            for key in ("2", "1"):
                t0 = time.perf_counter()
                await pilot.press(key)
                await answered(pilot)
                timings["baseline: switch between bare screens"].append(time.perf_counter() - t0)
    return timings


def report(timings: dict[str, list[float]], title: str) -> None:
    everything = [v for label, values in timings.items() if not label.startswith("baseline") for v in values]
    print(f"\n{title}\n{'key':38} {'n':>4} {'median ms':>10} {'p95 ms':>8} {'max ms':>8}")
    for label, values in timings.items():
        print(f"{label:38} {len(values):>4} {statistics.median(values) * 1000:>10.1f} "
              f"{percentile(values, 0.95) * 1000:>8.1f} {max(values) * 1000:>8.1f}")
    if everything:
        print(f"{'ALL navigation keys':38} {len(everything):>4} {statistics.median(everything) * 1000:>10.1f} "
              f"{percentile(everything, 0.95) * 1000:>8.1f} {max(everything) * 1000:>8.1f}")


async def run(path: Path, rounds: int) -> None:
    timings: dict[str, list[float]] = defaultdict(list)
    started = time.perf_counter()
    app = InsightApp(path, briefs_dir=Path(tempfile.mkdtemp()))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        shell = time.perf_counter() - started
        while not app.screen.query_one("#overview-grid").display:
            await pilot.pause(0.005)
        first = time.perf_counter() - started
        print(f"first screen: app shell drawn in {shell * 1000:.0f} ms, overview with data in {first * 1000:.0f} ms")

        async def key(label: str, *keys: str) -> None:
            t0 = time.perf_counter()
            await pilot.press(*keys)
            await answered(pilot)
            timings[label].append(time.perf_counter() - t0)

        links_wait = None
        for round_no in range(rounds):
            await key("2 (to Themes)", "2")
            for _ in range(10):
                await key("down (theme list)", "down")
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
            await pilot.press("ctrl+u", *"shipping")
            await key("enter (full-text search)", "enter")
            await key("down (results)", "down")
            await key("f (similar quotes)", "f")
            await key("1 (to Overview)", "1")
    report(timings, "insight TUI on the big database")
    report(await baseline(rounds), "the same harness on a bare Textual app (machine + Pilot floor)")
    load = os.getloadavg()
    print(f"\nload average during the run: {load[0]:.1f} (machine has {os.cpu_count()} cores)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path, nargs="?", default=Path(tempfile.gettempdir()) / "insight_big.db")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    if not args.path.exists():
        print(f"building {args.path} (100,000 units, 200 themes)…")
        build(args.path)
    db = queries.connect_read(args.path)
    state = queries.db_state(db)
    print(f"{args.path}: {state.units:,} units ({state.documents:,} documents), {state.themes} themes")
    db.conn.close()
    asyncio.run(run(args.path, args.rounds))


if __name__ == "__main__":
    main()
