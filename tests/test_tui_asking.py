"""tui.asking: an answer lands only while its request is still the latest of its topic."""

from __future__ import annotations

import threading

import pytest
from textual.app import App

from tui.asking import Asking


class Asker(Asking, App):
    pass


@pytest.mark.asyncio
async def test_only_the_latest_request_of_a_topic_lands_and_a_forgotten_one_never():
    app = Asker()
    landed: list[str] = []
    release = threading.Event()

    def slow() -> str:
        release.wait(5)
        return "old words"

    async with app.run_test() as pilot:
        app.ask("search", "old", slow, landed.append)
        app.ask("search", "new", lambda: "new words", landed.append)  # asked before the first one answered
        await pilot.pause(0.1)
        assert landed == ["new words"]
        release.set()  # the old one answers now, late
        await pilot.pause(0.2)
        assert landed == ["new words"]
        app.ask("brief", "Champions", lambda: "brief", landed.append)
        app.forget("brief")  # the screen moved to another segment
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert landed == ["new words"] and app.wanted("brief") is None


@pytest.mark.asyncio
async def test_a_failed_request_goes_to_its_failure_handler_not_to_the_result_one():
    app = Asker()
    results: list[object] = []
    errors: list[str] = []

    def fails() -> str:
        raise RuntimeError("database is locked")

    async with app.run_test() as pilot:
        app.ask("page", 1, fails, results.append, lambda exc: errors.append(str(exc)))
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert results == [] and errors == ["database is locked"]
