"""The TUI's garbage collector pacing: full collections wait for a pause in the user's input."""

from __future__ import annotations

import gc

from tui.idle_gc import NEVER, IdleCollector


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_full_collections_are_off_while_running_and_restored_after():
    before = gc.get_threshold()
    collector = IdleCollector()
    collector.start()
    try:
        assert gc.get_threshold() == (before[0], before[1], NEVER)
    finally:
        collector.stop()
    assert gc.get_threshold() == before


def test_a_collection_waits_for_a_pause_after_input_and_runs_once():
    clock = FakeClock()
    collector = IdleCollector(quiet=1.0, clock=clock)
    assert not collector.tick()  # no input yet: nothing to collect for
    collector.touched()
    clock.now += 0.5
    assert not collector.tick()  # the user is still typing
    clock.now += 0.6
    assert collector.tick() and collector.collections == 1
    clock.now += 5
    assert not collector.tick()  # nothing happened since
    collector.touched()
    clock.now += 1.0
    assert collector.tick() and collector.collections == 2
